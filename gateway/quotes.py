"""Locked FX quotes, shared by every gateway instance through the cache.

A quote is reused while it has at least ``reuse_margin`` of life left, so the payments of
a busy minute share one price (as a wallet expects) and the rate source is not asked for
every payment. Every payment stores the quote it used, so an evicted cache entry never
changes a stored amount.

Each process also holds the quote it last read for a few seconds (``hold``), so a busy
gateway does not ask the shared cache for every payment; the reuse margin applies to a
held quote just the same, so it is still valid for the whole life of the payment.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from fx import Direction, Quote, Quoter, quote_from_dict, quote_to_dict
from gateway.coordination import Cache

__all__ = ["QuoteBook"]


class QuoteBook:
    """Hands out the current quote for a currency pair and direction."""

    def __init__(
        self,
        quoter: Quoter,
        cache: Cache,
        *,
        reuse_margin: timedelta = timedelta(seconds=60),
        hold: timedelta = timedelta(seconds=5),
    ) -> None:
        self._quoter = quoter
        self._cache = cache
        self._margin = reuse_margin
        self._hold = hold.total_seconds()
        self._held: dict[str, tuple[float, Quote]] = {}  # key -> (monotonic expiry, quote)

    async def quote(self, base: str, quote: str, direction: Direction) -> Quote:
        key = f"quote:{base}/{quote}:{direction.value}"
        now = datetime.now(UTC)
        held = self._held.get(key)
        if (
            held is not None
            and time.monotonic() < held[0]
            and held[1].is_valid_at(now + self._margin)
        ):
            return held[1]
        found = await self._shared(key, base, quote, direction, now)
        self._held[key] = (time.monotonic() + self._hold, found)
        return found

    async def _shared(
        self, key: str, base: str, quote: str, direction: Direction, now: datetime
    ) -> Quote:
        """The quote every instance uses, from the cache or freshly locked into it."""
        cached = await self._cache.get(key)
        if cached is not None:
            found = quote_from_dict(json.loads(cached))
            if found.is_valid_at(now + self._margin):
                return found
        fresh = await self._quoter.quote(base, quote, direction)
        ttl = (fresh.expiry - now - self._margin).total_seconds()
        if ttl > 0:
            await self._cache.set(key, json.dumps(quote_to_dict(fresh)), ttl=ttl)
        return fresh
