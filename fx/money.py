"""Amounts of money in integer minor units, with ISO 4217 exponents from a maintained table.

An amount is never a float and never a bare ``Decimal``: it is a currency and a whole number
of that currency's minor units (cents, satang, yen). ``Decimal`` appears only at the edges,
when an amount is shown in major units or built from a computed major-unit value, and that
last step always names its rounding mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import (
    ROUND_05UP,
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
)

from iso4217 import Currency

from fx._errors import CurrencyMismatch, FXError, UnknownCurrency
from fx._values import EXACT

__all__ = ["AMOUNT_ROUNDING", "Money", "exponent", "is_currency", "numeric_code"]

#: How a converted amount is rounded to minor units. Half-up (ties away from zero, as
#: ``decimal`` defines it) is the commercial rounding travellers, merchants and wallets
#: expect and can reproduce by hand; because it is symmetric about zero, a refund converts to
#: exactly the negation of the payment it reverses.
AMOUNT_ROUNDING = ROUND_HALF_UP

_ROUNDING_MODES = frozenset(
    {
        ROUND_05UP,
        ROUND_CEILING,
        ROUND_DOWN,
        ROUND_FLOOR,
        ROUND_HALF_DOWN,
        ROUND_HALF_EVEN,
        ROUND_HALF_UP,
        ROUND_UP,
    }
)


def exponent(currency: str) -> int:
    """Return the number of minor-unit digits of ``currency``: ``JPY`` → 0, ``USD`` → 2.

    Only currencies usable for payments qualify: an upper-case ISO 4217 code whose minor
    unit is defined. Funds and metals such as ``XAU`` (minor unit "N.A.") are rejected.

    Raises:
        UnknownCurrency: for anything else.
    """
    if not isinstance(currency, str):
        raise UnknownCurrency(repr(currency), "a currency code must be a string")
    try:
        digits = Currency(currency).exponent
    except ValueError:
        if currency.upper() != currency and is_currency(currency.upper()):
            raise UnknownCurrency(currency, "currency codes are upper case") from None
        raise UnknownCurrency(currency) from None
    if digits is None:
        raise UnknownCurrency(currency, "ISO 4217 defines no minor unit for it")
    return digits


def numeric_code(currency: str) -> str:
    """The ISO 4217 numeric code, three digits: ``THB`` → ``"764"``, ``USD`` → ``"840"``.

    Raises:
        UnknownCurrency: for a code :func:`exponent` rejects.
    """
    exponent(currency)
    return f"{Currency(currency).number:03d}"


def is_currency(code: str) -> bool:
    """Return whether ``code`` is a currency :class:`Money` accepts (see :func:`exponent`)."""
    try:
        exponent(code)
    except UnknownCurrency:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount: ``Money("JPY", 1200)`` is ¥1,200 and ``Money("USD", 1234)`` is $12.34.

    Arithmetic and ordering work only within one currency and raise
    :class:`~fx.CurrencyMismatch` otherwise. Equality never raises: amounts in different
    currencies are simply unequal.
    """

    currency: str
    minor: int

    def __post_init__(self) -> None:
        exponent(self.currency)
        # bool is an int subclass, and True cents is always a bug.
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise TypeError(f"minor units must be an int, not {type(self.minor).__name__}")

    @classmethod
    def from_major(cls, currency: str, amount: Decimal, rounding: str) -> Money:
        """Build an amount from a major-unit ``Decimal``, rounding with the named mode.

        ``Money.from_major("USD", Decimal("12.345"), ROUND_HALF_UP)`` is $12.35.
        """
        if not isinstance(amount, Decimal):
            raise TypeError(f"a major-unit amount must be a Decimal, not {type(amount).__name__}")
        if not amount.is_finite():
            raise FXError(f"a major-unit amount must be finite, not {amount}")
        if rounding not in _ROUNDING_MODES:
            raise FXError(f"{rounding!r} is not a decimal rounding mode")
        scaled = amount.scaleb(exponent(currency), context=EXACT)
        return cls(currency, int(scaled.to_integral_value(rounding=rounding, context=EXACT)))

    def to_major(self) -> Decimal:
        """Return the amount in major units, exactly: ``Money("USD", 1234)`` → ``12.34``."""
        return Decimal(self.minor).scaleb(-exponent(self.currency), context=EXACT)

    def is_zero(self) -> bool:
        """Return whether the amount is zero."""
        return self.minor == 0

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same(other, "cannot add them")
        return Money(self.currency, self.minor + other.minor)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same(other, "cannot subtract them")
        return Money(self.currency, self.minor - other.minor)

    def __neg__(self) -> Money:
        return Money(self.currency, -self.minor)

    def __lt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same(other, "cannot compare them")
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same(other, "cannot compare them")
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same(other, "cannot compare them")
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same(other, "cannot compare them")
        return self.minor >= other.minor

    def __str__(self) -> str:
        """Show the amount as people read it: ``"THB 1,234.50"``, ``"JPY 1,200"``."""
        digits = exponent(self.currency)
        return f"{self.currency} {self.to_major():,.{digits}f}"

    def _require_same(self, other: Money, detail: str) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(self.currency, other.currency, detail)
