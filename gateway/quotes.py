"""Locked FX quotes, shared by every gateway instance through the cache.

A quote is reused while it has at least ``reuse_margin`` of life left, so the payments of
a busy minute share one price (as a wallet expects) and the rate source is not asked for
every payment. Every payment stores the quote it used, so an evicted cache entry never
changes a stored amount.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from fx import Direction, Quote, Quoter, quote_from_dict, quote_to_dict
from gateway.coordination import Cache

__all__ = ["QuoteBook"]


class QuoteBook:
    """Hands out the current quote for a currency pair and direction."""

    def __init__(
        self, quoter: Quoter, cache: Cache, *, reuse_margin: timedelta = timedelta(seconds=60)
    ) -> None:
        self._quoter = quoter
        self._cache = cache
        self._margin = reuse_margin

    async def quote(self, base: str, quote: str, direction: Direction) -> Quote:
        key = f"quote:{base}/{quote}:{direction.value}"
        now = datetime.now(UTC)
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
