from __future__ import annotations

from collections.abc import Callable
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
    localcontext,
)

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fx import (
    AMOUNT_ROUNDING,
    CurrencyMismatch,
    FXError,
    Money,
    UnknownCurrency,
    exponent,
    is_currency,
)

# One currency for each ISO 4217 exponent in use: 0, 2, 3 and 4 minor-unit digits.
CURRENCIES = ["JPY", "KRW", "USD", "THB", "IDR", "BHD", "KWD", "CLF"]
ROUNDINGS = [ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP]

minor_units = st.integers(min_value=-(10**15), max_value=10**15)


@st.composite
def money_in(draw: st.DrawFn, currency: str) -> Money:
    return Money(currency, draw(minor_units))


@pytest.mark.parametrize(
    ("currency", "digits"),
    [("JPY", 0), ("KRW", 0), ("USD", 2), ("BHD", 3), ("IDR", 2), ("CLF", 4)],
)
def test_exponent_comes_from_iso_4217(currency: str, digits: int) -> None:
    assert exponent(currency) == digits
    assert is_currency(currency)


@pytest.mark.parametrize("code", ["usd", "XAU", "XTS", "ABC", "", "US", "USDX"])
def test_exponent_rejects_codes_that_are_not_payment_currencies(code: str) -> None:
    with pytest.raises(UnknownCurrency) as raised:
        exponent(code)
    assert raised.value.currency == code
    assert repr(code) in str(raised.value)
    assert not is_currency(code)


def test_lowercase_code_gets_a_hint() -> None:
    with pytest.raises(UnknownCurrency, match="upper case"):
        exponent("krw")


def test_metal_code_is_refused_for_having_no_minor_unit() -> None:
    with pytest.raises(UnknownCurrency, match="no minor unit"):
        Money("XAU", 1)


def test_money_rejects_unknown_currency() -> None:
    with pytest.raises(UnknownCurrency):
        Money("ZZZ", 100)


@pytest.mark.parametrize("minor", [True, 12.5, Decimal("1234"), "1234"])
def test_money_rejects_minor_units_that_are_not_an_int(minor: object) -> None:
    with pytest.raises(TypeError, match="int"):
        Money("USD", minor)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("money", "major"),
    [
        (Money("USD", 1234), "12.34"),
        (Money("USD", -5), "-0.05"),
        (Money("JPY", 1200), "1200"),
        (Money("BHD", 1), "0.001"),
        (Money("CLF", 123456), "12.3456"),
    ],
)
def test_to_major_is_exact(money: Money, major: str) -> None:
    assert money.to_major() == Decimal(major)
    assert str(money.to_major()) == major


def test_to_major_ignores_the_threads_decimal_precision() -> None:
    huge = Money("USD", 12345678901234567890123456789012345)
    with localcontext() as ctx:
        ctx.prec = 5
        assert huge.to_major() == Decimal("123456789012345678901234567890123.45")


@pytest.mark.parametrize(
    ("currency", "major", "rounding", "minor"),
    [
        ("USD", "12.345", ROUND_HALF_UP, 1235),
        ("USD", "12.345", ROUND_HALF_EVEN, 1234),
        ("USD", "-12.345", ROUND_HALF_UP, -1235),
        ("USD", "12.349", ROUND_DOWN, 1234),
        ("USD", "12.341", ROUND_UP, 1235),
        ("JPY", "1200.5", ROUND_HALF_UP, 1201),
        ("BHD", "1.0005", ROUND_HALF_EVEN, 1000),
    ],
)
def test_from_major_rounds_with_the_named_mode(
    currency: str, major: str, rounding: str, minor: int
) -> None:
    assert Money.from_major(currency, Decimal(major), rounding) == Money(currency, minor)


def test_from_major_is_exact_beyond_28_digits() -> None:
    major = Decimal("1234567890123456789012345678901.235")
    assert Money.from_major("USD", major, ROUND_HALF_UP).minor == 123456789012345678901234567890124


def test_from_major_rejects_floats() -> None:
    with pytest.raises(TypeError, match="float"):
        Money.from_major("USD", 12.34, ROUND_HALF_UP)  # type: ignore[arg-type]


@pytest.mark.parametrize("major", ["NaN", "Infinity", "-Infinity"])
def test_from_major_rejects_non_finite_amounts(major: str) -> None:
    with pytest.raises(FXError, match="finite"):
        Money.from_major("USD", Decimal(major), ROUND_HALF_UP)


def test_from_major_rejects_an_unknown_rounding_mode() -> None:
    with pytest.raises(FXError, match="rounding"):
        Money.from_major("USD", Decimal("1"), "HALF_UP")


def test_amount_rounding_is_half_up() -> None:
    assert AMOUNT_ROUNDING == ROUND_HALF_UP


def test_arithmetic_within_one_currency() -> None:
    assert Money("THB", 1000) + Money("THB", 250) == Money("THB", 1250)
    assert Money("THB", 1000) - Money("THB", 1250) == Money("THB", -250)
    assert -Money("THB", 1000) == Money("THB", -1000)


def test_ordering_within_one_currency() -> None:
    small, large = Money("KRW", 100), Money("KRW", 200)
    assert small < large
    assert small <= large
    assert large > small
    assert large >= small
    assert small <= Money("KRW", 100)
    assert sorted([large, small]) == [small, large]


def test_is_zero() -> None:
    assert Money("USD", 0).is_zero()
    assert not Money("USD", -1).is_zero()


def test_amounts_in_different_currencies_are_unequal_without_raising() -> None:
    assert Money("USD", 100) != Money("SGD", 100)


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
)
def test_mixing_currencies_raises(operation: Callable[[Money, Money], object]) -> None:
    with pytest.raises(CurrencyMismatch) as raised:
        operation(Money("USD", 100), Money("EUR", 100))
    assert (raised.value.left, raised.value.right) == ("USD", "EUR")


def test_adding_a_plain_number_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        Money("USD", 100) + 1  # type: ignore[operator]


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money("THB", 123450), "THB 1,234.50"),
        (Money("JPY", 1200000), "JPY 1,200,000"),
        (Money("BHD", 1234567), "BHD 1,234.567"),
        (Money("USD", -5), "USD -0.05"),
        (Money("USD", 0), "USD 0.00"),
    ],
)
def test_str_shows_major_units_with_the_currencys_digits(money: Money, text: str) -> None:
    assert str(money) == text


@given(st.sampled_from(CURRENCIES), minor_units, st.sampled_from(ROUNDINGS))
def test_major_round_trip_is_exact(currency: str, minor: int, rounding: str) -> None:
    money = Money(currency, minor)
    assert Money.from_major(currency, money.to_major(), rounding) == money


@given(st.sampled_from(CURRENCIES), st.data())
def test_exact_major_amounts_survive_a_round_trip(currency: str, data: st.DataObject) -> None:
    major = data.draw(
        st.decimals(
            min_value=-(10**12),
            max_value=10**12,
            places=exponent(currency),
            allow_nan=False,
            allow_infinity=False,
        )
    )
    assert Money.from_major(currency, major, ROUND_HALF_UP).to_major() == major


@given(st.sampled_from(CURRENCIES), st.data())
def test_addition_is_associative_and_subtraction_undoes_it(
    currency: str, data: st.DataObject
) -> None:
    a, b, c = (data.draw(money_in(currency)) for _ in range(3))
    assert (a + b) + c == a + (b + c)
    assert (a - b) - c == a - (b + c)
    assert a + b - b == a
    negated = -a
    assert -negated == a
    assert (a + negated).is_zero()
