"""Mid-market rates: the :class:`Rate` value, the :class:`RateSource` contract and
:class:`StaticRates`, the source behind the embedded default (``config/fx.toml``).

A rate is a mid, with no spread in it: the hub's margin is added by :class:`~fx.Quoter`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation, Overflow
from pathlib import Path
from typing import Any, Protocol

from fx._errors import FXError, RateUnavailable
from fx._values import EXACT, QUANTIZING, parse_decimal, require_aware, require_positive, split_pair
from fx.money import exponent

__all__ = ["RATE_PLACES", "RATE_ROUNDING", "Rate", "RateSource", "StaticRates"]

#: Decimal places kept in a derived (inverse or cross) mid. Twelve places keep eight
#: significant digits even for a rate as small as IDR→EUR (≈ 0.0000537); eight places would
#: leave four, a step of almost two basis points.
RATE_PLACES = 12
#: How a derived mid is rounded to :data:`RATE_PLACES`. A mid favours no one, so the
#: rounding is the unbiased one.
RATE_ROUNDING = ROUND_HALF_EVEN

_RATE_STEP = Decimal(1).scaleb(-RATE_PLACES)
# A quotient is computed at the usual 28 significant digits, then quantized to RATE_PLACES.
_DIVIDING = Context(
    prec=28, rounding=RATE_ROUNDING, traps=[InvalidOperation, DivisionByZero, Overflow]
)
_FILE_KEYS = frozenset({"source", "as_of", "pivot", "rates"})

# A rate as an exact numerator/denominator, so that a cross rate through the pivot costs one
# division (one rounding) however its two legs are quoted.
_Ratio = tuple[Decimal, Decimal]


@dataclass(frozen=True, slots=True)
class Rate:
    """A mid-market rate: one unit of ``base`` buys ``mid`` units of ``quote`` (major units).

    ``Rate("USD", "KRW", Decimal("1385.20"), as_of, "static")`` says $1 = ₩1,385.20.
    """

    base: str
    quote: str
    mid: Decimal
    as_of: datetime
    source: str

    def __post_init__(self) -> None:
        exponent(self.base)
        exponent(self.quote)
        require_positive(self.mid, what=f"rate {self.base}/{self.quote}")
        require_aware(self.as_of, what="as_of")


class RateSource(Protocol):
    """Where mid-market rates come from: a static file, an HTTP feed, the best of several."""

    async def rate(self, base: str, quote: str) -> Rate:
        """Return the current mid for ``base``/``quote``.

        Must answer a pair of one currency with a mid of 1, raise :class:`~fx.UnknownCurrency`
        for a code that is not a payment currency, and raise :class:`~fx.RateUnavailable`
        when it cannot price the pair.
        """
        ...


class StaticRates:
    """A fixed table of mids, for the embedded default, demos and tests.

    Answers a pair given in the table, its inverse, and any cross of two currencies that
    both have a rate against the ``pivot``. Every rate it returns carries the table's
    ``as_of`` and ``source``. Give each pair in one direction only: the other is derived.
    """

    def __init__(
        self, rates: Mapping[str, Decimal], as_of: datetime, source: str, pivot: str = "USD"
    ) -> None:
        self._as_of = require_aware(as_of, what="as_of")
        if not isinstance(source, str) or not source:
            raise FXError("a rate source needs a non-empty name")
        exponent(pivot)
        if not rates:
            raise FXError("a static rate table needs at least one rate")
        table: dict[tuple[str, str], Decimal] = {}
        for pair, mid in rates.items():
            base, quote = split_pair(pair, what="rate")
            exponent(base)
            exponent(quote)
            table[base, quote] = require_positive(mid, what=f"rate {pair}")
            if (quote, base) in table:
                raise FXError(f"rate {pair} is given in both directions: give one of them")
        self._table = table
        self._source = source
        self._pivot = pivot

    @classmethod
    def from_file(cls, path: Path) -> StaticRates:
        """Load a rate file (TOML) and validate every entry.

        ```toml
        source = "static"
        as_of = "2026-11-20T08:00:00Z"
        pivot = "USD"            # optional, USD by default
        [rates]
        "USD/KRW" = "1385.20"    # strings: a float rate has already lost digits
        ```
        """
        try:
            with path.open("rb") as file:
                document = tomllib.load(file)
            return cls._from_document(document)
        except tomllib.TOMLDecodeError as exc:
            raise FXError(f"{path}: not a valid TOML file: {exc}") from exc
        except FXError as exc:
            exc.add_note(f"while loading the rate file {path}")
            raise

    @classmethod
    def _from_document(cls, document: dict[str, Any]) -> StaticRates:
        unknown = sorted(set(document) - _FILE_KEYS)
        if unknown:
            raise FXError(f"unknown keys {unknown}: expected {sorted(_FILE_KEYS)}")
        source = document.get("source")
        if not isinstance(source, str):
            raise FXError("'source' must be a string naming where the rates come from")
        pivot = document.get("pivot", "USD")
        if not isinstance(pivot, str):
            raise FXError("'pivot' must be a currency code")
        table = document.get("rates")
        if not isinstance(table, dict):
            raise FXError("a [rates] table is required")
        rates: dict[str, Decimal] = {}
        for pair, text in table.items():
            if isinstance(text, float):
                raise FXError(
                    f"rate {pair} is the float {text!r}: floats in a rate file are a mistake "
                    f'because they lose digits; write it as a string, "{pair}" = "1385.20"'
                )
            if not isinstance(text, str):
                raise FXError(f'rate {pair} must be a string like "1385.20"')
            rates[pair] = parse_decimal(text, what=f"rate {pair}")
        return cls(rates, _read_as_of(document.get("as_of")), source, pivot)

    async def rate(self, base: str, quote: str) -> Rate:
        """Return the mid for ``base``/``quote``: direct, inverse, or crossed via the pivot.

        A derived mid is computed at 28 significant digits and quantized to
        :data:`RATE_PLACES` with :data:`RATE_ROUNDING`.
        """
        exponent(base)
        exponent(quote)
        if base == quote:
            return Rate(base, quote, Decimal(1), self._as_of, self._source)
        direct = self._table.get((base, quote))
        if direct is not None:
            return Rate(base, quote, direct, self._as_of, self._source)
        ratio = self._ratio(base, quote)
        if ratio is None:
            to_pivot = self._ratio(base, self._pivot)
            from_pivot = self._ratio(self._pivot, quote)
            if to_pivot is None or from_pivot is None:
                detail = f"{self._source} has it neither directly nor through {self._pivot}"
                raise RateUnavailable(base, quote, detail)
            ratio = (
                EXACT.multiply(to_pivot[0], from_pivot[0]),
                EXACT.multiply(to_pivot[1], from_pivot[1]),
            )
        quotient = _DIVIDING.divide(*ratio)
        mid = quotient.quantize(_RATE_STEP, rounding=RATE_ROUNDING, context=QUANTIZING)
        return Rate(base, quote, mid, self._as_of, self._source)

    def _ratio(self, base: str, quote: str) -> _Ratio | None:
        if base == quote:
            return Decimal(1), Decimal(1)
        if (base, quote) in self._table:
            return self._table[base, quote], Decimal(1)
        if (quote, base) in self._table:
            return Decimal(1), self._table[quote, base]
        return None

    def __repr__(self) -> str:
        return (
            f"StaticRates(source={self._source!r}, as_of={self._as_of.isoformat()!r}, "
            f"pivot={self._pivot!r}, pairs={len(self._table)})"
        )


def _read_as_of(value: object) -> datetime:
    # The documented form is an ISO 8601 string; TOML's native offset date-time works too.
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise FXError(f"'as_of' is not an ISO 8601 date-time: {value!r}") from exc
    if isinstance(value, datetime):
        return require_aware(value, what="as_of")
    raise FXError("'as_of' is required: the date-time the rates were observed, with an offset")
