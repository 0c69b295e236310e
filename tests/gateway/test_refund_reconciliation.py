"""Refunds to a wallet that would pay one sent twice twice: KakaoPay on its own protocol.

KakaoPay takes no refund request id, so the hub never sends such a refund again on the
chance that the first did not arrive. A refund whose outcome is unknown is looked up among
the cancels KakaoPay's ``order`` lists instead: found, it succeeded; provably absent, it is
sent again once no earlier send can still arrive; otherwise it waits for the next sweep.

The simulated KakaoPay here refunds every cancel it receives, as the real one does (no
deduplication by ``payload``), so that a refund paid twice shows in its ledger. In front
of it, a :class:`Gate` can swallow the refunds on their way (the wallet never sees them,
the hub hears nothing) and counts those sent. The hub's own background workers are
stopped: each test runs the recovery sweep itself, on a clock it moves on.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from connectors.kakaopay.simulator import SimulatedAccount, SimulatedWallet, create_simulator
from gateway.client import AcquirerClient
from gateway.config import RouteConfig
from gateway.hub import Hub
from gateway.models import Refund
from gateway.recovery import Recovery, RecoveryPolicy
from gateway.results import ResultCode
from gateway.states import RefundStatus
from gateway.store import Store
from tests.conftest import Backend
from tests.gateway.conftest import KIM, hub_through, pay_body, refund_body
from tests.gateway.test_postings import lines, pay, per_currency, refund

pytestmark = pytest.mark.anyio

CID = "CWKR000001"
SECRET = "DEV" + secrets.token_hex(16).upper()
PREFIX = "/online/v1/payment"
#: How long a swallowed refund keeps its sender's connection: longer than the hub waits.
HELD_SECONDS = 1.0
#: Between two sweeps: more than recovery's late interval, so each one is due.
APART = timedelta(seconds=40)


@dataclass
class Gate:
    """In front of the simulated KakaoPay: counts the cancels (refunds) sent to it and,
    while ``dropping``, swallows them: the wallet never sees one, and its sender is kept
    waiting until it gives up, as for a request lost on the way."""

    app: ASGIApp
    dropping: bool = False
    cancels: int = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == f"{PREFIX}/cancel":
            self.cancels += 1
            if self.dropping:
                await asyncio.sleep(HELD_SECONDS)
                await Response(status_code=503)(scope, receive, send)
                return
        await self.app(scope, receive, send)


@dataclass
class Korea:
    """A hub whose KakaoPay route speaks KakaoPay's protocol, and that wallet."""

    hub: Hub
    siam: AcquirerClient
    http: httpx.AsyncClient
    wallet_url: str
    gate: Gate
    recovery: Recovery = field(init=False)

    def __post_init__(self) -> None:
        self.recovery = Recovery(self.hub.engine, RecoveryPolicy())

    @property
    def store(self) -> Store:
        return self.hub.store

    @property
    def resend_after(self) -> timedelta:
        return self.hub.engine.late_arrival

    async def sweep(self, at: datetime) -> int:
        return await self.recovery.sweep(at)

    async def faults(self, **wanted: object) -> None:
        (await self.http.post(self.wallet_url + "/_sim/faults", json=wanted)).raise_for_status()

    async def refunds_at_wallet(self) -> list[dict[str, Any]]:
        ledger: list[dict[str, Any]] = (
            await self.http.get(self.wallet_url + "/_sim/ledger")
        ).json()
        return [entry for entry in ledger if entry["kind"] == "refund"]

    async def refund(self, request_id: str) -> Refund:
        stored = await self.store.find_refund("SIAM_ACQ", request_id)
        assert stored is not None
        return stored


@pytest.fixture
async def korea(backend: Backend, state_dir: Path) -> AsyncIterator[Korea]:
    wallet = SimulatedWallet(
        cid=CID,
        secret_key=SECRET,
        accounts=[SimulatedAccount("KP-0001", KIM, 2_000_000, "Kim Min-jun")],
        refunds_deduplicated=False,  # as the real KakaoPay
    )
    gate = Gate(create_simulator(wallet))
    async with AsyncExitStack() as stack:
        route = RouteConfig(
            name="kakaopay-kr",
            wallet="KAKAOPAY",
            kind="kakaopay",
            settings={
                "cid": CID,
                "secret_key": SECRET,
                "approval_url": "https://hub.causeway.test/kakaopay/return",
                "currencies": ["KRW"],
                "regions": ["KR"],
            },
        )
        hub, http, siam, url = await hub_through(
            stack, backend, state_dir, gate, route, wallet_timeout_seconds=0.3
        )
        yield Korea(hub, siam, http, url, gate)


async def _paid(korea: Korea, request_id: str) -> None:
    opened = await korea.siam.call("pay", pay_body(request_id))
    assert opened["result"]["resultStatus"] == "U"  # KakaoPay waits for the approval
    inquiry = await korea.siam.call("inquiryPayment", {"paymentRequestId": request_id})
    assert inquiry["paymentStatus"] == "SUCCEEDED"


async def _refund_unknown(korea: Korea, request_id: str) -> dict[str, Any]:
    """Refund THB 250 of the payment ``request_id``, whose answer never comes back (``U``).
    Returns the refund request."""
    asked = refund_body(request_id, f"{request_id}-r1", "25000")
    answer = await korea.siam.call("refund", asked)
    assert answer["result"]["resultStatus"] == "U"
    return asked


async def _answer_lost(korea: Korea, request_id: str) -> dict[str, Any]:
    """The wallet refunds, but its answer comes after the hub stopped waiting."""
    await korea.faults(latency_seconds=1.0)
    asked = await _refund_unknown(korea, request_id)
    await korea.faults(latency_seconds=0.0)
    assert len(await korea.refunds_at_wallet()) == 1
    return asked


async def _lost_on_the_way(korea: Korea, request_id: str) -> dict[str, Any]:
    """The refund never reaches the wallet, and the hub hears nothing."""
    korea.gate.dropping = True
    asked = await _refund_unknown(korea, request_id)
    assert await korea.refunds_at_wallet() == []
    return asked


async def test_a_refund_whose_answer_was_lost_is_found_at_the_wallet(korea: Korea) -> None:
    await _paid(korea, "kr-1")
    asked = await _answer_lost(korea, "kr-1")

    finished = await korea.sweep(datetime.now(UTC) + timedelta(seconds=10))

    assert finished == 1
    stored = await korea.refund("kr-1-r1")
    assert stored.status is RefundStatus.SUCCEEDED
    [made] = await korea.refunds_at_wallet()  # refunded once: found, not sent again
    assert (made["payload"], made["amount"]) == (stored.refund_id, stored.refund_from_amount.minor)
    assert stored.wallet_refund_id == made["aid"]
    assert korea.gate.cancels == 1
    # Booked as any success is: the refund's postings, and the books still balance.
    booked = [line for line in await lines(korea.store) if line[1] == stored.refund_id]
    assert {line[0] for line in booked} == {"REFUND"}
    assert set(per_currency(await lines(korea.store)).values()) == {0}
    replay = await korea.siam.call("refund", asked)
    assert replay["result"]["resultCode"] == "SUCCESS"


async def test_the_acquirers_retry_finds_a_refund_whose_answer_was_lost(korea: Korea) -> None:
    await _paid(korea, "kr-2")
    asked = await _answer_lost(korea, "kr-2")

    retried = await korea.siam.call("refund", asked)

    assert retried["result"]["resultCode"] == "SUCCESS"
    assert (await korea.refund("kr-2-r1")).status is RefundStatus.SUCCEEDED
    assert len(await korea.refunds_at_wallet()) == 1
    assert korea.gate.cancels == 1


async def test_a_refund_lost_on_the_way_is_not_sent_again_while_it_may_still_arrive(
    korea: Korea,
) -> None:
    await _paid(korea, "kr-3")
    asked = await _lost_on_the_way(korea, "kr-3")
    korea.gate.dropping = False

    finished = await korea.sweep(datetime.now(UTC) + timedelta(seconds=10))
    retried = await korea.siam.call("refund", asked)

    # The wallet has no such refund, but the first send may still reach it.
    assert finished == 0
    assert retried["result"]["resultStatus"] == "U"
    assert (await korea.refund("kr-3-r1")).status is RefundStatus.UNKNOWN
    assert korea.gate.cancels == 1
    assert await korea.refunds_at_wallet() == []


async def test_a_refund_lost_on_the_way_is_sent_again_after_the_window(korea: Korea) -> None:
    await _paid(korea, "kr-4")
    asked = await _lost_on_the_way(korea, "kr-4")
    korea.gate.dropping = False

    finished = await korea.sweep(datetime.now(UTC) + korea.resend_after + APART)

    assert finished == 1
    stored = await korea.refund("kr-4-r1")
    assert stored.status is RefundStatus.SUCCEEDED
    [made] = await korea.refunds_at_wallet()
    assert (made["payload"], made["amount"]) == (stored.refund_id, stored.refund_from_amount.minor)
    assert korea.gate.cancels == 2
    replay = await korea.siam.call("refund", asked)
    assert replay["result"]["resultCode"] == "SUCCESS"
    assert korea.gate.cancels == 2  # found this time: not sent a third time


async def test_a_resend_lost_again_is_looked_up_again_before_another_send(korea: Korea) -> None:
    await _paid(korea, "kr-5")
    await _lost_on_the_way(korea, "kr-5")
    resent_at = datetime.now(UTC) + korea.resend_after + APART

    assert await korea.sweep(resent_at) == 0  # sent again, and lost again
    assert korea.gate.cancels == 2
    # Long after the first send, but not after the second: that one may still arrive.
    assert await korea.sweep(resent_at + APART) == 0
    assert korea.gate.cancels == 2
    korea.gate.dropping = False
    assert await korea.sweep(resent_at + korea.resend_after + APART) == 1

    assert (await korea.refund("kr-5-r1")).status is RefundStatus.SUCCEEDED
    assert len(await korea.refunds_at_wallet()) == 1
    assert korea.gate.cancels == 3


async def test_a_lookup_that_cannot_tell_leaves_the_refund_unknown(korea: Korea) -> None:
    await _paid(korea, "kr-6")
    await _lost_on_the_way(korea, "kr-6")
    korea.gate.dropping = False
    await korea.faults(unknown_status=True)  # order answers a status KakaoPay never defined

    finished = await korea.sweep(datetime.now(UTC) + korea.resend_after + APART)

    assert finished == 0
    assert (await korea.refund("kr-6-r1")).status is RefundStatus.UNKNOWN
    assert korea.gate.cancels == 1
    assert await korea.refunds_at_wallet() == []


async def test_a_cancel_of_another_amount_under_the_refund_id_is_never_its_success(
    korea: Korea,
) -> None:
    await _paid(korea, "kr-7")
    await _lost_on_the_way(korea, "kr-7")
    korea.gate.dropping = False
    stored = await korea.refund("kr-7-r1")
    paid = await korea.store.find_payment("SIAM_ACQ", "kr-7")
    assert paid is not None
    # Someone else's cancel at the wallet carries the refund's id, for one won less.
    other = {
        "cid": CID,
        "tid": paid.wallet_payment_id,
        "cancel_amount": stored.refund_from_amount.minor - 1,
        "cancel_tax_free_amount": 0,
        "payload": stored.refund_id,
    }
    headers = {"Authorization": f"SECRET_KEY {SECRET}"}
    made = await korea.http.post(f"{korea.wallet_url}{PREFIX}/cancel", json=other, headers=headers)
    assert made.status_code == 200

    finished = await korea.sweep(datetime.now(UTC) + korea.resend_after + APART)

    assert finished == 0
    assert (await korea.refund("kr-7-r1")).status is RefundStatus.UNKNOWN  # for an operator
    assert [r["amount"] for r in await korea.refunds_at_wallet()] == [other["cancel_amount"]]


# --- the ledger's record of the last send --------------------------------------------------


@pytest.fixture
async def ledger(backend: Backend) -> AsyncIterator[Store]:
    opened = await Store.open(backend.database_url)
    try:
        yield opened
    finally:
        await opened.close()


async def test_only_one_sender_may_claim_a_resend(ledger: Store) -> None:
    paid = await pay(ledger, "claim-1")
    made = await ledger.create_refund(refund(paid, "claim-1-r1", 100), paid)
    assert await ledger.refund_last_sent(made) == made.created_at  # sent once, as it was made
    later = made.created_at + timedelta(minutes=10)
    quiet_since = later - timedelta(minutes=5)

    first = await ledger.claim_refund_resend(made, at=later, last_sent_before=quiet_since)
    second = await ledger.claim_refund_resend(made, at=later, last_sent_before=quiet_since)

    assert (first, second) == (True, False)
    assert await ledger.refund_last_sent(made) == later
    much_later = later + timedelta(minutes=10)
    again = await ledger.claim_refund_resend(
        made, at=much_later, last_sent_before=much_later - timedelta(minutes=5)
    )
    assert again is True  # long after the last send, and still unresolved
    done = await ledger.transition_refund(made, RefundStatus.SUCCEEDED, ResultCode.SUCCESS, "ok")
    final = much_later + timedelta(minutes=10)
    assert not await ledger.claim_refund_resend(done, at=final, last_sent_before=final)
