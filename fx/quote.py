"""Locked FX quotes: a price for one currency pair and direction, valid for a short window.

The amounts charged and settled for a payment are computed once from its quotes and stored;
a refund reuses the original quote. A :class:`Quote` therefore round-trips losslessly
through plain strings (:func:`quote_to_dict`, :func:`quote_from_dict`) for a JSON column or
a cache entry.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import assert_never

from fx._errors import CurrencyMismatch, FXError
from fx._values import EXACT, QUANTIZING, parse_decimal, require_aware, require_positive, split_pair
from fx.money import AMOUNT_ROUNDING, Money, exponent
from fx.rates import RateSource

__all__ = [
    "PRICE_PLACES",
    "PRICE_ROUNDING",
    "Direction",
    "Quote",
    "Quoter",
    "quote_from_dict",
    "quote_to_dict",
]

#: Decimal places kept in a quoted price. Twelve, like a derived mid (``fx.RATE_PLACES``):
#: with eight, a price as small as IDR→USD (≈ 0.0000616) keeps four significant digits and
#: moves in steps of 1.6 basis points, which would swamp a tight spread.
PRICE_PLACES = 12
#: How a price is rounded to :data:`PRICE_PLACES`: half-even, unbiased across many quotes.
#: Rounding is monotone, so whenever the mid itself has at most PRICE_PLACES decimals (every
#: inverse or cross mid from :class:`~fx.StaticRates` does) a COLLECT price is never below the
#: mid and a PAY_OUT price never above it.
PRICE_ROUNDING = ROUND_HALF_EVEN

_PRICE_STEP = Decimal(1).scaleb(-PRICE_PLACES)
_BPS_DIGITS = 4
_BPS_PER_UNIT = 10**_BPS_DIGITS


class Direction(StrEnum):
    """Which way the hub's money moves in the quote currency, and so which way the spread goes."""

    #: The hub collects the quote currency: it charges the traveller's wallet ₩ for a ฿
    #: purchase (THB/KRW). The price is the mid marked up by the spread.
    COLLECT = "collect"
    #: The hub pays the quote currency out: it settles $ to an acquirer for ฿ sales
    #: (THB/USD). The price is the mid marked down by the spread.
    PAY_OUT = "pay_out"


@dataclass(frozen=True, slots=True)
class Quote:
    """A locked price: one unit of ``base`` is worth ``price`` units of ``quote`` (major units).

    ``mid`` and ``spread_bps`` record how the price was made. The quote may be used for
    instants in ``[start, expiry)``; both carry a UTC offset.
    """

    quote_id: str
    base: str
    quote: str
    price: Decimal
    mid: Decimal
    spread_bps: int
    direction: Direction
    start: datetime
    expiry: datetime

    def __post_init__(self) -> None:
        if not isinstance(self.quote_id, str) or not self.quote_id:
            raise FXError(f"a quote needs a non-empty id, got {self.quote_id!r}")
        exponent(self.base)
        exponent(self.quote)
        require_positive(self.price, what=f"price of {self.pair}")
        require_positive(self.mid, what=f"mid of {self.pair}")
        _require_bps(self.spread_bps, what=f"spread of {self.pair}")
        if not isinstance(self.direction, Direction):
            raise TypeError(f"direction must be a Direction, not {self.direction!r}")
        require_aware(self.start, what="start")
        require_aware(self.expiry, what="expiry")
        if self.expiry <= self.start:
            raise FXError(f"quote {self.quote_id} expires at or before its start")

    @property
    def pair(self) -> str:
        """The pair as written in configuration: ``"THB/KRW"``."""
        return f"{self.base}/{self.quote}"

    def is_valid_at(self, moment: datetime) -> bool:
        """Return whether ``moment`` (timezone-aware) falls in ``[start, expiry)``."""
        return self.start <= require_aware(moment, what="moment") < self.expiry

    def convert(self, amount: Money) -> Money:
        """Convert an amount in ``base`` to ``quote``, rounding with ``AMOUNT_ROUNDING``.

        ``amount * price`` is computed exactly, then rounded once to the quote currency's
        minor unit, so the result is within half a minor unit of the exact product.
        """
        if amount.currency != self.base:
            detail = f"a {self.pair} quote converts {self.base} only"
            raise CurrencyMismatch(amount.currency, self.base, detail)
        major = EXACT.multiply(amount.to_major(), self.price)
        return Money.from_major(self.quote, major, AMOUNT_ROUNDING)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Quoter:
    """Makes quotes from a rate source, the hub's spreads and a time-to-live.

    ``spreads_bps`` is keyed by pair in quote direction (``"THB/KRW"`` does not cover
    ``"KRW/THB"``); a pair not in it gets ``default_spread_bps``.
    """

    def __init__(
        self,
        rates: RateSource,
        *,
        spreads_bps: Mapping[str, int],
        default_spread_bps: int,
        ttl: timedelta,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        spreads: dict[str, int] = {}
        for pair, bps in spreads_bps.items():
            for code in split_pair(pair, what="spread"):
                exponent(code)
            spreads[pair] = _require_bps(bps, what=f"spread for {pair}")
        if not isinstance(ttl, timedelta) or ttl <= timedelta(0):
            raise FXError(f"a quote's ttl must be a positive timedelta, got {ttl!r}")
        self._rates = rates
        self._spreads = spreads
        self._default_spread_bps = _require_bps(default_spread_bps, what="default spread")
        self._ttl = ttl
        self._clock = clock

    async def quote(self, base: str, quote: str, direction: Direction) -> Quote:
        """Lock a price for ``base``/``quote`` in ``direction``, starting now.

        Raises:
            UnknownCurrency: for a code that is not a payment currency.
            RateUnavailable: when the rate source cannot price the pair.
        """
        exponent(base)
        exponent(quote)
        direction = Direction(direction)
        if base == quote:
            # Nothing is exchanged, so there is nothing to charge a spread on.
            mid = price = Decimal(1)
            spread = 0
        else:
            rate = await self._rates.rate(base, quote)
            if (rate.base, rate.quote) != (base, quote):
                # A third-party source answering the wrong pair would otherwise be priced.
                raise FXError(f"asked for {base}/{quote}, the rate source gave {rate}")
            mid = rate.mid
            spread = self._spreads.get(f"{base}/{quote}", self._default_spread_bps)
            match direction:
                case Direction.COLLECT:
                    factor = _BPS_PER_UNIT + spread
                case Direction.PAY_OUT:
                    factor = _BPS_PER_UNIT - spread
                case _:
                    assert_never(direction)
            # mid * factor / 10,000 is exact (dividing by 10**4 only shifts the exponent), so
            # the quantize below is the one rounding a price goes through.
            exact = EXACT.multiply(mid, Decimal(factor)).scaleb(-_BPS_DIGITS, context=EXACT)
            price = exact.quantize(_PRICE_STEP, rounding=PRICE_ROUNDING, context=QUANTIZING)
        start = require_aware(self._clock(), what="the quoter's clock")
        return Quote(
            quote_id=f"q_{uuid.uuid4().hex}",
            base=base,
            quote=quote,
            price=price,
            mid=mid,
            spread_bps=spread,
            direction=direction,
            start=start,
            expiry=start + self._ttl,
        )


_DICT_KEYS = tuple(field.name for field in fields(Quote))


def quote_to_dict(q: Quote) -> dict[str, str]:
    """Write a quote as strings only: Decimals in full, datetimes in ISO 8601 with offset."""
    return {
        "quote_id": q.quote_id,
        "base": q.base,
        "quote": q.quote,
        "price": str(q.price),
        "mid": str(q.mid),
        "spread_bps": str(q.spread_bps),
        "direction": q.direction.value,
        "start": q.start.isoformat(),
        "expiry": q.expiry.isoformat(),
    }


def quote_from_dict(d: Mapping[str, str]) -> Quote:
    """Read back what :func:`quote_to_dict` wrote; the result equals the original quote."""
    missing = [key for key in _DICT_KEYS if key not in d]
    if missing:
        raise FXError(f"a stored quote lacks {', '.join(missing)}")
    try:
        return Quote(
            quote_id=d["quote_id"],
            base=d["base"],
            quote=d["quote"],
            price=parse_decimal(d["price"], what="price"),
            mid=parse_decimal(d["mid"], what="mid"),
            spread_bps=_parse_bps(d["spread_bps"]),
            direction=Direction(d["direction"]),
            start=datetime.fromisoformat(d["start"]),
            expiry=datetime.fromisoformat(d["expiry"]),
        )
    except FXError:
        raise
    except (TypeError, ValueError) as exc:
        raise FXError(f"stored quote {d.get('quote_id')!r} is malformed: {exc}") from exc


def _require_bps(bps: int, *, what: str) -> int:
    # bool is an int subclass; True basis points is a typo, not a spread.
    if not isinstance(bps, int) or isinstance(bps, bool):
        raise FXError(f"{what} must be a whole number of basis points, got {bps!r}")
    if not 0 <= bps < _BPS_PER_UNIT:
        raise FXError(f"{what} must be from 0 to 9999 basis points, got {bps}")
    return bps


def _parse_bps(text: str) -> int:
    if not (isinstance(text, str) and text.isascii() and text.isdigit()):
        raise FXError(f"spread_bps must be digits, got {text!r}")
    return int(text)
