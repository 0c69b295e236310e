"""The traveller scans the merchant's QR with their wallet: end to end through the simulator.

The simulated wallet's app claims the order from the hub, charges the traveller and reports
back; the merchant is notified. Reports can be lost or duplicated.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.config import NotificationsConfig
from gateway.local import AcquirerInbox, serve
from tests.conftest import Backend
from tests.gateway.conftest import LocalHub, acquirer_inbox, local_hub
from tests.gateway.test_orders import order_body

pytestmark = pytest.mark.anyio

FAST = NotificationsConfig(poll_seconds=0.02, schedule_seconds=[0, 0.05, 0.05])


@pytest.fixture
def inbox(state_dir: Path) -> AcquirerInbox:
    """SIAM_ACQ's notification endpoint: the acquirer of the merchant-presented orders."""
    return acquirer_inbox(state_dir, "SIAM_ACQ")


@pytest.fixture
async def inbox_url(inbox: AcquirerInbox) -> AsyncIterator[str]:
    async with serve(inbox.app) as server:
        yield server.url + AcquirerInbox.PATH


@pytest.fixture
async def mpm_hub(backend: Backend, state_dir: Path) -> AsyncIterator[LocalHub]:
    async with local_hub(backend, state_dir, notifications=FAST) as running:
        yield running


async def _until(predicate: Callable[[], bool]) -> None:
    for _ in range(250):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not within 5 s")


async def _scan(hub: LocalHub, code: str, customer: str, reports: int = 1) -> dict[str, Any]:
    response = await hub.http.post(
        hub.wallets["kakaopay-aps"] + "/_sim/scan",
        json={"code_value": code, "customer_id": customer, "reports": reports},
    )
    response.raise_for_status()
    summary: dict[str, Any] = response.json()
    return summary


async def _order(hub: LocalHub, request_id: str, **extra: Any) -> str:
    answer = await hub.siam.call("pay", order_body(request_id, **extra))
    return str(answer["orderCodeForm"]["codeDetails"][0]["codeValue"])


async def test_a_scanned_order_is_charged_reported_and_notified(
    mpm_hub: LocalHub, inbox: AcquirerInbox, inbox_url: str
) -> None:
    hub = mpm_hub
    before = await hub.accounts("kakaopay-aps")
    code = await _order(hub, "scan-1", paymentNotifyUrl=inbox_url)

    summary = await _scan(hub, code, "KP-0001")

    assert summary["charge"]["resultStatus"] == "S"
    assert summary["acks"] == [
        {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "Success."}
    ]
    paid = int(summary["payToAmount"]["value"])
    assert before["KP-0001"] - (await hub.accounts("kakaopay-aps"))["KP-0001"] == paid
    inquiry = await hub.siam.call("inquiryPayment", {"paymentRequestId": "scan-1"})
    assert inquiry["paymentStatus"] == "SUCCEEDED"
    assert inquiry["payToAmount"] == summary["payToAmount"]
    await _until(lambda: len(inbox.received) == 1)
    assert inbox.received[0][1]["paymentResult"]["resultStatus"] == "S"
    again = await _scan(hub, code, "KP-0001")
    assert again["claim"]["resultCode"] == "ORDER_IS_CLOSED"  # paid once, never twice
    assert (await hub.stats("kakaopay-aps"))["charges"] == 1


async def test_a_duplicated_report_is_applied_once(
    mpm_hub: LocalHub, inbox: AcquirerInbox, inbox_url: str
) -> None:
    hub = mpm_hub
    code = await _order(hub, "scan-2", paymentNotifyUrl=inbox_url)

    summary = await _scan(hub, code, "KP-0001", reports=2)

    assert [ack["resultStatus"] for ack in summary["acks"]] == ["S", "S"]
    await _until(lambda: len(inbox.received) == 1)
    await asyncio.sleep(0.2)
    assert len(inbox.received) == 1


async def test_a_declined_charge_is_a_failed_payment(mpm_hub: LocalHub) -> None:
    hub = mpm_hub
    code = await _order(hub, "scan-3", value="30000000")  # THB 300,000: over the limit

    summary = await _scan(hub, code, "KP-0001")

    assert summary["charge"]["resultCode"] == "PAYMENT_AMOUNT_EXCEED_LIMIT"
    inquiry = await hub.siam.call("inquiryPayment", {"paymentRequestId": "scan-3"})
    assert inquiry["paymentStatus"] == "FAILED"
    assert inquiry["paymentResult"]["resultCode"] == "PAYMENT_AMOUNT_EXCEED_LIMIT"


async def test_a_lost_report_is_found_by_inquiry_once_the_order_expires(
    backend: Backend, state_dir: Path
) -> None:
    async with local_hub(backend, state_dir, order_ttl_seconds=1) as hub:
        code = await _order(hub, "scan-4")
        summary = await _scan(hub, code, "KP-0001", reports=0)
        assert summary["charge"]["resultStatus"] == "S"
        waiting = await hub.siam.call("inquiryPayment", {"paymentRequestId": "scan-4"})
        assert waiting["paymentStatus"] == "PENDING"  # the wallet has not reported yet

        await asyncio.sleep(1.1)
        found = await hub.siam.call("inquiryPayment", {"paymentRequestId": "scan-4"})

    assert found["paymentStatus"] == "SUCCEEDED"  # asked of the wallet after expiry


async def test_the_cashier_page_pays_the_order(mpm_hub: LocalHub) -> None:
    hub = mpm_hub
    body = order_body("cashier-2")
    body["paymentFactor"] = {"isCashierPayment": "true", "isInStorePayment": "false"}
    body["paymentMethod"] = {"paymentMethodType": "KAKAOPAY"}
    answer = await hub.siam.call("pay", body)

    page = await hub.http.get(answer["paymentUrl"])
    code = page.text.split('name="codeValue" value="', 1)[1].split('"', 1)[0]
    receipt = await hub.http.post(
        hub.wallets["kakaopay-aps"] + "/cashier", data={"codeValue": code, "customerId": "KP-0001"}
    )

    assert page.status_code == 200
    assert "Kim Min-jun" in page.text
    assert "SUCCESS" in receipt.text
    inquiry = await hub.siam.call("inquiryPayment", {"paymentRequestId": "cashier-2"})
    assert inquiry["paymentStatus"] == "SUCCEEDED"
