"""A wallet that does not answer in time: the outcome is unknown, never guessed.

The simulator's latency is applied after it has written its books, so a timeout here hides
a charge that really happened; an inquiry must find it, and nothing may charge again.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.conftest import Backend
from tests.gateway.conftest import MARIA, LocalHub, local_hub, pay_body, refund_body

pytestmark = pytest.mark.anyio


async def test_a_timeout_is_unknown_and_an_inquiry_finds_the_charge(
    impatient_hub: LocalHub,
) -> None:
    hub = impatient_hub
    await hub.latency("kakaopay-aps", 1.0)

    answer = await hub.siam.call("pay", pay_body("slow-1"))

    assert answer["result"]["resultCode"] == "PAYMENT_IN_PROCESS"
    assert answer["result"]["resultStatus"] == "U"
    await hub.latency("kakaopay-aps", 0.0)
    await hub.charged("kakaopay-aps")  # on a slow machine the wallet may take it late
    inquiry = await hub.siam.call("inquiryPayment", {"paymentRequestId": "slow-1"})
    assert inquiry["paymentStatus"] == "SUCCEEDED"
    assert inquiry["paymentResult"]["resultCode"] == "SUCCESS"
    replay = await hub.siam.call("pay", pay_body("slow-1"))
    assert replay["result"]["resultCode"] == "SUCCESS"
    assert await hub.stats("kakaopay-aps") == {"pay_requests": 1, "charges": 1}


async def test_a_cancel_after_a_timeout_reverses_the_hidden_charge(
    impatient_hub: LocalHub,
) -> None:
    hub = impatient_hub
    before = await hub.accounts("kakaopay-aps")
    await hub.latency("kakaopay-aps", 1.0)
    await hub.siam.call("pay", pay_body("slow-2"))
    await hub.latency("kakaopay-aps", 0.0)
    await hub.charged("kakaopay-aps")  # on a slow machine the wallet may take it late

    cancelled = await hub.siam.call("cancelPayment", {"paymentRequestId": "slow-2"})

    assert cancelled["result"]["resultStatus"] == "S"
    assert await hub.accounts("kakaopay-aps") == before
    inquiry = await hub.siam.call("inquiryPayment", {"paymentRequestId": "slow-2"})
    assert inquiry["paymentStatus"] == "CANCELLED"


async def test_a_refund_whose_answer_was_lost_is_sent_again_and_paid_once(
    impatient_hub: LocalHub,
) -> None:
    hub = impatient_hub
    await hub.siam.call("pay", pay_body("slow-3"))
    refund = refund_body("slow-3", "slow-3-r1", "5000")
    await hub.latency("kakaopay-aps", 1.0)

    lost = await hub.siam.call("refund", refund)
    await hub.latency("kakaopay-aps", 0.0)
    retried = await hub.siam.call("refund", refund)

    assert lost["result"]["resultStatus"] == "U"
    assert retried["result"]["resultStatus"] == "S"
    ledger = (await hub.http.get(hub.wallets["kakaopay-aps"] + "/_sim/ledger")).json()
    assert [e["kind"] for e in ledger].count("refund") == 1


async def test_an_unreachable_wallet_fails_the_payment_without_charging(
    backend: Backend, state_dir: Path
) -> None:
    async with local_hub(backend, state_dir, unreachable=frozenset({"gcash-aps"})) as hub:
        answer = await hub.tokyo.call(
            "pay", pay_body("dead-1", code=MARIA, currency="JPY", value="800")
        )

        assert answer["result"]["resultCode"] == "PROCESS_FAIL"
        assert "could not be reached" in answer["result"]["resultMessage"]
        inquiry = await hub.tokyo.call("inquiryPayment", {"paymentRequestId": "dead-1"})
        assert inquiry["paymentStatus"] == "FAILED"


async def test_a_cancel_during_a_slow_pay_waits_for_it_and_reverses_it(hub: LocalHub) -> None:
    before = await hub.accounts("kakaopay-aps")
    await hub.latency("kakaopay-aps", 0.5)

    pay = asyncio.create_task(hub.siam.call("pay", pay_body("slow-4")))
    await asyncio.sleep(0.2)  # the pay is persisted and waiting on the wallet
    cancelled = await hub.siam.call("cancelPayment", {"paymentRequestId": "slow-4"})
    paid = await pay

    assert paid["result"]["resultCode"] == "SUCCESS"
    assert cancelled["result"]["resultStatus"] == "S"
    assert await hub.accounts("kakaopay-aps") == before
    inquiry = await hub.siam.call("inquiryPayment", {"paymentRequestId": "slow-4"})
    assert inquiry["paymentStatus"] == "CANCELLED"


async def test_a_route_that_cannot_connect_fails_over_to_the_next(
    backend: Backend, state_dir: Path
) -> None:
    async with local_hub(
        backend,
        state_dir,
        unreachable=frozenset({"gcash-aps"}),
        backups=frozenset({"gcash-aps"}),
    ) as hub:
        answer = await hub.tokyo.call(
            "pay", pay_body("over-1", code=MARIA, currency="JPY", value="800")
        )
        refund = await hub.tokyo.call(
            "refund", refund_body("over-1", "over-1-r", "300", currency="JPY")
        )
        backup = await hub.stats("gcash-aps-backup")
        payment = await hub.app_hub.store.find_payment("TOKYO_ACQ", "over-1")

    assert answer["result"]["resultCode"] == "SUCCESS"
    assert backup == {"pay_requests": 1, "charges": 1}
    assert payment is not None
    assert payment.route == "gcash-aps-backup"  # later calls follow the payment there
    assert refund["result"]["resultStatus"] == "S"
