"""Payments and refunds are booked at what the wallet moved, when the wallet says.

WeChat Pay converts the merchant's currency to CNY at its own rate, and reports what it
charged (``cash_fee``). It is sent a refund in the merchant's currency and gives back the
refund's share of what it charged (``cash_fee × refund_fee / total_fee``, rounded its own
way), which it reports too (``cash_refund_fee``). The hub's own conversions differ: by
the two rates on a charge, by a fen on a partial refund. The wallet's figures are what the
traveller paid and got back, and what the wallet will settle, so they are what the books
must say.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from connectors import Amount, PaymentResult, RefundResult
from connectors.wechatpay.simulator import SimulatedAccount, SimulatedWallet, create_simulator
from fx import Direction, Quoter, StaticRates
from gateway.client import AcquirerClient
from gateway.config import RouteConfig, WalletConfig
from gateway.hub import Hub
from gateway.refunds import Refunds
from gateway.schema import payments
from gateway.states import PaymentStatus, RefundStatus
from tests.conftest import Backend
from tests.gateway.conftest import hub_through, pay_body, refund_body, settings_for
from tests.gateway.test_postings import lines, pay, per_currency, refund
from tests.gateway.test_postings import payment as pending_payment

pytestmark = pytest.mark.anyio

APPID, MCH_ID = "wx2421b1c4370ec43b", "1900000109"
API_KEY = secrets.token_hex(16)
WECHATPAY = WalletConfig(
    psp_id="WECHATPAY",
    name="WeChat Pay",
    currency="CNY",
    region="CN",
    method_types=["WECHATPAY"],
    code_prefixes=["134001"],
)
WANG = "134001000000000008"


@dataclass
class China:
    """A hub whose WeChat Pay route speaks WeChat Pay's API v2, and that wallet."""

    hub: Hub
    siam: AcquirerClient
    http: httpx.AsyncClient
    wallet_url: str
    price: Decimal  # what the wallet charges in CNY per THB

    async def at_wallet(self, kind: str) -> dict[str, int]:
        """The CNY the wallet moved, in fen, by the id it knows the pay or refund by."""
        ledger: list[dict[str, Any]] = (
            await self.http.get(self.wallet_url + "/_sim/ledger")
        ).json()
        key = "out_refund_no" if kind == "refund" else "out_trade_no"
        return {e[key]: e["amount"] for e in ledger if e["kind"] == kind}


async def _hub_price(backend: Backend, state_dir: Path) -> Decimal:
    """What the hub charges a traveller in CNY per THB."""
    fx = settings_for(backend, state_dir).fx
    quoter = Quoter(
        StaticRates.from_file(fx.rates_file),
        spreads_bps=fx.spreads_bps,
        default_spread_bps=fx.default_spread_bps,
        ttl=timedelta(seconds=fx.quote_ttl_seconds),
    )
    return (await quoter.quote("THB", "CNY", Direction.COLLECT)).price


@asynccontextmanager
async def china_at(backend: Backend, state_dir: Path, rate: Decimal) -> AsyncIterator[China]:
    """A hub with a WeChat Pay route, whose wallet converts THB at ``rate`` CNY."""
    wallet = SimulatedWallet(
        appid=APPID,
        mch_id=MCH_ID,
        api_key=API_KEY,
        accounts=[SimulatedAccount("o-wang", WANG, 10_000_000, "Wang Fang")],
        rates={"THB": rate},
    )
    async with AsyncExitStack() as stack:
        route = RouteConfig(
            name="wechatpay-v2",
            wallet="WECHATPAY",
            kind="wechatpay",
            settings={
                "appid": APPID,
                "mch_id": MCH_ID,
                "api_key": API_KEY,
                "currencies": ["CNY"],
                "regions": ["CN"],
            },
        )
        hub, http, siam, url = await hub_through(
            stack, backend, state_dir, create_simulator(wallet), route, wallet=WECHATPAY
        )
        yield China(hub, siam, http, url, rate)


@pytest.fixture
async def china(backend: Backend, state_dir: Path) -> AsyncIterator[China]:
    """The wallet charges at the hub's own price: only the refunds' roundings differ."""
    async with china_at(backend, state_dir, await _hub_price(backend, state_dir)) as running:
        yield running


def hubs_own_conversion(price: Decimal, thb_minor: int) -> int:
    """The hub's conversion of ``thb_minor`` satang to fen: half up, as its quotes round."""
    return int((Decimal(thb_minor) * price).to_integral_value(ROUND_HALF_UP))


async def test_partial_refunds_are_booked_at_what_the_wallet_gave_back(china: China) -> None:
    paid = await china.siam.call("pay", pay_body("cn-1", code=WANG, value="100000"))
    assert paid["result"]["resultCode"] == "SUCCESS"
    parts = ["1638", "3880", "1001", "4397"]  # the first, second and last part round apart
    for n, value in enumerate(parts):
        answer = await china.siam.call("refund", refund_body("cn-1", f"cn-1-r{n}", value))
        assert answer["result"]["resultCode"] == "SUCCESS", answer
    left = 100_000 - sum(int(v) for v in parts)
    last = await china.siam.call("refund", refund_body("cn-1", "cn-1-last", str(left)))
    assert last["result"]["resultCode"] == "SUCCESS", last

    given_back = await china.at_wallet("refund")
    store = china.hub.store
    payment = await store.find_payment("SIAM_ACQ", "cn-1")
    assert payment is not None
    booked = {
        movement_id: amount
        for movement, movement_id, role, _, ccy, amount in await lines(store)
        if movement == "REFUND" and role == "wallet" and ccy == "CNY"
    }
    differ = []
    for n, value in enumerate(parts):
        stored = await store.find_refund("SIAM_ACQ", f"cn-1-r{n}")
        assert stored is not None
        assert stored.status is RefundStatus.SUCCEEDED
        cash = given_back[stored.refund_id]
        assert stored.refund_from_amount.minor == cash
        assert booked[stored.refund_id] == cash
        if cash != hubs_own_conversion(china.price, int(value)):
            differ.append(value)
    # The case is one where the two roundings part: else it would prove nothing.
    assert differ, "no partial refund here rounds differently at the wallet"
    # Everything the wallet gave back, and no more, is booked: the payment nets to zero in
    # CNY at the wallet, as its charge and its refunds do in the wallet's own ledger.
    assert sum(given_back.values()) == payment.pay_to_amount.minor
    wallet_lines = [
        amount
        for _, _, role, who, ccy, amount in await lines(store)
        if role == "wallet" and who == "WECHATPAY" and ccy == "CNY"
    ]
    assert sum(wallet_lines) == 0
    assert set(per_currency(await lines(store)).values()) == {0}


async def refunded_pay_to(china: China, payment_id: str) -> int:
    query = sa.select(payments.c.refunded_pay_to).where(payments.c.payment_id == payment_id)
    async with china.hub.store.engine.connect() as connection:
        return int((await connection.execute(query)).scalar_one())


async def test_a_refund_the_wallet_reports_in_another_currency_is_not_booked(
    china: China,
) -> None:
    store = china.hub.store
    paid = await pay(store, "cn-2")
    made = await store.create_refund(refund(paid, "cn-2-r", 25_000), paid)
    refunds = Refunds(china.hub.engine)
    before = await lines(store)

    strange = RefundResult.succeeded(wallet_refund_id="503", refund_from_amount=Amount("USD", 5))
    answer = await refunds.record_outcome(made, paid, strange)
    assert answer.code.name == "UNKNOWN_EXCEPTION"
    stored = await store.find_refund("SIAM_ACQ", "cn-2-r")
    assert stored is not None
    assert stored.status is RefundStatus.UNKNOWN
    too_much = Amount("KRW", paid.pay_to_amount.minor + 1)
    await refunds.record_outcome(
        stored, paid, RefundResult.succeeded(wallet_refund_id="503", refund_from_amount=too_much)
    )
    assert await lines(store) == before  # nothing booked

    said = Amount("KRW", made.refund_from_amount.minor + 1)
    answer = await refunds.record_outcome(
        stored, paid, RefundResult.succeeded(wallet_refund_id="503", refund_from_amount=said)
    )
    assert answer.refund is not None
    assert answer.refund.refund_from_amount.minor == said.value
    booked = [line for line in await lines(store) if line[1] == made.refund_id]
    assert ("wallet", "KRW", said.value) in {(line[2], line[4], line[5]) for line in booked}
    # The payment's running total in KRW follows the wallet, so a last refund takes what
    # the wallet has left.
    assert await refunded_pay_to(china, paid.payment_id) == said.value


async def test_a_charge_at_the_wallets_own_rate_is_booked_as_charged(
    backend: Backend, state_dir: Path
) -> None:
    ours = await _hub_price(backend, state_dir)
    async with china_at(backend, state_dir, ours * Decimal("1.004")) as china:
        paid = await china.siam.call("pay", pay_body("cn-3", code=WANG, value="125000"))
        assert paid["result"]["resultCode"] == "SUCCESS"
        store = china.hub.store
        payment = await store.find_payment("SIAM_ACQ", "cn-3")
        assert payment is not None
        [charged] = (await china.at_wallet("pay")).values()
        assert charged != hubs_own_conversion(ours, 125_000)  # else it would prove nothing
        assert payment.pay_to_amount.minor == charged
        booked = [
            amount
            for movement, _, role, _, ccy, amount in await lines(store)
            if movement == "PAYMENT" and role == "wallet" and ccy == "CNY"
        ]
        assert booked == [-charged]
        # The hub's FX account takes the difference; every currency still balances.
        assert set(per_currency(await lines(store)).values()) == {0}

        half = await china.siam.call("refund", refund_body("cn-3", "cn-3-r1", "62500"))
        rest = await china.siam.call("refund", refund_body("cn-3", "cn-3-r2", "62500"))
        assert [half["result"]["resultCode"], rest["result"]["resultCode"]] == ["SUCCESS"] * 2
        # What the wallet gave back is what it charged, and the books say so.
        assert sum((await china.at_wallet("refund")).values()) == charged
        wallet_lines = [
            amount
            for _, _, role, who, ccy, amount in await lines(store)
            if role == "wallet" and who == "WECHATPAY" and ccy == "CNY"
        ]
        assert sum(wallet_lines) == 0
        assert set(per_currency(await lines(store)).values()) == {0}


async def test_a_charge_the_wallet_reports_in_another_currency_is_not_booked(
    china: China,
) -> None:
    store, engine = china.hub.store, china.hub.engine
    made = pending_payment("cn-4", 125_000)
    await store.create_payment(made)

    strange = PaymentResult.succeeded(wallet_payment_id="42", pay_to_amount=Amount("USD", 5))
    answer = await engine.record_outcome(made, strange)
    assert answer.code.name == "PAYMENT_IN_PROCESS"
    stored = await store.find_payment("SIAM_ACQ", "cn-4")
    assert stored is not None
    assert stored.status is PaymentStatus.UNKNOWN
    assert await lines(store) == []

    said = Amount("KRW", made.pay_to_amount.minor - 7)
    answer = await engine.record_outcome(
        stored, PaymentResult.succeeded(wallet_payment_id="42", pay_to_amount=said)
    )
    assert answer.payment is not None
    assert answer.payment.pay_to_amount.minor == said.value
    booked = {(line[2], line[4], line[5]) for line in await lines(store)}
    assert ("wallet", "KRW", -said.value) in booked
