"""The WeChat Pay connector against the simulated wallet, in process (``httpx.ASGITransport``)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors import (
    Amount,
    CancelRequest,
    CancelResult,
    InquireRequest,
    Merchant,
    Outcome,
    PaymentResult,
    PayRequest,
    RefundRequest,
    RefundResult,
    WalletTimeout,
    exchange,
)
from connectors.wechatpay import WeChatPayConnector
from connectors.wechatpay.simulator import (
    SimulatedAccount,
    SimulatedWallet,
    conformance_target,
    create_simulator,
)

pytestmark = pytest.mark.anyio

KEY = "Wx7fQ2mZ9kLp3RtV8nYc4HsJ6dGb1aE5"
APPID, MCH_ID = "wx2421b1c4370ec43b", "10000100"
LI_CODE, WANG_CODE, NOBODY = "134567890123456781", "134567890123456782", "134567890123456789"
LI, WANG = "oLi-openid", "oWang-openid"

PAY = PayRequest(
    wallet_request_id="P20260301080000a1b2c3d4e5f60718",
    acquirer_id="CAUSEWAY",
    payment_code=LI_CODE,
    payment_amount=Amount("JPY", 1200),
    pay_to_amount=Amount("CNY", 5736),
    quote=None,
    merchant=Merchant("M-1", "Ramen Ichiban", "5812", "JP"),
    order_description="2 x ramen",
    reference_order_id="ORD-1",
)


def refund_of(
    refund_id: str, jpy: int, *, payment_id: str | None = None, order: str = PAY.wallet_request_id
) -> RefundRequest:
    return RefundRequest(
        refund_request_id=refund_id,
        wallet_request_id=order,
        wallet_payment_id=payment_id,
        acquirer_id="CAUSEWAY",
        refund_amount=Amount("JPY", jpy),
        refund_from_amount=Amount("CNY", jpy * 478 // 100),
        quote=None,
    )


@pytest.fixture
def wallet() -> SimulatedWallet:
    return SimulatedWallet(
        appid=APPID,
        mch_id=MCH_ID,
        api_key=KEY,
        accounts=[
            SimulatedAccount(LI, LI_CODE, 1_000_000, "Li Wei"),
            SimulatedAccount(WANG, WANG_CODE, 1_000, "Wang Fang"),
        ],
        rates={"JPY": Decimal("0.0478")},
        single_payment_limit=200_000,
    )


def settings(**changes: Any) -> dict[str, Any]:
    base = {"base_url": "http://wallet.test", "appid": APPID, "mch_id": MCH_ID, "api_key": KEY}
    return base | {"currencies": ["CNY"], "regions": ["CN"]} | changes


class Hub:
    """The connector and a client to the simulator: what the core would do, in miniature."""

    def __init__(self, connector: WeChatPayConnector, client: httpx.AsyncClient) -> None:
        self.connector = connector
        self.client = client

    async def _send(self, request: httpx.Request, deadline: float | None = None) -> httpx.Response:
        return await exchange(
            self.client, request, connector=self.connector.name, deadline=deadline
        )

    async def pay(self, request: PayRequest = PAY, deadline: float | None = None) -> PaymentResult:
        response = await self._send(self.connector.build_pay(request), deadline)
        return self.connector.parse_pay(request, response)

    async def inquire(self, order: str = PAY.wallet_request_id) -> PaymentResult:
        request = InquireRequest(order, "CAUSEWAY")
        response = await self._send(self.connector.build_inquire(request))
        return self.connector.parse_inquire(request, response)

    async def cancel(self, order: str = PAY.wallet_request_id) -> CancelResult:
        request = CancelRequest(order, "CAUSEWAY")
        response = await self._send(self.connector.build_cancel(request))
        return self.connector.parse_cancel(request, response)

    async def refund(self, request: RefundRequest) -> RefundResult:
        response = await self._send(self.connector.build_refund(request))
        return self.connector.parse_refund(request, response)

    async def sim(self, path: str) -> Any:
        response = await self.client.get(f"/_sim/{path}")
        assert response.status_code == 200
        return response.json()

    async def balance(self, openid: str) -> int:
        accounts = await self.sim("accounts")
        return next(int(a["balance"]) for a in accounts if a["openid"] == openid)

    async def moves(self) -> list[tuple[str, str, int]]:
        return [(e["kind"], e["openid"], e["amount"]) for e in await self.sim("ledger")]


@pytest.fixture
async def client(wallet: SimulatedWallet) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_simulator(wallet))
    async with httpx.AsyncClient(transport=transport, base_url="http://wallet.test") as client:
        yield client


@pytest.fixture
def hub(client: httpx.AsyncClient) -> Hub:
    return Hub(WeChatPayConnector("wechat", settings()), client)


def fields_of(response: httpx.Response) -> dict[str, str]:
    # Our own bytes, read with the plain parser so that the connector's is not trusted.
    return {child.tag: child.text or "" for child in ET.fromstring(response.content)}  # noqa: S314


def signed_by(fields: dict[str, str], key: str) -> bool:
    text = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if v and k != "sign")
    mac = hmac.new(key.encode(), f"{text}&key={key}".encode(), hashlib.sha256)
    return mac.hexdigest().upper() == fields.get("sign")


# --- paying ----------------------------------------------------------------------------


async def test_a_payment_charges_the_payer_in_cny(hub: Hub) -> None:
    result = await hub.pay()
    assert (result.outcome, result.customer_id) == (Outcome.SUCCEEDED, LI)
    assert result.wallet_payment_id is not None
    assert result.paid_at is not None
    assert await hub.balance(LI) == 1_000_000 - 5736
    assert await hub.moves() == [("pay", LI, 5736)]
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 1}
    raw = await hub.client.send(
        hub.connector.build_inquire(InquireRequest(PAY.wallet_request_id, "x"))
    )
    fields = fields_of(raw)
    assert signed_by(fields, KEY)
    assert {
        k: fields[k] for k in ("fee_type", "total_fee", "cash_fee_type", "cash_fee", "rate")
    } == {
        "fee_type": "JPY",
        "total_fee": "1200",
        "cash_fee_type": "CNY",
        "cash_fee": "5736",
        "rate": "4780000",
    }


@pytest.mark.parametrize(
    ("request_", "code", "wallet_code", "afterwards"),
    [
        (replace(PAY, payment_code=WANG_CODE), "USER_BALANCE_NOT_ENOUGH", "NOTENOUGH", "PAYERROR"),
        (
            replace(PAY, payment_amount=Amount("JPY", 50_000)),
            "RISK_REJECT",
            "TRADE_ERROR",
            "PAYERROR",
        ),
        (replace(PAY, payment_code=NOBODY), "USER_NOT_EXIST", "AUTH_CODE_INVALID", "PAYERROR"),
        (replace(PAY, payment_amount=Amount("KRW", 9000)), "PROCESS_FAIL", "PARAM_ERROR", None),
    ],
    ids=["balance", "limit", "unknown-payer", "currency"],
)
async def test_declines_move_no_money(
    hub: Hub, request_: PayRequest, code: str, wallet_code: str, afterwards: str | None
) -> None:
    result = await hub.pay(request_)
    assert (result.outcome, result.code, result.wallet_code) == (Outcome.FAILED, code, wallet_code)
    assert (await hub.balance(LI), await hub.balance(WANG)) == (1_000_000, 1_000)
    assert await hub.moves() == []
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 0}
    inquiry = await hub.inquire()
    assert inquiry.outcome is Outcome.FAILED
    assert inquiry.wallet_code == (afterwards or "ORDERNOTEXIST")


async def test_a_repeated_order_number_charges_once(hub: Hub) -> None:
    first = await hub.pay()
    second = await hub.pay()
    assert first.outcome is Outcome.SUCCEEDED
    assert (second.outcome, second.wallet_code) == (Outcome.PENDING, "ORDERPAID")
    inquiry = await hub.inquire()
    assert (inquiry.outcome, inquiry.wallet_payment_id) == (
        Outcome.SUCCEEDED,
        first.wallet_payment_id,
    )
    assert await hub.sim("stats") == {"pay_requests": 2, "charges": 1}
    assert await hub.balance(LI) == 1_000_000 - 5736


async def test_concurrent_repeats_charge_once(hub: Hub) -> None:
    results = await asyncio.gather(*(hub.pay() for _ in range(5)))
    assert sorted(r.outcome for r in results) == [Outcome.PENDING] * 4 + [Outcome.SUCCEEDED]
    assert await hub.sim("stats") == {"pay_requests": 5, "charges": 1}
    assert await hub.moves() == [("pay", LI, 5736)]


async def test_an_order_number_reused_for_another_order_is_left_to_an_inquiry(hub: Hub) -> None:
    await hub.pay()
    other = await hub.pay(replace(PAY, payment_amount=Amount("JPY", 1300)))
    assert (other.outcome, other.wallet_code) == (Outcome.PENDING, "OUT_TRADE_NO_USED")
    assert await hub.balance(LI) == 1_000_000 - 5736


async def test_inquiry(hub: Hub) -> None:
    unknown = await hub.inquire()
    assert (unknown.outcome, unknown.code) == (Outcome.FAILED, "ORDER_NOT_EXIST")
    paid = await hub.pay()
    found = await hub.inquire()
    assert found.outcome is Outcome.SUCCEEDED
    assert (found.wallet_payment_id, found.customer_id) == (paid.wallet_payment_id, LI)


async def test_the_payer_types_a_password_above_the_password_free_limit(
    wallet: SimulatedWallet,
) -> None:
    wallet = replace(wallet, password_free_limit=5000)
    app = create_simulator(wallet)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://w") as c:
        hub = Hub(WeChatPayConnector("wechat", settings(base_url="http://w")), c)
        paid = await hub.pay()
        assert (paid.outcome, paid.wallet_code) == (Outcome.PENDING, "USERPAYING")
        assert (await hub.inquire()).outcome is Outcome.SUCCEEDED
        poor = replace(PAY, wallet_request_id="P2", payment_code=WANG_CODE)
        assert (await hub.pay(poor)).wallet_code == "USERPAYING"
        failed = await hub.inquire("P2")
        assert (failed.outcome, failed.wallet_code) == (Outcome.FAILED, "PAYERROR")
        assert await hub.sim("stats") == {"pay_requests": 2, "charges": 1}


async def test_a_payment_waiting_for_the_password_can_be_reversed(wallet: SimulatedWallet) -> None:
    wallet = replace(wallet, password_free_limit=5000, password_seconds=3600)
    app = create_simulator(wallet)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://w") as c:
        hub = Hub(WeChatPayConnector("wechat", settings(base_url="http://w")), c)
        assert (await hub.pay()).outcome is Outcome.PENDING
        assert (await hub.inquire()).wallet_code == "USERPAYING"
        assert (await hub.cancel()).outcome is Outcome.SUCCEEDED
        assert (await hub.inquire()).wallet_code == "REVOKED"
        assert await hub.moves() == []


# --- cancelling and refunding -------------------------------------------------------------


async def test_a_reverse_gives_the_money_back_once(hub: Hub) -> None:
    await hub.pay()
    assert (await hub.cancel()).outcome is Outcome.SUCCEEDED
    assert (await hub.cancel()).outcome is Outcome.SUCCEEDED
    assert await hub.balance(LI) == 1_000_000
    assert await hub.moves() == [("pay", LI, 5736), ("reverse", LI, 5736)]
    inquiry = await hub.inquire()
    assert (inquiry.code, inquiry.wallet_code) == ("ORDER_IS_CLOSED", "REVOKED")
    again = await hub.pay()
    assert (again.outcome, again.code, again.wallet_code) == (
        Outcome.FAILED,
        "ORDER_IS_CLOSED",
        "ORDERREVERSED",
    )
    assert await hub.sim("stats") == {"pay_requests": 2, "charges": 1}


async def test_a_reverse_before_the_pay_arrives_keeps_it_from_charging(hub: Hub) -> None:
    assert (await hub.cancel()).outcome is Outcome.SUCCEEDED
    late = await hub.pay()
    assert (late.outcome, late.code) == (Outcome.FAILED, "ORDER_IS_CLOSED")
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 0}
    assert await hub.balance(LI) == 1_000_000


async def test_partial_and_full_refunds_then_no_more(hub: Hub) -> None:
    paid = await hub.pay()
    first = await hub.refund(refund_of("R-1", 600, payment_id=paid.wallet_payment_id))
    assert first.outcome is Outcome.SUCCEEDED
    repeat = await hub.refund(refund_of("R-1", 600, payment_id=paid.wallet_payment_id))
    assert (repeat.outcome, repeat.wallet_refund_id) == (Outcome.SUCCEEDED, first.wallet_refund_id)
    assert await hub.balance(LI) == 1_000_000 - 5736 + 2868
    rest = await hub.refund(refund_of("R-2", 600))
    assert rest.outcome is Outcome.SUCCEEDED
    assert rest.wallet_refund_id != first.wallet_refund_id
    over = await hub.refund(refund_of("R-3", 1))
    assert (over.outcome, over.code) == (Outcome.FAILED, "PROCESS_FAIL")
    assert "fully refunded" in over.message
    assert await hub.balance(LI) == 1_000_000
    assert [kind for kind, _, _ in await hub.moves()] == ["pay", "refund", "refund"]
    assert (await hub.inquire()).outcome is Outcome.SUCCEEDED  # REFUND: paid, then refunded


async def test_refunds_in_odd_shares_give_back_exactly_what_was_paid(hub: Hub) -> None:
    await hub.pay()
    assert (await hub.refund(refund_of("R-1", 1))).outcome is Outcome.SUCCEEDED
    assert (await hub.refund(refund_of("R-2", 1199))).outcome is Outcome.SUCCEEDED
    # 1/1200 of CNY 57.36 is 4.78 fen, rounded to 5; the last refund takes the rest.
    assert await hub.moves() == [("pay", LI, 5736), ("refund", LI, 5), ("refund", LI, 5731)]


async def test_an_over_refund_is_refused_whole(hub: Hub) -> None:
    await hub.pay()
    over = await hub.refund(refund_of("R-1", 1201))
    assert (over.outcome, over.code) == (Outcome.FAILED, "PROCESS_FAIL")
    assert over.message.startswith("INVALID_REQUEST")
    assert await hub.balance(LI) == 1_000_000 - 5736


async def test_refunds_of_what_cannot_be_refunded(hub: Hub) -> None:
    unknown = await hub.refund(refund_of("R-0", 100))
    assert (unknown.outcome, unknown.code) == (Outcome.FAILED, "ORDER_NOT_EXIST")
    await hub.pay(replace(PAY, wallet_request_id="P-poor", payment_code=WANG_CODE))
    unpaid = await hub.refund(refund_of("R-0", 100, order="P-poor"))
    assert (unpaid.outcome, unpaid.code) == (Outcome.FAILED, "PROCESS_FAIL")
    await hub.pay()
    wrong_id = await hub.refund(refund_of("R-1", 100, payment_id="4200000000000000000000000999"))
    assert wrong_id.code == "ORDER_NOT_EXIST"
    assert (await hub.refund(refund_of("R-2", 100))).outcome is Outcome.SUCCEEDED
    changed = await hub.refund(refund_of("R-2", 200))
    assert (changed.outcome, changed.code) == (Outcome.FAILED, "PROCESS_FAIL")
    assert changed.message.startswith("REFUND_FEE_MISMATCH")
    assert await hub.balance(LI) == 1_000_000 - 5736 + 478


# --- credentials and signatures -----------------------------------------------------------


@pytest.mark.parametrize(
    "changes", [{"api_key": "0" * 32}, {"mch_id": "10000999"}], ids=["key", "merchant"]
)
async def test_a_request_with_wrong_credentials_is_refused_unprocessed(
    client: httpx.AsyncClient, changes: dict[str, str]
) -> None:
    impostor = Hub(WeChatPayConnector("wechat", settings(**changes)), client)
    result = await impostor.pay()
    assert result.outcome is Outcome.PENDING
    assert "refused the request before processing" in result.message
    assert await impostor.sim("stats") == {"pay_requests": 1, "charges": 0}
    assert await impostor.balance(LI) == 1_000_000


async def test_an_appid_not_bound_to_the_merchant_is_declined(client: httpx.AsyncClient) -> None:
    stranger = Hub(WeChatPayConnector("wechat", settings(appid="wx0000000000000000")), client)
    result = await stranger.pay()
    assert (result.outcome, result.wallet_code) == (Outcome.FAILED, "APPID_MCHID_NOT_MATCH")


async def test_answers_are_signed_and_refusals_are_not(hub: Hub) -> None:
    answer = fields_of(await hub.client.send(hub.connector.build_pay(PAY)))
    assert signed_by(answer, KEY)
    refusal = fields_of(await hub.client.post("/pay/micropay", content=b"not xml"))
    assert refusal == {"return_code": "FAIL", "return_msg": "XML format error"}


async def test_institutional_mode_echoes_the_sub_merchant(client: httpx.AsyncClient) -> None:
    hub = Hub(WeChatPayConnector("wechat", settings(sub_mch_id="1900000109")), client)
    response = await client.send(hub.connector.build_pay(PAY))
    assert fields_of(response)["sub_mch_id"] == "1900000109"
    assert hub.connector.parse_pay(PAY, response).outcome is Outcome.SUCCEEDED


# --- the control API ---------------------------------------------------------------------


async def test_latency_hides_a_charge_that_an_inquiry_finds(hub: Hub) -> None:
    changed = await hub.client.post("/_sim/faults", json={"latency_seconds": 0.5})
    assert changed.json() == {"latency_seconds": 0.5, "unknown_status": False}
    with pytest.raises(WalletTimeout):
        await hub.pay(deadline=0.05)
    await hub.client.post("/_sim/faults", json={"latency_seconds": 0})
    assert (await hub.inquire()).outcome is Outcome.SUCCEEDED
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 1}


async def test_an_unknown_status_is_pending_until_it_is_known(hub: Hub) -> None:
    changed = await hub.client.post("/_sim/faults", json={"unknown_status": True})
    assert changed.json() == {"latency_seconds": 0.0, "unknown_status": True}
    assert (await hub.pay()).outcome is Outcome.PENDING
    assert (await hub.inquire()).outcome is Outcome.PENDING
    assert (await hub.inquire("P-never")).outcome is Outcome.PENDING
    await hub.client.post("/_sim/faults", json={"unknown_status": False})
    assert (await hub.inquire()).outcome is Outcome.SUCCEEDED
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 1}


@pytest.mark.parametrize(
    "body",
    [
        b'{"latency_seconds": -1}',
        b'{"latency_seconds": true}',
        b'{"latency_seconds": "1"}',
        b'{"latency_seconds": NaN}',
        b'{"unknown_status": 1}',
        b'{"latency": 1}',
        b"[1]",
        b"not json",
    ],
)
async def test_bad_faults_are_refused_and_change_nothing(
    client: httpx.AsyncClient, body: bytes
) -> None:
    assert (await client.post("/_sim/faults", content=body)).status_code == 400
    unchanged = await client.post("/_sim/faults", json={})
    assert unchanged.json() == {"latency_seconds": 0.0, "unknown_status": False}


async def test_each_app_keeps_its_own_books(wallet: SimulatedWallet) -> None:
    first, second = create_simulator(wallet), create_simulator(wallet)
    connector = WeChatPayConnector("wechat", settings())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=first), base_url="http://wallet.test"
    ) as one:
        assert (await Hub(connector, one).pay()).outcome is Outcome.SUCCEEDED
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=second), base_url="http://wallet.test"
    ) as two:
        assert await Hub(connector, two).balance(LI) == 1_000_000
    assert wallet.accounts[0].balance == 1_000_000


def test_the_wallets_secrets_stay_out_of_repr(wallet: SimulatedWallet) -> None:
    shown = repr(wallet)
    assert MCH_ID in shown
    assert KEY not in shown
    assert LI_CODE not in shown


async def test_the_conformance_target_pays_what_it_says() -> None:
    target = conformance_target()
    assert target.secrets
    assert not [s for s in target.secrets if s in repr(target)]
    assert target.unknown_payer not in (None, target.payer, target.poor_payer)
    assert target.simulator is not None
    transport = httpx.ASGITransport(app=target.simulator)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        connector = target.connect("http://sim")
        assert isinstance(connector, WeChatPayConnector)
        hub = Hub(connector, client)
        request = replace(
            PAY,
            payment_amount=Amount(target.payment_currency, target.payment_amount),
            pay_to_amount=Amount(target.wallet_currency, target.pay_to_amount),
        )
        assert (await hub.pay(replace(request, payment_code=target.payer))).outcome is (
            Outcome.SUCCEEDED
        )
        assert [amount for _, _, amount in await hub.moves()] == [target.pay_to_amount]
        poor = await hub.pay(
            replace(request, wallet_request_id="P2", payment_code=target.poor_payer)
        )
        assert poor.code == "USER_BALANCE_NOT_ENOUGH"
        assert target.unknown_payer is not None
        nobody = replace(request, wallet_request_id="P3", payment_code=target.unknown_payer)
        assert (await hub.pay(nobody)).code == "USER_NOT_EXIST"
