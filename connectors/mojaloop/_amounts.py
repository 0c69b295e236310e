"""Integer minor units to the FSPIOP ``Amount`` type.

FSPIOP (and so the scheme adapter) writes an amount as a decimal string in *major* units:
``"123.45"``, never ``"123.450"``: the type's pattern allows no trailing zeros, no sign, at
most 18 integer digits and at most 4 decimals. Causeway keeps integer minor units, so the
exponent of the currency is needed. A connector may not import ``fx`` (where exponents come
from a maintained ISO 4217 library), so it is the ``currency_exponent`` setting.

The conversion is done on the digits, never through ``float`` or ``Decimal`` arithmetic.
"""

from __future__ import annotations

import re

__all__ = ["FSPIOP_AMOUNT", "to_major"]

#: The FSPIOP ``Amount`` pattern, as published in the API definition.
FSPIOP_AMOUNT = re.compile(r"([0]|([1-9][0-9]{0,17}))([.][0-9]{0,3}[1-9])?")


def to_major(minor: int, exponent: int) -> str:
    """``minor`` units as an FSPIOP amount: ``to_major(12340, 2) == "123.4"``.

    Raises ``ValueError`` for a negative amount, an exponent outside 0–4, or an amount
    too large for the type (more than 18 integer digits).
    """
    if not 0 <= exponent <= 4:
        raise ValueError(f"currency exponent {exponent} is outside 0-4")
    if minor < 0:
        raise ValueError(f"amount {minor} is negative")
    # Left-pad so that there is always at least one integer digit ("5" -> "0.05").
    digits = str(minor).rjust(exponent + 1, "0")
    whole, fraction = digits[: len(digits) - exponent], digits[len(digits) - exponent :]
    fraction = fraction.rstrip("0")
    text = f"{whole}.{fraction}" if fraction else whole
    if not FSPIOP_AMOUNT.fullmatch(text):
        raise ValueError(f"amount {minor} (minor units) is too large for FSPIOP")
    return text
