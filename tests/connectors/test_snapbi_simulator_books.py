"""The simulated SNAP wallet's books, gate and control API, driven through the connector."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from connectors import (
    Amount,
    CancelRequest,
    InquireRequest,
    Merchant,
    Outcome,
    PayRequest,
    RefundRequest,
    exchange,
)
from connectors.snapbi import SnapBiConnector
from connectors.snapbi._signature import HmacSigner
from connectors.snapbi.simulator import (
    SimulatedAccount,
    SimulatedWallet,
    create_simulator,
)

pytestmark = pytest.mark.anyio

SECRET, TOKEN, RINA = "books-client-secret", "books-b2b-token", "tok-rina"
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
WALLET = SimulatedWallet(
    partner_id="HUB-PARTNER-01",
    client_secret=SECRET,
    access_token=TOKEN,
    merchant_id="216620000000000001",
    accounts=[SimulatedAccount("ID-1", RINA, 500_000_000, "Rina")],
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
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_simulator(WALLET))
    async with httpx.AsyncClient(transport=transport, base_url="http://wallet.test") as client:
        yield client


class Calls:
    def __init__(self, client: httpx.AsyncClient, settings: dict[str, Any] = SETTINGS) -> None:
        self.client = client
        self.connector = SnapBiConnector("dana", settings)

    async def pay(self, request: PayRequest = PAY) -> Any:
        response = await exchange(self.client, self.connector.build_pay(request), connector="d")
        return self.connector.parse_pay(request, response)

    async def inquire(self) -> Any:
        request = InquireRequest(PAY.wallet_request_id, "CAUSEWAY")
        response = await exchange(self.client, self.connector.build_inquire(request), connector="d")
        return self.connector.parse_inquire(request, response)

    async def cancel(self) -> Any:
        request = CancelRequest(PAY.wallet_request_id, "CAUSEWAY")
        response = await exchange(self.client, self.connector.build_cancel(request), connector="d")
        return self.connector.parse_cancel(request, response)

    async def refund(self, request: RefundRequest) -> Any:
        response = await exchange(self.client, self.connector.build_refund(request), connector="d")
        return self.connector.parse_refund(request, response)

    async def sim(self, path: str) -> Any:
        return (await self.client.get(f"/_sim/{path}")).json()

    async def balance(self) -> int:
        return int((await self.sim("accounts"))[0]["balance"])


async def test_cancel_reverses_a_charge_once(client: httpx.AsyncClient) -> None:
    calls = Calls(client)
    await calls.pay()
    assert (await calls.cancel()).outcome is Outcome.SUCCEEDED
    assert (await calls.cancel()).outcome is Outcome.SUCCEEDED
    assert await calls.balance() == 500_000_000
    assert [e["kind"] for e in await calls.sim("ledger")] == ["pay", "reverse"]
    assert (await calls.inquire()).code == "ORDER_IS_CLOSED"
    again = await calls.pay()
    assert (again.outcome, again.code, again.wallet_code) == (
        Outcome.FAILED,
        "ORDER_IS_CLOSED",
        "4045404",
    )
    assert await calls.sim("stats") == {"pay_requests": 2, "charges": 1}


async def test_a_cancel_before_the_pay_finds_nothing(client: httpx.AsyncClient) -> None:
    calls = Calls(client)
    cancelled = await calls.cancel()
    assert (cancelled.outcome, cancelled.code) == (Outcome.FAILED, "ORDER_NOT_EXIST")


async def test_partial_and_full_refunds_then_no_more(client: httpx.AsyncClient) -> None:
    calls = Calls(client)
    paid = await calls.pay()
    first = await calls.refund(refund_of("rfd-1", 5_000_000, payment_id=paid.wallet_payment_id))
    assert first.outcome is Outcome.SUCCEEDED
    repeat = await calls.refund(refund_of("rfd-1", 5_000_000, payment_id=paid.wallet_payment_id))
    assert repeat.wallet_refund_id == first.wallet_refund_id
    assert await calls.balance() == 500_000_000 - 12_720_000 + 5_000_000
    over = await calls.refund(refund_of("rfd-2", 7_720_001))
    assert (over.outcome, over.code) == (Outcome.FAILED, "REFUND_AMOUNT_EXCEED")
    rest = await calls.refund(refund_of("rfd-3", 7_720_000))
    assert rest.outcome is Outcome.SUCCEEDED
    assert rest.wallet_refund_id != first.wallet_refund_id
    assert (await calls.refund(refund_of("rfd-4", 1))).code == "REFUND_AMOUNT_EXCEED"
    assert await calls.balance() == 500_000_000
    assert [e["kind"] for e in await calls.sim("ledger")] == ["pay", "refund", "refund"]
    assert (await calls.inquire()).outcome is Outcome.SUCCEEDED  # status 04, refunded
    refused = await calls.cancel()
    assert (refused.outcome, refused.code) == (Outcome.FAILED, "ORDER_STATUS_INVALID")


async def test_refund_dedup_and_unknown_payment(client: httpx.AsyncClient) -> None:
    calls = Calls(client)
    unknown = await calls.refund(refund_of("rfd-0", 100))
    assert (unknown.outcome, unknown.code) == (Outcome.FAILED, "ORDER_NOT_EXIST")
    await calls.pay()
    await calls.refund(refund_of("rfd-1", 100))
    changed = await calls.refund(refund_of("rfd-1", 200))
    assert changed.outcome is Outcome.PENDING  # a reused refund id is never a decline
    wrong_id = await calls.refund(refund_of("rfd-2", 100, payment_id="SNAP999999999999"))
    assert wrong_id.code == "ORDER_NOT_EXIST"
    assert await calls.balance() == 500_000_000 - 12_720_000 + 100


@pytest.mark.parametrize(
    ("change", "wallet_code"),
    [
        ({"client_secret": "not-the-secret"}, "4015400"),
        ({"access_token": "expired-token"}, "4015401"),
        ({"partner_id": "SOMEONE-ELSE"}, "4015400"),
    ],
    ids=["secret", "b2b-token", "partner"],
)
async def test_a_hub_the_wallet_does_not_trust_charges_nothing(
    client: httpx.AsyncClient, change: dict[str, str], wallet_code: str
) -> None:
    calls = Calls(client, SETTINGS | change)
    result = await calls.pay()
    assert (result.outcome, result.wallet_code) == (Outcome.PENDING, wallet_code)
    assert await calls.sim("stats") == {"pay_requests": 1, "charges": 0}
    assert await calls.balance() == 500_000_000


async def test_a_tampered_body_fails_the_signature(client: httpx.AsyncClient) -> None:
    request = Calls(client).connector.build_pay(PAY)
    forged = request.content.replace(b"127200.00", b"1272.00")
    response = await client.post(request.url.path, content=forged, headers=request.headers)
    assert (response.status_code, response.json()["responseCode"]) == (401, "4015400")


def resigned(request: httpx.Request, body: bytes, external_id: str) -> dict[str, str]:
    """``request``'s headers, signed again for ``body`` under a fresh X-EXTERNAL-ID."""
    headers = {k: v for k, v in request.headers.items() if k != "content-length"}
    signer = HmacSigner(SecretStr(SECRET))
    headers["x-signature"] = signer.sign(
        "POST", request.url.path, TOKEN, body, headers["x-timestamp"]
    )
    headers["x-external-id"] = external_id
    return headers


@pytest.mark.parametrize(
    ("body", "drop", "code", "message"),
    [
        (b"[1]", None, "4005400", "Bad Request"),
        (b'{"merchantId":"216620000000000001"}', None, "4005402", "partnerReferenceNo"),
        (
            b'{"partnerReferenceNo":"p-9","merchantId":"216620000000000001",'
            b'"amount":{"value":"127200","currency":"IDR"}}',
            None,
            "4005401",
            "amount.value",
        ),
        (
            b'{"partnerReferenceNo":"p-9","merchantId":"OTHER",'
            b'"amount":{"value":"127200.00","currency":"IDR"}}',
            None,
            "4045408",
            "Invalid Merchant",
        ),
        (None, "authorization-customer", "4005402", "Authorization-Customer"),
        (None, "x-timestamp", "4005402", "X-TIMESTAMP"),
        (None, "channel-id", "4005402", "CHANNEL-ID"),
    ],
    ids=[
        "not-object",
        "no-reference",
        "amount-format",
        "merchant",
        "no-customer",
        "no-time",
        "no-channel",
    ],
)
async def test_malformed_requests_are_refused_before_the_books(
    client: httpx.AsyncClient, body: bytes | None, drop: str | None, code: str, message: str
) -> None:
    request = Calls(client).connector.build_pay(PAY)
    content = request.content if body is None else body
    headers = resigned(request, content, "1".zfill(32))
    if drop is not None:
        del headers[drop]
    response = await client.post(request.url.path, content=content, headers=headers)
    assert (response.status_code, response.json()["responseCode"]) == (int(code[:3]), code)
    assert message in response.json()["responseMessage"]
    assert (await client.get("/_sim/stats")).json() == {"pay_requests": 1, "charges": 0}


async def test_a_timestamp_that_is_not_iso_8601_is_refused(client: httpx.AsyncClient) -> None:
    request = Calls(client).connector.build_pay(PAY)
    headers = dict(request.headers) | {"x-timestamp": "01/03/2026 15:00"}
    response = await client.post(request.url.path, content=request.content, headers=headers)
    assert response.json()["responseCode"] == "4005401"


async def test_an_inconsistent_repeat_under_a_new_external_id(client: httpx.AsyncClient) -> None:
    calls = Calls(client)
    await calls.pay()
    changed = replace(PAY, pay_to_amount=Amount("IDR", 12_720_100))
    request = calls.connector.build_pay(changed)
    headers = resigned(request, request.content, "2".zfill(32))
    response = await client.post(request.url.path, content=request.content, headers=headers)
    result = calls.connector.parse_pay(changed, response)
    assert (result.outcome, result.wallet_code) == (Outcome.PENDING, "4045418")
    assert await calls.balance() == 500_000_000 - 12_720_000
