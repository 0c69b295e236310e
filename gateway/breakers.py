"""Circuit breakers per connector route, shared by every gateway instance through the cache.

A route whose wallet keeps failing at the transport level (refused connections, timeouts)
is left alone for a while: new payments go to the next route for the wallet, or fail at
once as never sent, instead of piling up timeouts. In production the counts live in Redis,
so every instance sees the same breaker.
"""

from __future__ import annotations

import logging
import time

from gateway.coordination import Cache
from routing import BreakerPolicy

__all__ = ["Breakers"]

log = logging.getLogger("causeway.breakers")


class Breakers:
    """Open or closed, per route, from the failures recorded against it."""

    def __init__(self, cache: Cache, policy: BreakerPolicy | None = None) -> None:
        self._cache = cache
        self._policy = policy or BreakerPolicy()

    async def is_open(self, route: str) -> bool:
        return await self._cache.get(f"breaker:{route}:open") is not None

    async def failed(self, route: str) -> None:
        """Count a transport failure; open the breaker when the window holds enough."""
        policy = self._policy
        window = int(time.time() // policy.window_seconds)
        count = await self._cache.incr(
            f"breaker:{route}:failures:{window}", ttl=policy.window_seconds
        )
        if count == policy.failures:
            log.warning(
                "route %s: %d failures; breaker open for %ss", route, count, policy.open_seconds
            )
            await self._cache.set(f"breaker:{route}:open", "1", ttl=policy.open_seconds)
