"""Building blocks shared by fx's value types: the exact decimal context and input checks.

Every public constructor in ``fx`` runs its input through these, so a bad value (a float
rate, a naive timestamp, a pair written ``"usd-krw"``) fails where it enters, with a message
naming it, rather than deep inside a conversion.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, Inexact, InvalidOperation

from fx._errors import FXError

# The thread's default context keeps only 28 digits, and another library may have changed
# it. Sums and products of amounts and prices run in this one instead: it is unbounded and
# traps any inexact result, so the only rounding that ever happens is one a caller names.
# Never divide in it: a non-terminating quotient would trap.
EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation, Inexact])
# Quantizing does round, always in a mode its caller passes explicitly; it runs unbounded too,
# so a large value is rounded at the requested place instead of failing at the 29th digit.
QUANTIZING = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation])

_PAIR = re.compile(r"([A-Z]{3})/([A-Z]{3})")


def split_pair(pair: str, *, what: str) -> tuple[str, str]:
    """Split ``"THB/KRW"`` into two distinct codes; callers check the codes with ``exponent``."""
    match = _PAIR.fullmatch(pair) if isinstance(pair, str) else None
    if match is None:
        raise FXError(f"{what}: {pair!r} is not a currency pair written like 'USD/KRW'")
    base, quote = match.groups()
    if base == quote:
        raise FXError(f"{what}: {pair!r} pairs a currency with itself")
    return base, quote


def require_aware(moment: datetime, *, what: str) -> datetime:
    """Reject naive datetimes: a quote's start and expiry must name an instant."""
    if not isinstance(moment, datetime):
        raise TypeError(f"{what} must be a datetime, not {type(moment).__name__}")
    if moment.utcoffset() is None:
        raise FXError(f"{what} must be timezone-aware, got {moment.isoformat()}")
    return moment


def require_positive(value: Decimal, *, what: str) -> Decimal:
    """Accept only finite ``Decimal`` values above zero: a rate or a price is never a float."""
    if isinstance(value, float):
        raise FXError(f"{what} is the float {value!r}: give it as a Decimal or a string")
    if not isinstance(value, Decimal):
        raise TypeError(f"{what} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite() or value <= 0:
        raise FXError(f"{what} must be a positive number, got {value}")
    return value


def parse_decimal(text: str, *, what: str) -> Decimal:
    """Read a ``Decimal`` from text, turning a parse failure into an :class:`FXError`."""
    if not isinstance(text, str):
        raise FXError(f"{what} must be a string, not {type(text).__name__}")
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise FXError(f"{what}: {text!r} is not a decimal number") from exc
