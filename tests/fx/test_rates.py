from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fx import (
    RATE_PLACES,
    FXError,
    Rate,
    RateSource,
    RateUnavailable,
    StaticRates,
    UnknownCurrency,
)

AS_OF = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
CONFIG = Path(__file__).parents[2] / "config" / "fx.toml"
CONFIG_CURRENCIES = [
    "USD",
    "KRW",
    "THB",
    "JPY",
    "PHP",
    "MYR",
    "HKD",
    "IDR",
    "SGD",
    "EUR",
    "CNY",
    "KES",
]

positive_rates = st.decimals(
    min_value=Decimal("0.0001"), max_value=Decimal(100_000), places=6, allow_nan=False
).filter(lambda mid: mid > 0)


def usd_rates(**pairs: str) -> StaticRates:
    rates = {f"USD/{code}": Decimal(mid) for code, mid in pairs.items()}
    return StaticRates(rates, AS_OF, "test")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fx.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD_FILE = """
source = "static"
as_of = "2026-11-20T08:00:00Z"
pivot = "USD"
[rates]
"USD/KRW" = "1385.20"
"USD/THB" = "35.85"
"""


def test_rate_rejects_a_float_mid() -> None:
    with pytest.raises(FXError, match="float"):
        Rate("USD", "KRW", 1385.2, AS_OF, "test")  # type: ignore[arg-type]


@pytest.mark.parametrize("mid", ["0", "-1.5", "NaN", "Infinity"])
def test_rate_rejects_a_mid_that_is_not_positive(mid: str) -> None:
    with pytest.raises(FXError, match="positive"):
        Rate("USD", "KRW", Decimal(mid), AS_OF, "test")


def test_rate_rejects_a_naive_timestamp() -> None:
    with pytest.raises(FXError, match="timezone"):
        Rate("USD", "KRW", Decimal("1385.20"), datetime(2026, 11, 20), "test")


@pytest.mark.anyio
async def test_direct_rate_is_returned_as_configured() -> None:
    rate = await usd_rates(KRW="1385.20").rate("USD", "KRW")
    assert rate == Rate("USD", "KRW", Decimal("1385.20"), AS_OF, "test")


@pytest.mark.anyio
async def test_inverse_rate_is_quantized_to_rate_places() -> None:
    rate = await usd_rates(THB="35.85").rate("THB", "USD")
    # 1 / 35.85 = 0.027894002789|40..., rounded at the twelfth place.
    assert rate.mid == Decimal("0.027894002789")
    assert rate.mid.as_tuple().exponent == -RATE_PLACES


@pytest.mark.anyio
async def test_cross_rate_goes_through_the_pivot() -> None:
    rates = usd_rates(KRW="1385.20", THB="35.85")
    # 1385.20 / 35.85 = 38.638772663877|266...
    assert (await rates.rate("THB", "KRW")).mid == Decimal("38.638772663877")
    # 35.85 / 1385.20 = 0.025880739243|4...
    assert (await rates.rate("KRW", "THB")).mid == Decimal("0.025880739243")


@pytest.mark.anyio
async def test_cross_rate_with_a_leg_quoted_against_the_pivot() -> None:
    rates = StaticRates({"EUR/USD": Decimal("1.15"), "USD/KRW": Decimal("1385.20")}, AS_OF, "test")
    assert (await rates.rate("EUR", "KRW")).mid == Decimal("1592.98")
    # 1 / 1592.98 = 0.000627754271|87 rounds up.
    assert (await rates.rate("KRW", "EUR")).mid == Decimal("0.000627754272")


@pytest.mark.anyio
async def test_configured_pivot_is_used_for_crosses() -> None:
    rates = {"EUR/KRW": Decimal("1592.98"), "EUR/THB": Decimal("41.23")}
    through_eur = StaticRates(rates, AS_OF, "test", pivot="EUR")
    assert (await through_eur.rate("THB", "KRW")).mid == Decimal("38.636429784138")
    with pytest.raises(RateUnavailable):
        await StaticRates(rates, AS_OF, "test").rate("THB", "KRW")


@pytest.mark.anyio
async def test_same_currency_has_a_mid_of_one() -> None:
    rate = await usd_rates(KRW="1385.20").rate("SGD", "SGD")
    assert rate.mid == 1
    assert (rate.as_of, rate.source) == (AS_OF, "test")


@pytest.mark.anyio
async def test_pair_without_a_route_is_unavailable() -> None:
    rates = StaticRates({"USD/KRW": Decimal("1385.20"), "EUR/THB": Decimal("41.23")}, AS_OF, "t")
    with pytest.raises(RateUnavailable, match="KRW/THB") as raised:
        await rates.rate("KRW", "THB")
    assert (raised.value.base, raised.value.quote) == ("KRW", "THB")


@pytest.mark.anyio
@pytest.mark.parametrize(("base", "quote"), [("USD", "krw"), ("ABC", "USD"), ("XAU", "USD")])
async def test_unknown_currency_is_not_a_missing_rate(base: str, quote: str) -> None:
    with pytest.raises(UnknownCurrency):
        await usd_rates(KRW="1385.20").rate(base, quote)


@pytest.mark.parametrize("pair", ["USDKRW", "usd/krw", "USD/KRW/THB", "USD-KRW", "USD/USD"])
def test_malformed_pairs_are_rejected(pair: str) -> None:
    with pytest.raises(FXError, match=pair):
        StaticRates({pair: Decimal(1)}, AS_OF, "test")


def test_pair_with_an_unknown_currency_is_rejected() -> None:
    with pytest.raises(UnknownCurrency, match="ABC"):
        StaticRates({"USD/ABC": Decimal(1)}, AS_OF, "test")


@pytest.mark.parametrize("mid", [Decimal(0), Decimal("-1"), 1385.2])
def test_bad_mids_are_rejected_naming_the_pair(mid: Decimal) -> None:
    with pytest.raises(FXError, match="USD/KRW"):
        StaticRates({"USD/KRW": mid}, AS_OF, "test")


def test_a_pair_given_both_ways_is_rejected() -> None:
    with pytest.raises(FXError, match="both directions"):
        StaticRates({"USD/KRW": Decimal("1385.20"), "KRW/USD": Decimal("0.00072")}, AS_OF, "t")


def test_table_needs_rates_an_aware_timestamp_and_a_known_pivot() -> None:
    with pytest.raises(FXError, match="at least one"):
        StaticRates({}, AS_OF, "test")
    with pytest.raises(FXError, match="timezone"):
        StaticRates({"USD/KRW": Decimal(1)}, datetime(2026, 11, 20), "test")
    with pytest.raises(UnknownCurrency):
        StaticRates({"USD/KRW": Decimal(1)}, AS_OF, "test", pivot="usd")


@pytest.mark.anyio
async def test_from_file_loads_the_documented_shape(tmp_path: Path) -> None:
    rates = StaticRates.from_file(write(tmp_path, GOOD_FILE))
    rate = await rates.rate("USD", "THB")
    assert rate == Rate("USD", "THB", Decimal("35.85"), AS_OF, "static")


@pytest.mark.anyio
async def test_from_file_accepts_a_native_toml_datetime_and_defaults_the_pivot(
    tmp_path: Path,
) -> None:
    text = 'source = "feed"\nas_of = 2026-11-20T16:00:00+08:00\n[rates]\n"USD/THB" = "35.85"\n'
    rates = StaticRates.from_file(write(tmp_path, text))
    rate = await rates.rate("THB", "USD")
    assert rate.as_of == AS_OF
    assert rate.source == "feed"


def test_float_in_rate_file_is_rejected_naming_the_pair(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_FILE.replace('"35.85"', "35.85"))
    with pytest.raises(FXError, match=r"USD/THB is the float 35\.85") as raised:
        StaticRates.from_file(path)
    assert str(path) in " ".join(raised.value.__notes__)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('"35.85"', "36"), "USD/THB must be a string"),
        (('"35.85"', '"35,85"'), "not a decimal number"),
        (('"35.85"', '"-35.85"'), "positive"),
        (('"USD/THB"', '"USD/TBH"'), "TBH"),
        (('pivot = "USD"', 'pivto = "USD"'), "unknown keys"),
        (('"2026-11-20T08:00:00Z"', '"2026-11-20T08:00:00"'), "timezone"),
        (('"2026-11-20T08:00:00Z"', '"20 Nov 2026"'), "ISO 8601"),
        (('as_of = "2026-11-20T08:00:00Z"', ""), "as_of"),
        (('source = "static"', ""), "source"),
        (("[rates]", "[rate]"), "unknown keys"),
    ],
)
def test_rate_file_mistakes_are_reported(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    with pytest.raises(FXError, match=message):
        StaticRates.from_file(write(tmp_path, GOOD_FILE.replace(*change)))


def test_invalid_toml_is_an_fx_error(tmp_path: Path) -> None:
    with pytest.raises(FXError, match="TOML"):
        StaticRates.from_file(write(tmp_path, "[rates\n"))


@pytest.mark.anyio
async def test_shipped_config_prices_every_pair_of_its_currencies() -> None:
    rates = StaticRates.from_file(CONFIG)
    for base, quote in itertools.permutations(CONFIG_CURRENCIES, 2):
        rate = await rates.rate(base, quote)
        assert rate.mid > 0
        assert rate.as_of == AS_OF


@pytest.mark.anyio
@given(mid=positive_rates)
async def test_inverse_times_direct_is_one_within_a_unit_of_the_last_place(
    mid: Decimal,
) -> None:
    inverse = (await StaticRates({"USD/THB": mid}, AS_OF, "t").rate("THB", "USD")).mid
    # The inverse is off by at most half a unit in its last place, scaled by mid.
    assert abs(inverse * mid - 1) <= mid * Decimal(1).scaleb(-RATE_PLACES) / 2


@pytest.mark.anyio
@given(first=positive_rates, second=positive_rates)
async def test_cross_rate_is_the_exact_ratio_rounded_at_rate_places(
    first: Decimal, second: Decimal
) -> None:
    rates = StaticRates({"USD/THB": first, "USD/KRW": second}, AS_OF, "t")
    cross = (await rates.rate("THB", "KRW")).mid
    exact = Fraction(second) / Fraction(first)
    # Half a unit at RATE_PLACES, plus the 28-digit division that precedes the quantize.
    tolerance = Fraction(1, 2 * 10**RATE_PLACES) + exact / 10**27
    assert abs(Fraction(cross) - exact) <= tolerance


def test_static_rates_is_a_rate_source_with_a_useful_repr() -> None:
    source: RateSource = usd_rates(KRW="1385.20")
    assert "pairs=1" in repr(source)
