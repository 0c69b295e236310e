"""Circuit breakers per connector route, shared by every gateway instance through the cache.

A route whose wallet keeps failing at the transport level (refused connections, timeouts)
is left alone for a while: new payments go to the next route for the wallet, or fail at
once as never sent, instead of piling up timeouts. In production the counts live in Redis,
so every instance sees the same breaker.

Each window counts a route's calls and its failures. A failure is counted at once, and
decides; calls that went well are added to the shared count about once a second per
process (so a healthy payment costs no round trip to Redis), and always before a failure
is judged.

Whether a breaker is open is read from the shared cache at most about once a second per
route and process, like the successes: another instance's opening is seen within that
second (and a payment sent meanwhile to a route that refuses connections fails over
safely); an opening decided here is seen at once.

The window slides: a failure is judged on the current window's counts plus the previous
window's, weighted by how much of it still lies within ``window_seconds`` of now. Fixed
windows alone would forget every call at each boundary, so a burst of failures across
one would never reach ``minimum_calls``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable

from gateway.coordination import Cache
from routing import BreakerPolicy

__all__ = ["Breakers"]

log = logging.getLogger("causeway.breakers")


class Breakers:
    """Open or closed, per route, from the calls and failures recorded against it."""

    #: How long calls that went well may wait in the process before they are shared.
    FLUSH_SECONDS = 1.0

    def __init__(
        self,
        cache: Cache,
        policy: BreakerPolicy | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._cache = cache
        self._policy = policy or BreakerPolicy()
        self._clock = clock
        self._unshared: Counter[tuple[str, int]] = Counter()  # (route, window) → calls
        self._shared_at = clock()
        self._seen: dict[str, tuple[float, bool]] = {}  # route → (read at, open)

    async def is_open(self, route: str) -> bool:
        now = self._clock()
        seen = self._seen.get(route)
        if seen is not None and 0 <= now - seen[0] < self.FLUSH_SECONDS:
            return seen[1]
        opened = await self._cache.get(f"breaker:{route}:open") is not None
        self._seen[route] = (now, opened)
        return opened

    async def succeeded(self, route: str) -> None:
        """Count a call the wallet answered."""
        self._unshared[(route, self._window())] += 1
        if self._clock() - self._shared_at >= self.FLUSH_SECONDS:
            await self._share()

    async def failed(self, route: str) -> None:
        """Count a transport failure; open the breaker if the window's ratio calls for it."""
        policy = self._policy
        window = self._window()
        self._unshared[(route, window)] += 1
        await self._share()
        kept = 1.0 - (self._clock() % policy.window_seconds) / policy.window_seconds
        failures: float = await self._cache.incr(
            f"breaker:{route}:failures:{window}", ttl=2 * policy.window_seconds
        )
        earlier_failures, calls_now, earlier_calls = await asyncio.gather(
            self._count(f"breaker:{route}:failures:{window - 1}"),
            self._count(f"breaker:{route}:calls:{window}"),
            self._count(f"breaker:{route}:calls:{window - 1}"),
        )
        failures += kept * earlier_failures
        calls = calls_now + kept * earlier_calls
        if calls < policy.minimum_calls or failures < policy.failure_ratio * calls:
            return
        self._seen.pop(route, None)  # judge on the shared state, not on a second-old view
        if not await self.is_open(route):
            log.warning(
                "route %s: %d of %d calls failed; breaker open for %ss",
                route,
                round(failures),
                round(calls),
                policy.open_seconds,
            )
            await self._cache.set(f"breaker:{route}:open", "1", ttl=policy.open_seconds)
            self._seen[route] = (self._clock(), True)

    async def _count(self, key: str) -> int:
        return int(await self._cache.get(key) or 0)

    def _window(self) -> int:
        return int(self._clock() // self._policy.window_seconds)

    async def _share(self) -> None:
        unshared, self._unshared = self._unshared, Counter()
        self._shared_at = self._clock()
        ttl = 2 * self._policy.window_seconds
        await asyncio.gather(
            *(
                self._cache.incr(f"breaker:{route}:calls:{window}", ttl=ttl, by=calls)
                for (route, window), calls in unshared.items()
            )
        )
