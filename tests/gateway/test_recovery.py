"""Recovery drives every unresolved payment to a final state, with nobody inquiring."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.recovery import Recovery, RecoveryPolicy
from gateway.states import PaymentStatus
from tests.conftest import Backend
from tests.gateway.conftest import LocalHub, local_hub, pay_body

pytestmark = pytest.mark.anyio

LATER = timedelta(seconds=10)


@pytest.fixture
async def impatient_hub(backend: Backend, state_dir: Path) -> AsyncIterator[LocalHub]:
    async with local_hub(backend, state_dir, wallet_timeout_seconds=0.3) as running:
        yield running


def _recovery(hub: LocalHub) -> Recovery:
    engine = hub.app_hub.engine
    return Recovery(engine, RecoveryPolicy(deadline=timedelta(minutes=5)))


async def _latency(hub: LocalHub, seconds: float) -> None:
    response = await hub.http.post(
        hub.wallets["kakaopay-aps"] + "/_sim/faults", json={"latency_seconds": seconds}
    )
    assert response.status_code == 200


async def test_a_timed_out_payment_is_found_without_an_inquiry(impatient_hub: LocalHub) -> None:
    hub = impatient_hub
    await _latency(hub, 1.0)
    answer = await hub.siam.call("pay", pay_body("rec-1"))
    assert answer["result"]["resultStatus"] == "U"
    await _latency(hub, 0.0)

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
    assert closed.status is PaymentStatus.CANCELLED
    assert (await hub.stats("kakaopay-aps"))["charges"] == 1  # rec-2's only


async def test_a_payment_still_unknown_at_its_deadline_is_cancelled_and_reversed(
    impatient_hub: LocalHub,
) -> None:
    hub = impatient_hub
    before = await hub.accounts("kakaopay-aps")
    await _latency(hub, 1.0)
    await hub.siam.call("pay", pay_body("rec-3"))
    await _latency(hub, 0.0)
    faults = {"unknown_status": True}  # the wallet answers every inquiry with nonsense
    await hub.http.post(hub.wallets["kakaopay-aps"] + "/_sim/faults", json=faults)
    recovery = _recovery(hub)

    early = await recovery.sweep(datetime.now(UTC) + LATER)
    late = await recovery.sweep(datetime.now(UTC) + timedelta(minutes=6))

    assert early == 0
    assert late == 1
    payment = await hub.app_hub.store.find_payment("SIAM_ACQ", "rec-3")
    assert payment is not None
    assert payment.status is PaymentStatus.CANCELLED
    assert await hub.accounts("kakaopay-aps") == before  # the charge was reversed
