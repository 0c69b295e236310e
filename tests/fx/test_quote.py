from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fx import (
    PRICE_PLACES,
    PRICE_ROUNDING,
    CurrencyMismatch,
    Direction,
    FXError,
    Money,
    Quote,
    Quoter,
    Rate,
    RateUnavailable,
    StaticRates,
    UnknownCurrency,
    exponent,
    quote_from_dict,
    quote_to_dict,
)

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
TTL = timedelta(minutes=5)
RATES = StaticRates(
    {"USD/KRW": Decimal("1385.20"), "USD/THB": Decimal("35.85")},
    datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
    "test",
)
CURRENCIES = ["JPY", "KRW", "USD", "THB", "IDR", "BHD", "CLF"]

prices = st.decimals(
    min_value=Decimal("0.000001"), max_value=Decimal(100_000), places=PRICE_PLACES
).filter(lambda price: price > 0)
mids = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(100_000), places=8).filter(
    lambda mid: mid > 0
)
spreads = st.integers(min_value=0, max_value=9_999)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


def quoter(spreads_bps: dict[str, int] | None = None, default: int = 100) -> Quoter:
    return Quoter(
        RATES,
        spreads_bps=spreads_bps or {},
        default_spread_bps=default,
        ttl=TTL,
        clock=lambda: NOW,
    )


def make_quote(base: str, quote: str, price: str) -> Quote:
    mid = Decimal(price)
    return Quote("q_test", base, quote, mid, mid, 0, Direction.COLLECT, NOW, NOW + TTL)


@st.composite
def quotes(draw: st.DrawFn) -> Quote:
    start = draw(st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=offsets))
    return Quote(
        quote_id=draw(st.text(min_size=1)),
        base=draw(st.sampled_from(CURRENCIES)),
        quote=draw(st.sampled_from(CURRENCIES)),
        price=draw(prices),
        mid=draw(prices),
        spread_bps=draw(spreads),
        direction=draw(st.sampled_from(Direction)),
        start=start,
        expiry=start + draw(st.timedeltas(timedelta(microseconds=1), timedelta(days=30))),
    )


class NoRates:
    """A rate source that can price nothing: for checks that a path never asks for a rate."""

    async def rate(self, base: str, quote: str) -> Rate:
        raise RateUnavailable(base, quote, "this source has no rates")


@pytest.mark.anyio
async def test_collect_marks_the_mid_up_and_pay_out_marks_it_down() -> None:
    collect = await quoter(default=100).quote("USD", "THB", Direction.COLLECT)
    pay_out = await quoter(default=100).quote("USD", "THB", Direction.PAY_OUT)
    assert collect.mid == pay_out.mid == Decimal("35.85")
    assert collect.spread_bps == pay_out.spread_bps == 100
    # 35.85 * 1.01 and 35.85 * 0.99
    assert (collect.price, pay_out.price) == (Decimal("36.2085"), Decimal("35.4915"))
    assert collect.price.as_tuple().exponent == -PRICE_PLACES


@pytest.mark.anyio
async def test_spread_is_configured_per_pair_in_quote_direction() -> None:
    hub = quoter({"THB/KRW": 50}, default=120)
    thb_krw = await hub.quote("THB", "KRW", Direction.COLLECT)
    krw_thb = await hub.quote("KRW", "THB", Direction.COLLECT)
    assert thb_krw.spread_bps == 50
    assert krw_thb.spread_bps == 120
    # mid 38.638772663877 * 1.005 = 38.831966527196|385, rounded at the twelfth place.
    assert thb_krw.price == Decimal("38.831966527196")
    assert thb_krw.pair == "THB/KRW"


@pytest.mark.anyio
async def test_price_is_rounded_half_even_at_price_places() -> None:
    pay_out = await quoter({"THB/KRW": 50}).quote("THB", "KRW", Direction.PAY_OUT)
    # mid 38.638772663877 * 0.995 = 38.445578800557|615: rounds up, where a floor would not.
    assert pay_out.price == Decimal("38.445578800558")
    assert PRICE_ROUNDING == ROUND_HALF_EVEN


@pytest.mark.anyio
async def test_pricing_ignores_the_threads_decimal_precision() -> None:
    with localcontext() as ctx:
        ctx.prec = 6
        quote = await quoter({"THB/KRW": 50}).quote("THB", "KRW", Direction.COLLECT)
    assert quote.price == Decimal("38.831966527196")


@pytest.mark.anyio
async def test_quote_is_locked_from_the_clock_for_the_ttl() -> None:
    quote = await quoter().quote("THB", "KRW", Direction.COLLECT)
    assert (quote.start, quote.expiry) == (NOW, NOW + TTL)
    assert quote.is_valid_at(NOW)
    assert quote.is_valid_at(NOW + TTL - timedelta(microseconds=1))
    assert not quote.is_valid_at(NOW + TTL)
    assert not quote.is_valid_at(NOW - timedelta(microseconds=1))


@pytest.mark.anyio
async def test_every_quote_gets_a_fresh_id() -> None:
    hub = quoter()
    ids = {(await hub.quote("THB", "KRW", Direction.COLLECT)).quote_id for _ in range(20)}
    assert len(ids) == 20
    assert all(quote_id.startswith("q_") for quote_id in ids)


@pytest.mark.anyio
@pytest.mark.parametrize("direction", list(Direction))
async def test_same_currency_needs_no_rate_and_charges_no_spread(direction: Direction) -> None:
    hub = Quoter(NoRates(), spreads_bps={}, default_spread_bps=300, ttl=TTL, clock=lambda: NOW)
    quote = await hub.quote("SGD", "SGD", direction)
    assert quote.price == quote.mid == Decimal(1)
    assert quote.spread_bps == 0
    assert quote.convert(Money("SGD", 12345)) == Money("SGD", 12345)


@pytest.mark.anyio
async def test_missing_rates_and_unknown_currencies_are_raised() -> None:
    with pytest.raises(RateUnavailable):
        await Quoter(NoRates(), spreads_bps={}, default_spread_bps=0, ttl=TTL).quote(
            "USD", "THB", Direction.COLLECT
        )
    with pytest.raises(UnknownCurrency):
        await quoter().quote("THB", "krw", Direction.COLLECT)


class WrongPair:
    """A faulty third-party source: whatever is asked, it answers USD/THB."""

    async def rate(self, base: str, quote: str) -> Rate:
        return Rate("USD", "THB", Decimal("35.85"), NOW, "faulty")


@pytest.mark.anyio
async def test_a_rate_for_the_wrong_pair_is_refused() -> None:
    hub = Quoter(WrongPair(), spreads_bps={}, default_spread_bps=0, ttl=TTL)
    with pytest.raises(FXError, match="asked for THB/USD"):
        await hub.quote("THB", "USD", Direction.PAY_OUT)


@pytest.mark.anyio
async def test_a_naive_clock_is_refused() -> None:
    naive = datetime(2026, 11, 20, 9, 30)
    hub = Quoter(RATES, spreads_bps={}, default_spread_bps=0, ttl=TTL, clock=lambda: naive)
    with pytest.raises(FXError, match="timezone"):
        await hub.quote("USD", "THB", Direction.PAY_OUT)


@pytest.mark.parametrize(
    ("spreads_bps", "default", "message"),
    [
        ({"THB/KRW": -1}, 0, "THB/KRW"),
        ({"THB/KRW": 10_000}, 0, "THB/KRW"),
        ({"THB/KRW": True}, 0, "basis points"),
        ({"THB/KRW": 0.5}, 0, "basis points"),
        ({"THB-KRW": 50}, 0, "THB-KRW"),
        ({"THB/THB": 50}, 0, "itself"),
        ({"THB/ABC": 50}, 0, "ABC"),
        ({}, -5, "default spread"),
    ],
)
def test_bad_spreads_are_refused_at_construction(
    spreads_bps: dict[str, int], default: int, message: str
) -> None:
    with pytest.raises(FXError, match=message):
        Quoter(RATES, spreads_bps=spreads_bps, default_spread_bps=default, ttl=TTL)


@pytest.mark.parametrize("ttl", [timedelta(0), timedelta(seconds=-1)])
def test_ttl_must_be_positive(ttl: timedelta) -> None:
    with pytest.raises(FXError, match="ttl"):
        Quoter(RATES, spreads_bps={}, default_spread_bps=0, ttl=ttl)


def test_convert_rounds_half_up_to_the_quote_currencys_minor_unit() -> None:
    usd_jpy = make_quote("USD", "JPY", "150.5")
    assert usd_jpy.convert(Money("USD", 100)) == Money("JPY", 151)
    assert usd_jpy.convert(Money("USD", -100)) == Money("JPY", -151)
    thb_krw = make_quote("THB", "KRW", "38.831966527196")
    assert thb_krw.convert(Money("THB", 123450)) == Money("KRW", 47938)


def test_convert_ignores_the_threads_decimal_precision() -> None:
    usd_krw = make_quote("USD", "KRW", "1385.123456789012")
    with localcontext() as ctx:
        ctx.prec = 6
        converted = usd_krw.convert(Money("USD", 123456789))
    # 1,234,567.89 * 1385.123456789012 = 1,710,028,943.437516...
    assert converted == Money("KRW", 1710028943)


def test_convert_refuses_an_amount_in_another_currency() -> None:
    with pytest.raises(CurrencyMismatch, match="THB/KRW"):
        make_quote("THB", "KRW", "38.8").convert(Money("KRW", 100))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("price", 38.8, "float"),
        ("price", Decimal(0), "positive"),
        ("expiry", NOW, "expires"),
        ("start", datetime(2026, 11, 20), "timezone"),
        ("spread_bps", 10_000, "basis points"),
        ("direction", "collect", "Direction"),
        ("base", "thb", "upper case"),
        ("quote_id", "", "id"),
    ],
)
def test_quote_validates_its_fields(field: str, value: object, message: str) -> None:
    good = make_quote("THB", "KRW", "38.8")
    with pytest.raises((FXError, TypeError), match=message):
        dataclasses.replace(good, **{field: value})  # type: ignore[arg-type]


def test_dict_holds_only_strings_with_offsets() -> None:
    stored = quote_to_dict(make_quote("THB", "KRW", "38.831966527196"))
    assert stored == {
        "quote_id": "q_test",
        "base": "THB",
        "quote": "KRW",
        "price": "38.831966527196",
        "mid": "38.831966527196",
        "spread_bps": "0",
        "direction": "collect",
        "start": "2026-11-20T09:30:00+00:00",
        "expiry": "2026-11-20T09:35:00+00:00",
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"price": "abc"}, "price"),
        ({"spread_bps": "1.5"}, "spread_bps"),
        ({"spread_bps": "-1"}, "spread_bps"),
        ({"direction": "sideways"}, "malformed"),
        ({"start": "yesterday"}, "malformed"),
        ({"expiry": "2026-11-20T09:35:00"}, "timezone"),
    ],
)
def test_malformed_stored_quotes_are_refused(change: dict[str, str], message: str) -> None:
    stored = quote_to_dict(make_quote("THB", "KRW", "38.8")) | change
    with pytest.raises(FXError, match=message):
        quote_from_dict(stored)


def test_stored_quote_missing_a_field_names_it() -> None:
    stored = quote_to_dict(make_quote("THB", "KRW", "38.8"))
    del stored["mid"]
    with pytest.raises(FXError, match="mid"):
        quote_from_dict(stored)


@pytest.mark.anyio
@given(mid=mids, spread=spreads)
async def test_collect_price_is_never_below_mid_nor_pay_out_above_it(
    mid: Decimal, spread: int
) -> None:
    hub = Quoter(
        StaticRates({"THB/KRW": mid}, NOW, "t"),
        spreads_bps={},
        default_spread_bps=spread,
        ttl=TTL,
    )
    collect = await hub.quote("THB", "KRW", Direction.COLLECT)
    pay_out = await hub.quote("THB", "KRW", Direction.PAY_OUT)
    assert collect.price >= mid >= pay_out.price
    # The two prices are twice the spread apart, give or take half a unit at PRICE_PLACES each.
    apart = Fraction(collect.price - pay_out.price) - 2 * Fraction(mid) * spread / 10_000
    assert abs(apart) <= Fraction(1, 10**PRICE_PLACES)


@given(
    base=st.sampled_from(CURRENCIES),
    quote=st.sampled_from(CURRENCIES),
    price=prices,
    minor=st.integers(min_value=-(10**15), max_value=10**15),
)
def test_conversion_is_within_half_a_minor_unit_of_exact_math(
    base: str, quote: str, price: Decimal, minor: int
) -> None:
    converted = make_quote(base, quote, str(price)).convert(Money(base, minor))
    exact = Fraction(minor, 10 ** exponent(base)) * Fraction(price)
    assert converted.currency == quote
    unit = Fraction(1, 10 ** exponent(quote))
    assert abs(converted.minor * unit - exact) <= unit / 2


@given(price=prices, minor=st.integers(min_value=0, max_value=10**12))
def test_a_refund_converts_to_the_negated_payment(price: Decimal, minor: int) -> None:
    quote = make_quote("THB", "KRW", str(price))
    assert quote.convert(-Money("THB", minor)) == -quote.convert(Money("THB", minor))


@given(quote=quotes())
def test_dict_round_trip_is_lossless(quote: Quote) -> None:
    stored = quote_to_dict(quote)
    assert all(isinstance(value, str) for value in stored.values())
    restored = quote_from_dict(json.loads(json.dumps(stored)))
    assert restored == quote
    assert restored.start.utcoffset() == quote.start.utcoffset()
    assert str(restored.price) == str(quote.price)
