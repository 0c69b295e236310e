"""The SNAP BI connector against its simulated wallet, in process (``httpx.ASGITransport``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
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
    exchange,
)
from connectors.snapbi import SnapBiConnector
from connectors.snapbi.simulator import SimulatedAccount, SimulatedWallet, create_simulator

pytestmark = pytest.mark.anyio

SECRET, TOKEN = "sim-client-secret-0c1d", "sim-b2b-token-77e2"
RINA, BUDI, SARI, DEWI = "tok-rina", "tok-budi", "tok-sari", "tok-dewi"
SETTINGS: dict[str, Any] = {
    "base_url": "http://wallet.test",
    "partner_id": "HUB-PARTNER-01",
    "client_secret": SECRET,
    "access_token": TOKEN,
    "channel_id": "95221",
    "merchant_id": "216620000000000001",
    "currencies": ["IDR"],
    "regions": ["ID"],
}
PAY = PayRequest(
    wallet_request_id="pay-1-w1",
    acquirer_id="CAUSEWAY",
    payment_code=RINA,
    payment_amount=Amount("JPY", 1200),
    pay_to_amount=Amount("IDR", 12_720_000),
    quote=None,
    merchant=Merchant("M-1", "Ramen Ichiban", "5812", "JP"),
    order_description="2 x ramen",
    reference_order_id="ORD-1",
)


def refund_of(request_id: str, idr: int, *, payment_id: str | None = None) -> RefundRequest:
    return RefundRequest(
        refund_request_id=request_id,
        wallet_request_id=PAY.wallet_request_id,
        wallet_payment_id=payment_id,
        acquirer_id="CAUSEWAY",
        refund_amount=Amount("JPY", max(1, idr // 10_600)),
        refund_from_amount=Amount("IDR", idr),
        quote=None,
    )


@pytest.fixture
def wallet() -> SimulatedWallet:
    return SimulatedWallet(
        partner_id="HUB-PARTNER-01",
        client_secret=SECRET,
        access_token=TOKEN,
        merchant_id="216620000000000001",
        accounts=[
            SimulatedAccount("ID-1", RINA, 500_000_000, "Rina"),
            SimulatedAccount("ID-2", BUDI, 1_000_000, "Budi"),
            SimulatedAccount("ID-3", SARI, 500_000_000, "Sari", approves_in_app=True),
            SimulatedAccount("ID-4", DEWI, 1_000_000, "Dewi", approves_in_app=True),
        ],
        single_payment_limit=200_000_000,
    )


class Hub:
    """The connector and a client to the simulator: what the core would do, in miniature."""

    def __init__(self, connector: SnapBiConnector, client: httpx.AsyncClient) -> None:
        self.connector = connector
        self.client = client

    async def send(self, request: httpx.Request, deadline: float | None = None) -> httpx.Response:
        return await exchange(
            self.client, request, connector=self.connector.name, deadline=deadline
        )

    async def pay(self, request: PayRequest = PAY) -> PaymentResult:
        return self.connector.parse_pay(request, await self.send(self.connector.build_pay(request)))

    async def inquire(self, request_id: str = PAY.wallet_request_id) -> PaymentResult:
        request = InquireRequest(request_id, "CAUSEWAY")
        response = await self.send(self.connector.build_inquire(request))
        return self.connector.parse_inquire(request, response)

    async def cancel(self, request_id: str = PAY.wallet_request_id) -> CancelResult:
        request = CancelRequest(request_id, "CAUSEWAY")
        response = await self.send(self.connector.build_cancel(request))
        return self.connector.parse_cancel(request, response)

    async def refund(self, request: RefundRequest) -> RefundResult:
        response = await self.send(self.connector.build_refund(request))
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
def hub(client: httpx.AsyncClient) -> Hub:
    return Hub(SnapBiConnector("dana", SETTINGS), client)


async def test_a_payment_debits_the_account(hub: Hub) -> None:
    result = await hub.pay()
    assert result.outcome is Outcome.SUCCEEDED
    assert result.wallet_payment_id is not None
    assert await hub.balance("ID-1") == 500_000_000 - 12_720_000
    ledger = await hub.sim("ledger")
    assert [(e["kind"], e["customer_id"], e["amount"]) for e in ledger] == [
        ("pay", "ID-1", 12_720_000)
    ]
    assert ledger[0]["partner_reference_no"] == PAY.wallet_request_id
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 1}


@pytest.mark.parametrize(
    ("request_", "code", "wallet_code"),
    [
        (replace(PAY, payment_code=BUDI), "USER_BALANCE_NOT_ENOUGH", "4035414"),
        (
            replace(PAY, pay_to_amount=Amount("IDR", 200_000_001)),
            "PAYMENT_AMOUNT_EXCEED_LIMIT",
            "4035402",
        ),
        (replace(PAY, payment_code="tok-nobody"), "USER_NOT_EXIST", "4015402"),
        (replace(PAY, pay_to_amount=Amount("USD", 12_000)), "PROCESS_FAIL", "4045413"),
    ],
    ids=["balance", "limit", "unknown-payer", "currency"],
)
async def test_declines_move_no_money_and_an_inquiry_agrees(
    hub: Hub, request_: PayRequest, code: str, wallet_code: str
) -> None:
    result = await hub.pay(request_)
    assert (result.outcome, result.code, result.wallet_code) == (Outcome.FAILED, code, wallet_code)
    assert await hub.balance("ID-1") == 500_000_000
    assert await hub.balance("ID-2") == 1_000_000
    assert await hub.sim("ledger") == []
    inquiry = await hub.inquire()
    assert (inquiry.outcome, inquiry.code, inquiry.wallet_code) == (
        Outcome.FAILED,
        code,
        wallet_code,
    )


async def test_a_repeated_request_id_charges_once(hub: Hub) -> None:
    first = await hub.pay()
    second = await hub.pay()
    assert first.outcome is second.outcome is Outcome.SUCCEEDED
    assert second.wallet_payment_id == first.wallet_payment_id
    assert await hub.sim("stats") == {"pay_requests": 2, "charges": 1}
    assert await hub.balance("ID-1") == 500_000_000 - 12_720_000


async def test_an_inconsistent_repeat_is_left_to_an_inquiry(hub: Hub) -> None:
    first = await hub.pay()
    # Another amount is another message: the wallet sees the same X-EXTERNAL-ID reused.
    second = await hub.pay(replace(PAY, pay_to_amount=Amount("IDR", 12_720_100)))
    assert (second.outcome, second.wallet_code) == (Outcome.PENDING, "4095400")
    assert await hub.balance("ID-1") == 500_000_000 - 12_720_000
    inquiry = await hub.inquire()
    assert (inquiry.outcome, inquiry.wallet_payment_id) == (
        Outcome.SUCCEEDED,
        first.wallet_payment_id,
    )


async def test_an_external_id_reused_for_another_payment_is_a_conflict(hub: Hub) -> None:
    await hub.pay()
    other = replace(PAY, wallet_request_id="pay-2-w1")
    request = hub.connector.build_pay(other)
    request.headers["X-EXTERNAL-ID"] = hub.connector.build_pay(PAY).headers["X-EXTERNAL-ID"]
    result = hub.connector.parse_pay(other, await hub.send(request))
    assert (result.outcome, result.wallet_code) == (Outcome.PENDING, "4095400")
    assert (await hub.inquire("pay-2-w1")).code == "ORDER_NOT_EXIST"
    assert await hub.sim("stats") == {"pay_requests": 2, "charges": 1}


async def test_inquiry(hub: Hub) -> None:
    unknown = await hub.inquire()
    assert (unknown.outcome, unknown.code, unknown.wallet_code) == (
        Outcome.FAILED,
        "ORDER_NOT_EXIST",
        "4045501",
    )
    paid = await hub.pay()
    found = await hub.inquire()
    again = await hub.inquire()
    assert found.outcome is again.outcome is Outcome.SUCCEEDED
    assert found.wallet_payment_id == paid.wallet_payment_id
    assert found.paid_at is not None
    assert found.paid_at.astimezone(UTC) <= datetime.now(UTC)


async def test_an_in_app_approval_is_pending_until_an_inquiry_finds_it_paid(hub: Hub) -> None:
    result = await hub.pay(replace(PAY, payment_code=SARI))
    assert (result.outcome, result.wallet_code) == (Outcome.PENDING, "2005400")
    inquiry = await hub.inquire()
    assert inquiry.outcome is Outcome.SUCCEEDED
    assert await hub.balance("ID-3") == 500_000_000 - 12_720_000
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 1}


async def test_an_in_app_approval_without_funds_fails_on_inquiry(hub: Hub) -> None:
    result = await hub.pay(replace(PAY, payment_code=DEWI))
    assert result.outcome is Outcome.PENDING
    inquiry = await hub.inquire()
    assert (inquiry.outcome, inquiry.code) == (Outcome.FAILED, "USER_BALANCE_NOT_ENOUGH")
    assert await hub.balance("ID-4") == 1_000_000


async def test_an_approval_still_due_stays_pending(wallet: SimulatedWallet) -> None:
    app = create_simulator(replace(wallet, approval_seconds=3600))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://wallet.test"
    ) as client:
        hub = Hub(SnapBiConnector("dana", SETTINGS), client)
        assert (await hub.pay(replace(PAY, payment_code=SARI))).outcome is Outcome.PENDING
        inquiry = await hub.inquire()
        assert (inquiry.outcome, inquiry.wallet_code) == (Outcome.PENDING, "01")
        assert (await hub.cancel()).outcome is Outcome.SUCCEEDED
        assert (await hub.inquire()).code == "ORDER_IS_CLOSED"
        assert await hub.sim("stats") == {"pay_requests": 1, "charges": 0}
