"""Cancels that hold the payment until the wallet answers them.

Found by the chaos run: a cancel whose answer was lost left the payment SUCCEEDED though
the wallet had reversed it; a refund claimed meanwhile made the retried cancel answer a
final F, and the ledger would have settled money the traveller already had back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors import Operation
from gateway.answers import Answer
from gateway.models import Payment
from gateway.recovery import Recovery, RecoveryPolicy
from gateway.results import ResultCode
from gateway.states import PaymentStatus
from routing import Route
from tests.gateway.conftest import LocalHub, pay_body, refund_body, without_operation

pytestmark = pytest.mark.anyio


async def test_no_refund_starts_while_a_cancel_is_unanswered(hub: LocalHub) -> None:
    assert (await hub.siam.call("pay", pay_body("lost-cancel")))["result"]["resultStatus"] == "S"
    cancel = {"paymentRequestId": "lost-cancel"}
    refund = refund_body("lost-cancel", "lost-cancel-R1", "1000")
    await hub.faults(
        "kakaopay-aps", drop_rate=1
    )  # the wallet reverses the charge; the answer is lost
    assert (await hub.siam.call("cancelPayment", cancel))["result"]["resultStatus"] == "U"
    await hub.faults("kakaopay-aps", drop_rate=0)

    refused = await hub.siam.call("refund", refund)
    retried = await hub.siam.call("cancelPayment", cancel)  # as Alipay+ says: retry on U

    assert refused["result"]["resultCode"] == "ORDER_STATUS_INVALID"
    assert "being cancelled" in refused["result"]["resultMessage"]
    assert retried["result"]["resultStatus"] == "S"
    ledger = (await hub.http.get(hub.wallets["kakaopay-aps"] + "/_sim/ledger")).json()
    assert [e["kind"] for e in ledger] == ["pay", "reverse"]  # the wallet gave it back, once
    inquiry = await hub.siam.call("inquiryPayment", cancel)
    assert inquiry["paymentStatus"] == "CANCELLED"
    stored = await hub.app_hub.store.find_refund("SIAM_ACQ", "lost-cancel-R1")
    assert stored is None  # nothing was claimed


async def test_a_cancel_whose_answer_was_lost_is_sent_again_by_recovery(hub: LocalHub) -> None:
    assert (await hub.siam.call("pay", pay_body("lost-cancel-2")))["result"]["resultStatus"] == "S"
    await hub.faults("kakaopay-aps", drop_rate=1)
    cancel = {"paymentRequestId": "lost-cancel-2"}
    assert (await hub.siam.call("cancelPayment", cancel))["result"]["resultStatus"] == "U"
    await hub.faults("kakaopay-aps", drop_rate=0)

    recovery = Recovery(hub.app_hub.engine, RecoveryPolicy())
    finished = await recovery.sweep(datetime.now(UTC) + timedelta(seconds=10))

    assert finished == 1
    inquiry = await hub.siam.call("inquiryPayment", cancel)
    assert inquiry["paymentStatus"] == "CANCELLED"
    refund = refund_body("lost-cancel-2", "lost-cancel-2-R1", "1000")
    assert (await hub.siam.call("refund", refund))["result"]["resultCode"] == "ORDER_STATUS_INVALID"


async def test_a_cancel_the_wallet_refuses_leaves_the_payment_refundable(
    hub: LocalHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await hub.siam.call("pay", pay_body("kept")))["result"]["resultStatus"] == "S"
    store = hub.app_hub.store
    payment = await store.find_payment("SIAM_ACQ", "kept")
    assert payment is not None
    engine = hub.app_hub.engine

    async def refused(payment: Payment, route: Route) -> Answer:
        return Answer.of(ResultCode.CANCEL_WINDOW_EXCEED, "the wallet's window has closed")

    with monkeypatch.context() as patched:
        patched.setattr(engine, "cancel_at_wallet", refused)
        answer = await hub.siam.call("cancelPayment", {"paymentRequestId": "kept"})

    assert answer["result"]["resultCode"] == "CANCEL_WINDOW_EXCEED"
    assert not await store.is_closed("SIAM_ACQ", "kept")
    refund = refund_body("kept", "kept-R1", "1000")
    assert (await hub.siam.call("refund", refund))["result"]["resultCode"] == "SUCCESS"


async def test_a_wallet_that_cannot_cancel_refuses_at_once_and_holds_nothing(
    hub: LocalHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    route = hub.app_hub.engine.router.route_named("kakaopay-aps")
    without_operation(monkeypatch, route, Operation.CANCEL)  # as M-Pesa's or Mojaloop's routes
    assert (await hub.siam.call("pay", pay_body("no-cancel")))["result"]["resultStatus"] == "S"
    before = await hub.accounts("kakaopay-aps")

    cancelled = await hub.siam.call("cancelPayment", {"paymentRequestId": "no-cancel"})

    assert cancelled["result"]["resultCode"] == "ORDER_STATUS_INVALID"  # final, not U
    assert await hub.accounts("kakaopay-aps") == before  # nothing sent
    _, closed, _ = await hub.app_hub.store.find_request("SIAM_ACQ", "no-cancel")
    assert not closed  # not held as a cancel under way: recovery will not resend it
    refund = refund_body("no-cancel", "no-cancel-R1", "1000")
    assert (await hub.siam.call("refund", refund))["result"]["resultCode"] == "SUCCESS"


async def test_an_alipay_plus_wallet_closes_a_payment_it_never_saw_at_once(
    hub: LocalHub,
) -> None:
    # Unlike SNAP BI (tests/gateway/test_never_arrived.py), an Alipay+ wallet closes the id
    # of a pay it never received, so a late arrival is refused: nothing to wait for.
    await hub.faults("kakaopay-aps", reject_rate=1.0, seed=1)  # HTTP 503, before its books
    unknown = await hub.siam.call("pay", pay_body("unseen-aps"))
    await hub.faults("kakaopay-aps", reject_rate=0.0)

    cancelled = (await hub.siam.call("cancelPayment", {"paymentRequestId": "unseen-aps"}))["result"]

    assert unknown["result"]["resultStatus"] == "U"
    assert (cancelled["resultStatus"], cancelled["resultCode"]) == ("S", "SUCCESS")
    stored = await hub.app_hub.store.find_payment("SIAM_ACQ", "unseen-aps")
    assert stored is not None
    assert datetime.now(UTC) < stored.created_at + hub.app_hub.engine.late_arrival
    assert stored.status is PaymentStatus.CANCELLED
    assert stored.result_message == "The payment was cancelled."
    assert (await hub.stats("kakaopay-aps"))["charges"] == 0
