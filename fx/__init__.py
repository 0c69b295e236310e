"""Money, exchange rates and FX quotes for Causeway.

Amounts are integer minor units (:class:`Money`), with each currency's exponent taken from
ISO 4217 through the maintained ``iso4217`` library. Rates are ``Decimal`` mids from a
pluggable :class:`RateSource`; a :class:`Quoter` adds the hub's spread and locks a
:class:`Quote` for a time-to-live. Every rounding names its mode: :data:`AMOUNT_ROUNDING`,
:data:`PRICE_ROUNDING`, :data:`RATE_ROUNDING`.

Nothing here imports the rest of Causeway, and importing it reads no configuration.
"""

from __future__ import annotations

from fx._errors import CurrencyMismatch, FXError, RateUnavailable, UnknownCurrency
from fx.money import AMOUNT_ROUNDING, Money, exponent, is_currency, numeric_code
from fx.quote import (
    PRICE_PLACES,
    PRICE_ROUNDING,
    Direction,
    Quote,
    Quoter,
    quote_from_dict,
    quote_to_dict,
)
from fx.rates import RATE_PLACES, RATE_ROUNDING, Rate, RateSource, StaticRates

__all__ = [
    "AMOUNT_ROUNDING",
    "PRICE_PLACES",
    "PRICE_ROUNDING",
    "RATE_PLACES",
    "RATE_ROUNDING",
    "CurrencyMismatch",
    "Direction",
    "FXError",
    "Money",
    "Quote",
    "Quoter",
    "Rate",
    "RateSource",
    "RateUnavailable",
    "StaticRates",
    "UnknownCurrency",
    "exponent",
    "is_currency",
    "numeric_code",
    "quote_from_dict",
    "quote_to_dict",
]
