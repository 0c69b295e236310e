"""WeChat Pay v2 fields as plain text, for the simulator.

The simulator reads requests with these few functions rather than through the connector's
models, so that a field the connector misnames is caught instead of agreed on by both sides.
Amounts are converted with :mod:`iso4217`'s exponents and a named rounding mode.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal

from iso4217 import Currency

__all__ = [
    "BadRequest",
    "cny_minor",
    "failure",
    "fee",
    "now_cst",
    "now_utc",
    "rate_field",
    "refused",
    "text",
]

_CST = timezone(timedelta(hours=8))
_DIGITS = re.compile(r"[1-9][0-9]{0,15}")
# Order and refund numbers: letters, digits and _-|*@ (the documented alphabet).
_NUMBER = re.compile(r"[0-9A-Za-z_\-|*@]+")


class BadRequest(Exception):
    """Raised when a request lacks a field or has one of the wrong shape (``PARAM_ERROR``)."""


def refused(message: str) -> dict[str, str]:
    """An answer refusing the request unprocessed: unsigned, ``return_code`` ``FAIL``."""
    return {"return_code": "FAIL", "return_msg": message}


def failure(err_code: str, description: str) -> dict[str, str]:
    """The business part of a processed request that failed."""
    return {"result_code": "FAIL", "err_code": err_code, "err_code_des": description}


def now_cst() -> str:
    """The current time as WeChat Pay writes it: China Standard Time, ``yyyyMMddHHmmss``."""
    return datetime.now(_CST).strftime("%Y%m%d%H%M%S")


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def text(fields: Mapping[str, str], name: str, *, longest: int = 128, number: bool = False) -> str:
    value = fields.get(name, "")
    if not value or len(value) > longest:
        raise BadRequest(f"{name} must be 1 to {longest} characters")
    if number and not _NUMBER.fullmatch(value):
        raise BadRequest(f"{name} may hold only letters, digits and _-|*@")
    return value


def fee(fields: Mapping[str, str], name: str) -> int:
    """A positive integer of minor units, written as WeChat Pay does: plain digits."""
    value = fields.get(name, "")
    if not _DIGITS.fullmatch(value):
        raise BadRequest(f"{name} must be a positive integer of minor units")
    return int(value)


def _exponent(currency: str) -> int:
    try:
        digits = Currency(currency).exponent
    except ValueError:
        raise BadRequest(f"{currency!r} is not an ISO 4217 currency") from None
    if digits is None:
        raise BadRequest(f"{currency!r} has no minor unit")
    return int(digits)


def cny_minor(amount: int, currency: str, rate: Decimal) -> int:
    """``amount`` minor units of ``currency`` in fen, at ``rate`` CNY per major unit,
    rounded half to even."""
    scale = Decimal(10) ** (_exponent("CNY") - _exponent(currency))
    return int((Decimal(amount) * rate * scale).to_integral_value(ROUND_HALF_EVEN))


def rate_field(rate: Decimal) -> str:
    """``rate`` as the wire writes it: CNY per major unit, multiplied by 10^8."""
    return str(int((rate * 10**8).to_integral_value(ROUND_HALF_EVEN)))
