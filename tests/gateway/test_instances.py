"""Two gateway instances sharing PostgreSQL and Redis behave as one.

Each test runs a second gateway (its own app, engine, locks client, recovery worker and
notification dispatcher) beside the first, against the same ledger, Redis and wallets.
The embedded default is one process by design, so these run on the services only.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.config import NotificationsConfig
from gateway.local import AcquirerInbox, LocalServer
from gateway.recovery import Recovery, RecoveryPolicy
from tests.conftest import Backend
from tests.gateway.conftest import (
    MARIA,
    LocalHub,
    another_gateway,
    local_hub,
    pay_body,
    until,
)

pytestmark = [pytest.mark.anyio, pytest.mark.services]


async def _pay_unanswered(hub: LocalHub, *request_ids: str) -> None:
    """Pay each on KakaoPay; the wallet charges, but answers after the gateway stopped
    waiting (``U``)."""
    await hub.latency("kakaopay-aps", 1.0)
    answers = await asyncio.gather(*(hub.siam.call("pay", pay_body(r)) for r in request_ids))
    assert {a["result"]["resultStatus"] for a in answers} == {"U"}
    await hub.latency("kakaopay-aps", 0.0)


def _recovery_workers(*instances: LocalHub) -> list[Recovery]:
    """A recovery worker for each instance, on its own engine and cache."""
    policy = RecoveryPolicy(deadline=timedelta(minutes=5))
    return [Recovery(i.app_hub.engine, policy, cache=i.app_hub.cache) for i in instances]


async def test_duplicates_spread_over_both_instances_reach_the_wallet_once(
    services_backend: Backend, state_dir: Path
) -> None:
    async with local_hub(services_backend, state_dir) as one, another_gateway(one) as two:
        await one.latency("kakaopay-aps", 0.2)
        body = pay_body("two-dup")

        answers = await asyncio.gather(
            *((one if n % 2 else two).siam.call("pay", body) for n in range(20))
        )

        codes = Counter(answer["result"]["resultCode"] for answer in answers)
        assert set(codes) <= {"SUCCESS", "PAYMENT_IN_PROCESS"}, codes
        assert codes["SUCCESS"] >= 1
        assert await one.stats("kakaopay-aps") == {"pay_requests": 1, "charges": 1}
        for instance in (one, two):
            inquiry = await instance.siam.call("inquiryPayment", {"paymentRequestId": "two-dup"})
            assert inquiry["paymentStatus"] == "SUCCEEDED"


async def test_a_cancel_on_one_instance_waits_for_the_pay_on_the_other_and_wins(
    services_backend: Backend, state_dir: Path
) -> None:
    async with local_hub(services_backend, state_dir) as one, another_gateway(one) as two:
        before = await one.accounts("kakaopay-aps")
        await one.latency("kakaopay-aps", 0.5)
        paying = asyncio.create_task(one.siam.call("pay", pay_body("two-cancel")))
        await asyncio.sleep(0.2)  # the pay holds the payment's lock on the first instance

        cancelled = await two.siam.call("cancelPayment", {"paymentRequestId": "two-cancel"})
        await paying

        assert cancelled["result"]["resultStatus"] == "S"
        await one.latency("kakaopay-aps", 0.0)
        inquiry = await one.siam.call("inquiryPayment", {"paymentRequestId": "two-cancel"})
        assert inquiry["paymentStatus"] == "CANCELLED"
        assert await one.accounts("kakaopay-aps") == before  # charged, then reversed


async def test_both_recovery_workers_together_ask_about_each_payment_once(
    services_backend: Backend, state_dir: Path
) -> None:
    async with (
        local_hub(services_backend, state_dir, wallet_timeout_seconds=0.3) as one,
        another_gateway(one) as two,
    ):
        await _pay_unanswered(one, *(f"two-rec-{n}" for n in range(6)))
        asked_before = await one.inquiries("kakaopay-aps")
        workers = _recovery_workers(one, two)
        later = datetime.now(UTC) + timedelta(seconds=10)

        finished = await asyncio.gather(*(worker.sweep(later) for worker in workers))

        # Per wallet request id, the inquiries the wallet had from either instance since.
        counts = await one.inquiries("kakaopay-aps") - asked_before
        assert sum(finished) == 6
        assert len(counts) == 6
        assert set(counts.values()) == {1}, counts  # no payment asked about twice
        assert await one.stats("kakaopay-aps") == {"pay_requests": 6, "charges": 6}


async def test_instances_take_turns_on_a_payment_that_stays_unknown(
    services_backend: Backend, state_dir: Path
) -> None:
    async with (
        local_hub(services_backend, state_dir, wallet_timeout_seconds=0.3) as one,
        another_gateway(one) as two,
    ):
        await _pay_unanswered(one, "two-turns")
        # Every inquiry answered with nonsense: the payment stays unknown.
        await one.faults("kakaopay-aps", unknown_status=True)
        asked_before = (await one.inquiries("kakaopay-aps")).total()
        workers = _recovery_workers(one, two)
        start = datetime.now(UTC) + timedelta(seconds=10)

        for second in range(3):  # both sweep each second, for less than one 3 s turn
            moment = start + timedelta(seconds=second)
            for worker in workers:
                await worker.sweep(moment)
        turns = (await one.inquiries("kakaopay-aps")).total() - asked_before
        later = start + timedelta(seconds=3)
        for worker in workers:
            await worker.sweep(later)
        asked = (await one.inquiries("kakaopay-aps")).total() - asked_before

        assert turns == 1  # one instance asked; the other saw its turn was taken
        assert asked == 2  # the next turn, 3 s later, by one of them


async def test_each_notification_is_delivered_once_with_both_dispatchers_running(
    services_backend: Backend, state_dir: Path, inbox: AcquirerInbox, inbox_server: LocalServer
) -> None:
    fast = NotificationsConfig(poll_seconds=0.01, schedule_seconds=[0, 0.05, 0.05])
    async with (
        local_hub(services_backend, state_dir, notifications=fast) as one,
        another_gateway(one) as two,
    ):
        url = inbox_server.url + AcquirerInbox.PATH
        await asyncio.gather(
            *(
                (one if n % 2 else two).tokyo.call(
                    "pay",
                    pay_body(
                        f"two-n-{n}", code=MARIA, currency="JPY", value="500", paymentNotifyUrl=url
                    ),
                )
                for n in range(10)
            )
        )
        await until(lambda: len(inbox.received) >= 10, seconds=4.0)
        await asyncio.sleep(0.3)  # time for a duplicate delivery to show, if there were one

    delivered = Counter(body["paymentRequestId"] for _, body in inbox.received)
    assert delivered == Counter({f"two-n-{n}": 1 for n in range(10)})
