"""The Alipay+ connector against the simulated wallet, in process (``httpx.ASGITransport``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
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
    RsaSigner,
    exchange,
    signed_content,
)
from connectors.alipayplus import AlipayPlusConnector
from connectors.alipayplus.simulator import SimulatedAccount, SimulatedWallet, create_simulator

pytestmark = pytest.mark.anyio

KIM_CODE = "281000000000000001"
LEE_CODE = "281000000000000002"

PAY = PayRequest(
    wallet_request_id="pay-1-w1",
    acquirer_id="CAUSEWAY",
    payment_code=KIM_CODE,
    payment_amount=Amount("JPY", 1200),
    pay_to_amount=Amount("KRW", 11016),
    quote=None,
    merchant=Merchant("M-1", "Ramen Ichiban", "5812", "JP"),
    order_description="2 x ramen",
    reference_order_id="ORD-1",
)


def refund_of(request_id: str, krw: int, *, payment_id: str | None = None) -> RefundRequest:
    return RefundRequest(
        refund_request_id=request_id,
        wallet_request_id=PAY.wallet_request_id,
        wallet_payment_id=payment_id,
        acquirer_id="CAUSEWAY",
        refund_amount=Amount("JPY", max(1, krw // 9)),
        refund_from_amount=Amount("KRW", krw),
        quote=None,
    )


@pytest.fixture
def wallet(hub_keys: tuple[bytes, bytes], wallet_keys: tuple[bytes, bytes]) -> SimulatedWallet:
    return SimulatedWallet(
        psp_id="KRWALLET",
        currency="KRW",
        client_id="KRWALLET_0001",
        private_key=wallet_keys[0],
        hub_public_key=hub_keys[1],
        accounts=[
            SimulatedAccount("K-1", KIM_CODE, 100_000, "Kim"),
            SimulatedAccount("K-2", LEE_CODE, 500, "Lee"),
        ],
        single_payment_limit=200_000,
    )


class Hub:
    """The connector and a client to the simulator: what the core would do, in miniature."""

    def __init__(self, connector: AlipayPlusConnector, client: httpx.AsyncClient) -> None:
        self.connector = connector
        self.client = client

    async def _send(self, request: httpx.Request) -> httpx.Response:
        return await exchange(self.client, request, connector=self.connector.name)

    async def pay(self, request: PayRequest = PAY) -> PaymentResult:
        response = await self._send(self.connector.build_pay(request))
        return self.connector.parse_pay(request, response)

    async def inquire(self, request_id: str = PAY.wallet_request_id) -> PaymentResult:
        request = InquireRequest(request_id, "CAUSEWAY")
        response = await self._send(self.connector.build_inquire(request))
        return self.connector.parse_inquire(request, response)

    async def cancel(self, request_id: str = PAY.wallet_request_id) -> CancelResult:
        request = CancelRequest(request_id, "CAUSEWAY")
        response = await self._send(self.connector.build_cancel(request))
        return self.connector.parse_cancel(request, response)

    async def refund(self, request: RefundRequest) -> RefundResult:
        response = await self._send(self.connector.build_refund(request))
        return self.connector.parse_refund(request, response)

    async def sim(self, path: str) -> Any:
        response = await self.client.get(f"/_sim/{path}")
        assert response.status_code == 200
        return response.json()

    async def balance(self, customer_id: str) -> int:
        accounts = await self.sim("accounts")
        return next(int(a["balance"]) for a in accounts if a["customer_id"] == customer_id)


@pytest.fixture
async def client(wallet: SimulatedWallet) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_simulator(wallet))
    async with httpx.AsyncClient(transport=transport, base_url="http://wallet.test") as client:
        yield client


@pytest.fixture
def hub(connector: AlipayPlusConnector, client: httpx.AsyncClient) -> Hub:
    return Hub(connector, client)


async def test_a_payment_debits_the_account(hub: Hub) -> None:
    result = await hub.pay()
    assert result.outcome is Outcome.SUCCEEDED
    assert result.customer_id == "K-1"
    assert result.wallet_payment_id is not None
    assert result.paid_at is not None
    assert await hub.balance("K-1") == 100_000 - 11016
    ledger = await hub.sim("ledger")
    assert [(e["kind"], e["customer_id"], e["amount"]) for e in ledger] == [("pay", "K-1", 11016)]
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 1}


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (replace(PAY, payment_code=LEE_CODE), "USER_BALANCE_NOT_ENOUGH"),
        (replace(PAY, pay_to_amount=Amount("KRW", 200_001)), "PAYMENT_AMOUNT_EXCEED_LIMIT"),
        (replace(PAY, payment_code="289999999999999999"), "USER_NOT_EXIST"),
        (replace(PAY, pay_to_amount=Amount("JPY", 1200)), "CURRENCY_NOT_SUPPORT"),
    ],
    ids=["balance", "limit", "unknown-code", "currency"],
)
async def test_declines_move_no_money(hub: Hub, request_: PayRequest, code: str) -> None:
    result = await hub.pay(request_)
    assert (result.outcome, result.code) == (Outcome.FAILED, code)
    assert await hub.balance("K-1") == 100_000
    assert await hub.balance("K-2") == 500
    assert await hub.sim("ledger") == []
    inquiry = await hub.inquire()
    assert (inquiry.outcome, inquiry.code) == (Outcome.FAILED, code)


async def test_a_repeated_request_id_charges_once(hub: Hub) -> None:
    first = await hub.pay()
    second = await hub.pay()
    assert first.outcome is second.outcome is Outcome.SUCCEEDED
    assert second.wallet_payment_id == first.wallet_payment_id
    assert await hub.sim("stats") == {"pay_requests": 2, "charges": 1}
    assert await hub.balance("K-1") == 100_000 - 11016


async def test_an_inconsistent_repeat_is_refused_and_left_to_an_inquiry(hub: Hub) -> None:
    first = await hub.pay()
    second = await hub.pay(replace(PAY, pay_to_amount=Amount("KRW", 11017)))
    assert (second.outcome, second.wallet_code) == (Outcome.PENDING, "REPEAT_REQ_INCONSISTENT")
    assert await hub.balance("K-1") == 100_000 - 11016
    inquiry = await hub.inquire()
    assert inquiry.outcome is Outcome.SUCCEEDED
    assert inquiry.wallet_payment_id == first.wallet_payment_id


async def test_inquiry(hub: Hub) -> None:
    unknown = await hub.inquire()
    assert (unknown.outcome, unknown.code) == (Outcome.FAILED, "ORDER_NOT_EXIST")
    paid = await hub.pay()
    found = await hub.inquire()
    assert found.outcome is Outcome.SUCCEEDED
    assert (found.wallet_payment_id, found.customer_id) == (paid.wallet_payment_id, "K-1")


async def test_cancel_reverses_a_charge_once(hub: Hub) -> None:
    await hub.pay()
    assert (await hub.cancel()).outcome is Outcome.SUCCEEDED
    assert await hub.balance("K-1") == 100_000
    assert (await hub.cancel()).outcome is Outcome.SUCCEEDED
    assert await hub.balance("K-1") == 100_000
    assert [e["kind"] for e in await hub.sim("ledger")] == ["pay", "reverse"]
    inquiry = await hub.inquire()
    assert (inquiry.outcome, inquiry.code) == (Outcome.FAILED, "ORDER_IS_CLOSED")
    again = await hub.pay()
    assert (again.outcome, again.code) == (Outcome.FAILED, "ORDER_IS_CLOSED")
    assert await hub.sim("stats") == {"pay_requests": 2, "charges": 1}


async def test_a_cancel_before_the_pay_closes_the_id(hub: Hub) -> None:
    assert (await hub.cancel()).outcome is Outcome.SUCCEEDED
    late = await hub.pay()
    assert (late.outcome, late.code) == (Outcome.FAILED, "ORDER_IS_CLOSED")
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 0}
    assert (await hub.inquire()).code == "ORDER_IS_CLOSED"


async def test_partial_and_full_refunds_then_no_more(hub: Hub) -> None:
    paid = await hub.pay()
    first = await hub.refund(refund_of("rfd-1", 5000, payment_id=paid.wallet_payment_id))
    assert first.outcome is Outcome.SUCCEEDED
    assert first.wallet_refund_id is not None
    repeat = await hub.refund(refund_of("rfd-1", 5000, payment_id=paid.wallet_payment_id))
    assert repeat.wallet_refund_id == first.wallet_refund_id
    assert await hub.balance("K-1") == 100_000 - 11016 + 5000
    rest = await hub.refund(refund_of("rfd-2", 6016))
    assert rest.outcome is Outcome.SUCCEEDED
    assert rest.wallet_refund_id != first.wallet_refund_id
    over = await hub.refund(refund_of("rfd-3", 1))
    assert (over.outcome, over.code) == (Outcome.FAILED, "REFUND_AMOUNT_EXCEED")
    assert await hub.balance("K-1") == 100_000
    assert [e["kind"] for e in await hub.sim("ledger")] == ["pay", "refund", "refund"]


async def test_an_over_refund_is_refused_whole(hub: Hub) -> None:
    await hub.pay()
    over = await hub.refund(refund_of("rfd-1", 11017))
    assert (over.outcome, over.code) == (Outcome.FAILED, "REFUND_AMOUNT_EXCEED")
    assert await hub.balance("K-1") == 100_000 - 11016


async def test_refund_dedup_and_unknown_payment(hub: Hub) -> None:
    unknown = await hub.refund(refund_of("rfd-0", 100))
    assert (unknown.outcome, unknown.code) == (Outcome.FAILED, "ORDER_NOT_EXIST")
    await hub.pay()
    await hub.refund(refund_of("rfd-1", 100))
    changed = await hub.refund(refund_of("rfd-1", 200))
    assert (changed.outcome, changed.code) == (Outcome.FAILED, "REPEAT_REQ_INCONSISTENT")
    wrong_id = await hub.refund(refund_of("rfd-2", 100, payment_id="KRWALLET-PAY-999999"))
    assert wrong_id.code == "ORDER_NOT_EXIST"
    assert await hub.balance("K-1") == 100_000 - 11016 + 100


async def test_a_request_not_signed_by_the_hub_is_refused(
    client: httpx.AsyncClient, settings: dict[str, Any], stranger_keys: tuple[bytes, bytes]
) -> None:
    impostor = Hub(
        AlipayPlusConnector("kr", settings | {"private_key": stranger_keys[0].decode()}), client
    )
    result = await impostor.pay()
    assert (result.outcome, result.code) == (Outcome.FAILED, "INVALID_SIGNATURE")
    assert await impostor.sim("stats") == {"pay_requests": 1, "charges": 0}
    assert await impostor.balance("K-1") == 100_000


async def test_answers_are_signed_under_lowercase_headers(hub: Hub) -> None:
    response = await hub.client.send(hub.connector.build_inquire(InquireRequest("x", "CAUSEWAY")))
    names = {name for name, _ in response.headers.raw}
    assert {b"client-id", b"response-time", b"signature"} <= names
    assert response.headers["client-id"] == "KRWALLET_0001"


async def test_amounts_that_are_not_digit_strings_are_illegal(
    client: httpx.AsyncClient, hub_keys: tuple[bytes, bytes]
) -> None:
    body = (
        b'{"paymentRequestId":"p-9","paymentAmount":{"currency":"JPY","value":1200},'
        b'"payToAmount":{"currency":"KRW","value":"11016"},'
        b'"paymentMethod":{"paymentMethodType":"CONNECT_WALLET","paymentMethodId":"'
        + KIM_CODE.encode()
        + b'"}}'
    )
    path, time = "/aps/api/v1/payments/pay", "2026-03-01T08:00:00+00:00"
    signature = RsaSigner(hub_keys[0]).header(signed_content("POST", path, "HUB", time, body))
    headers = {"client-id": "HUB", "request-time": time, "signature": signature}
    response = await client.post(path, content=body, headers=headers)
    assert response.json()["result"]["resultCode"] == "PARAM_ILLEGAL"
    assert (await client.get("/_sim/stats")).json()["charges"] == 0


async def test_latency_can_be_changed_at_run_time(client: httpx.AsyncClient) -> None:
    changed = await client.post("/_sim/faults", json={"latency_seconds": 0.01})
    assert changed.json() == {"latency_seconds": 0.01}
    for bad in ({"latency_seconds": -1}, {"latency_seconds": True}, {}, [1]):
        assert (await client.post("/_sim/faults", json=bad)).status_code == 400


async def test_each_app_keeps_its_own_books(
    wallet: SimulatedWallet, connector: AlipayPlusConnector
) -> None:
    first, second = create_simulator(wallet), create_simulator(wallet)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=first)) as one:
        assert (await Hub(connector, one).pay()).outcome is Outcome.SUCCEEDED
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=second), base_url="http://wallet.test"
    ) as two:
        assert await Hub(connector, two).balance("K-1") == 100_000
    assert wallet.accounts[0].balance == 100_000


def test_the_wallets_secrets_stay_out_of_repr(wallet: SimulatedWallet) -> None:
    shown = repr(wallet)
    assert "KRWALLET" in shown
    assert "PRIVATE KEY" not in shown
    assert KIM_CODE not in shown


@pytest.mark.parametrize("late", [-1, 601, True, "5"])
async def test_a_scan_refuses_a_bad_report_delay(client: httpx.AsyncClient, late: object) -> None:
    wanted = {"code_value": "x", "customer_id": "K-1", "report_delay_seconds": late}
    refused = await client.post("/_sim/scan", json=wanted)
    assert refused.status_code == 400
    assert refused.json() == {"error": "report_delay_seconds must be 0 to 600"}
