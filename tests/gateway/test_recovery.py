"""Recovery drives every unresolved payment to a final state, with nobody inquiring."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta

import pytest

from connectors import Operation
from gateway.recovery import Recovery, RecoveryPolicy
from gateway.results import ResultCode
from gateway.states import PaymentStatus, RefundStatus
from tests.gateway.conftest import (
    MARIA,
    LocalHub,
    pay_body,
    refund_body,
    without_operation,
)
from tests.gateway.test_postings import refund

pytestmark = pytest.mark.anyio

LATER = timedelta(seconds=10)


def _recovery(hub: LocalHub) -> Recovery:
    engine = hub.app_hub.engine
    return Recovery(engine, RecoveryPolicy(deadline=timedelta(minutes=5)))


async def test_a_timed_out_payment_is_found_without_an_inquiry(impatient_hub: LocalHub) -> None:
    hub = impatient_hub
    await hub.latency("kakaopay-aps", 1.0)
    answer = await hub.siam.call("pay", pay_body("rec-1"))
    assert answer["result"]["resultStatus"] == "U"
    await hub.latency("kakaopay-aps", 0.0)

    finished = await _recovery(hub).sweep(datetime.now(UTC) + LATER)

    assert finished == 1
    store = hub.app_hub.store
    payment = await store.find_payment("SIAM_ACQ", "rec-1")
    assert payment is not None
    assert payment.status is PaymentStatus.SUCCEEDED
    assert (await hub.stats("kakaopay-aps"))["charges"] == 1


async def test_a_payment_the_wallet_never_saw_is_closed_at_the_wallet(hub: LocalHub) -> None:
    # The gateway died after persisting the payment and before calling the wallet.
    await hub.siam.call("pay", pay_body("rec-2"))
    store = hub.app_hub.store
    template = await store.find_payment("SIAM_ACQ", "rec-2")
    assert template is not None
    orphan = dataclasses.replace(
        template,
        payment_id="P-ORPHAN",
        payment_request_id="rec-orphan",
        wallet_request_id="P-ORPHAN",
        status=PaymentStatus.PENDING,
        wallet_payment_id=None,
        customer_id=None,
        completed_at=None,
    )
    await store.create_payment(orphan)

    finished = await _recovery(hub).sweep(datetime.now(UTC) + LATER)

    # The wallet has no such payment: the hub closes the id there (a late pay with it is
    # refused) and only then counts the payment cancelled.
    assert finished == 1
    closed = await store.find_payment("SIAM_ACQ", "rec-orphan")
    assert closed is not None
    assert closed.status is PaymentStatus.FAILED  # closed by the gateway, not cancelled
    assert closed.result_code is ResultCode.ORDER_IS_CLOSED
    assert (await hub.stats("kakaopay-aps"))["charges"] == 1  # rec-2's only


async def test_a_payment_still_unknown_at_its_deadline_is_cancelled_and_reversed(
    impatient_hub: LocalHub,
) -> None:
    hub = impatient_hub
    before = await hub.accounts("kakaopay-aps")
    await hub.latency("kakaopay-aps", 1.0)
    await hub.siam.call("pay", pay_body("rec-3", paymentNotifyUrl="http://127.0.0.1:9/notify"))
    await hub.latency("kakaopay-aps", 0.0)
    # The wallet answers every inquiry with nonsense.
    await hub.faults("kakaopay-aps", unknown_status=True)
    recovery = _recovery(hub)

    early = await recovery.sweep(datetime.now(UTC) + LATER)
    late = await recovery.sweep(datetime.now(UTC) + timedelta(minutes=6))

    assert early == 0
    assert late == 1
    store = hub.app_hub.store
    payment = await store.find_payment("SIAM_ACQ", "rec-3")
    assert payment is not None
    assert payment.status is PaymentStatus.FAILED  # it failed: the merchant never cancelled
    assert await hub.accounts("kakaopay-aps") == before  # the charge was reversed
    assert await store.notification_status(payment.payment_id) is not None  # told: F


async def test_past_its_deadline_a_payment_a_wallet_cannot_cancel_is_still_asked_about(
    impatient_hub: LocalHub, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    hub = impatient_hub
    route = hub.app_hub.engine.router.route_named("kakaopay-aps")
    without_operation(monkeypatch, route, Operation.CANCEL)  # as M-Pesa's or Mojaloop's routes
    await hub.latency("kakaopay-aps", 1.0)
    await hub.siam.call("pay", pay_body("rec-stuck"))
    await hub.latency("kakaopay-aps", 0.0)
    await hub.faults("kakaopay-aps", unknown_status=True)
    recovery = _recovery(hub)
    charged = await hub.accounts("kakaopay-aps")

    with caplog.at_level(logging.WARNING, logger="causeway.recovery"):
        for minutes in (6, 7, 8):
            assert await recovery.sweep(datetime.now(UTC) + timedelta(minutes=minutes)) == 0

    payment = await hub.app_hub.store.find_payment("SIAM_ACQ", "rec-stuck")
    assert payment is not None
    assert payment.status is PaymentStatus.UNKNOWN  # nobody may guess: the wallet charged
    assert await hub.accounts("kakaopay-aps") == charged  # no cancel was attempted
    stuck = [r for r in caplog.records if "cannot cancel" in r.getMessage()]
    assert len(stuck) == 1  # said once, not at every sweep


async def test_payments_stuck_past_their_deadline_do_not_starve_newer_ones(
    impatient_hub: LocalHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = impatient_hub
    route = hub.app_hub.engine.router.route_named("kakaopay-aps")
    without_operation(monkeypatch, route, Operation.CANCEL)
    await hub.latency("kakaopay-aps", 1.0)
    for request_id in ("rec-stuck-1", "rec-stuck-2"):  # the oldest, and they stay unknown
        assert (await hub.siam.call("pay", pay_body(request_id)))["result"]["resultStatus"] == "U"
    await hub.latency("kakaopay-aps", 0.0)
    await hub.faults("kakaopay-aps", unknown_status=True)
    await hub.latency("gcash-aps", 1.0)  # newer, and its wallet knows it charged
    newer = pay_body("rec-newer", code=MARIA, currency="JPY", value="800")
    assert (await hub.tokyo.call("pay", newer))["result"]["resultStatus"] == "U"
    await hub.latency("gcash-aps", 0.0)
    await hub.charged("gcash-aps")  # on a slow machine the wallet may take it late
    recovery = Recovery(hub.app_hub.engine, RecoveryPolicy(), batch=2)  # the stuck fill one
    store = hub.app_hub.store

    start = datetime.now(UTC) + timedelta(minutes=6)
    for second in range(3):
        await recovery.sweep(start + timedelta(seconds=second))

    paid = await store.find_payment("TOKYO_ACQ", "rec-newer")
    assert paid is not None
    assert paid.status is PaymentStatus.SUCCEEDED  # reached on the next page
    for request_id in ("rec-stuck-1", "rec-stuck-2"):
        stuck = await store.find_payment("SIAM_ACQ", request_id)
        assert stuck is not None
        assert stuck.status is PaymentStatus.UNKNOWN
    # The pages come round: the stuck ones are asked about again at their next turn.
    before = (await hub.inquiries("kakaopay-aps")).total()
    for second in (40, 41):
        await recovery.sweep(start + timedelta(seconds=second))
    assert (await hub.inquiries("kakaopay-aps")).total() == before + 2


async def _refund_answer_lost(hub: LocalHub, request_id: str) -> dict[str, object]:
    """Refund THB 250 of the payment ``request_id``; the wallet refunds, but its answer
    arrives after the gateway stopped waiting (``U``). Returns the refund request."""
    await hub.latency("kakaopay-aps", 1.0)
    asked = refund_body(request_id, f"{request_id}-r1", "25000")
    answer = await hub.siam.call("refund", asked)
    assert answer["result"]["resultStatus"] == "U"
    await hub.latency("kakaopay-aps", 0.0)
    return asked


async def test_a_refund_whose_answer_was_lost_is_sent_again_and_refunded_once(
    impatient_hub: LocalHub,
) -> None:
    hub = impatient_hub
    await hub.siam.call("pay", pay_body("rec-4"))
    paid = await hub.accounts("kakaopay-aps")
    asked = await _refund_answer_lost(hub, "rec-4")

    finished = await _recovery(hub).sweep(datetime.now(UTC) + LATER)

    assert finished == 1
    stored = await hub.app_hub.store.find_refund("SIAM_ACQ", "rec-4-r1")
    assert stored is not None
    assert stored.status is RefundStatus.SUCCEEDED
    after = await hub.accounts("kakaopay-aps")
    refunded = {who: after[who] - paid[who] for who in after if after[who] != paid[who]}
    assert list(refunded.values()) == [stored.refund_from_amount.minor]  # once, not twice
    replay = await hub.siam.call("refund", asked)
    assert replay["result"]["resultCode"] == "SUCCESS"


async def test_a_refund_the_gateway_never_sent_is_sent(hub: LocalHub) -> None:
    # The gateway died after claiming the refund and before sending it.
    await hub.siam.call("pay", pay_body("rec-5"))
    store = hub.app_hub.store
    payment = await store.find_payment("SIAM_ACQ", "rec-5")
    assert payment is not None
    paid = await hub.accounts("kakaopay-aps")
    orphan = refund(payment, "rec-5-r1", 10000)
    await store.create_refund(orphan, payment)

    finished = await _recovery(hub).sweep(datetime.now(UTC) + LATER)

    assert finished == 1
    stored = await store.find_refund("SIAM_ACQ", "rec-5-r1")
    assert stored is not None
    assert stored.status is RefundStatus.SUCCEEDED
    after = await hub.accounts("kakaopay-aps")
    assert sum(after.values()) - sum(paid.values()) == orphan.refund_from_amount.minor


def _refunds_not_deduplicated(hub: LocalHub, monkeypatch: pytest.MonkeyPatch) -> None:
    """KakaoPay's route as a wallet that would pay a refund sent twice, twice."""
    connector = hub.app_hub.engine.router.route_named("kakaopay-aps").connector
    doubling = dataclasses.replace(connector.capabilities, refunds_deduplicated=False)
    monkeypatch.setattr(connector, "capabilities", doubling)


async def test_a_refund_is_never_sent_again_to_a_wallet_that_would_pay_it_twice(
    impatient_hub: LocalHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = impatient_hub
    _refunds_not_deduplicated(hub, monkeypatch)
    await hub.siam.call("pay", pay_body("rec-6"))
    paid = await hub.accounts("kakaopay-aps")
    asked = await _refund_answer_lost(hub, "rec-6")

    finished = await _recovery(hub).sweep(datetime.now(UTC) + LATER)
    retried = await hub.siam.call("refund", asked)

    assert finished == 0
    assert retried["result"]["resultStatus"] == "U"  # for reconciliation, not a guess
    stored = await hub.app_hub.store.find_refund("SIAM_ACQ", "rec-6-r1")
    assert stored is not None
    assert stored.status is RefundStatus.UNKNOWN
    after = await hub.accounts("kakaopay-aps")
    moved = [after[who] - paid[who] for who in after if after[who] != paid[who]]
    assert moved == [stored.refund_from_amount.minor]  # the first send, and only it


async def test_refunds_left_for_reconciliation_do_not_starve_the_others(
    impatient_hub: LocalHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = impatient_hub
    _refunds_not_deduplicated(hub, monkeypatch)
    await hub.siam.call("pay", pay_body("rec-7"))
    await _refund_answer_lost(hub, "rec-7")  # KakaoPay's: never sent again, the oldest
    await hub.tokyo.call("pay", pay_body("rec-8", code=MARIA, currency="JPY", value="800"))
    await hub.latency("gcash-aps", 1.0)
    asked = refund_body("rec-8", "rec-8-r1", "100", currency="JPY")
    assert (await hub.tokyo.call("refund", asked))["result"]["resultStatus"] == "U"
    await hub.latency("gcash-aps", 0.0)
    recovery = Recovery(hub.app_hub.engine, RecoveryPolicy(), batch=1)

    finished = await recovery.sweep(datetime.now(UTC) + LATER)

    assert finished == 1  # GCash's, though KakaoPay's is older and the batch holds one
    stored = await hub.app_hub.store.find_refund("TOKYO_ACQ", "rec-8-r1")
    assert stored is not None
    assert stored.status is RefundStatus.SUCCEEDED
