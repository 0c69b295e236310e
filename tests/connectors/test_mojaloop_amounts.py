"""Minor units to FSPIOP amounts: exact, canonical, and refused when they cannot be."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.mojaloop._amounts import FSPIOP_AMOUNT, to_major

EXPONENTS = st.integers(min_value=0, max_value=4)


@given(minor=st.integers(min_value=0, max_value=10**18 - 1), exponent=EXPONENTS)
def test_every_amount_is_canonical_and_exact(minor: int, exponent: int) -> None:
    wire = to_major(minor, exponent)
    assert FSPIOP_AMOUNT.fullmatch(wire)
    assert Decimal(wire).scaleb(exponent) == minor


@given(minor=st.integers(min_value=0, max_value=10**12), exponent=EXPONENTS)
def test_distinct_amounts_stay_distinct(minor: int, exponent: int) -> None:
    assert to_major(minor, exponent) != to_major(minor + 1, exponent)


@pytest.mark.parametrize(
    ("minor", "exponent", "wire"),
    [
        (0, 2, "0"),
        (100, 2, "1"),
        (105, 2, "1.05"),
        (1200, 0, "1200"),
        (1, 3, "0.001"),
        (12_340, 4, "1.234"),
        (10**20 - 1, 2, "999999999999999999.99"),
    ],
)
def test_examples(minor: int, exponent: int, wire: str) -> None:
    assert to_major(minor, exponent) == wire


@pytest.mark.parametrize(
    ("minor", "exponent", "problem"),
    [(-1, 2, "negative"), (10**20, 2, "too large"), (1, 5, "exponent"), (1, -1, "exponent")],
)
def test_what_fspiop_cannot_carry_is_refused(minor: int, exponent: int, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        to_major(minor, exponent)
