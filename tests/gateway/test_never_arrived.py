"""A payment its wallet never received, on a wallet that cannot close an id it never saw.

Asked to cancel a payment it has no record of, an Alipay+ wallet closes the id, so a late
arrival cannot charge; SNAP BI (DANA) answers "not found" instead, to the inquiry and to
the cancel alike. Such a payment is closed as FAILED once no send of it can still arrive
(``PaymentEngine.late_arrival``), and not before. (The chaos run found it staying UNKNOWN
for ever.) The hub's own workers are stopped: each test sweeps on a clock it moves on.

The merchant's cancel of such a payment got the wallet's "not found" as a final answer,
though the payment is ours and could still be charged; it is under way until no send can
arrive, then CANCELLED, whoever sends it then (the merchant again, or the recovery worker).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from connectors import Operation
from connectors.snapbi.simulator import SimulatedAccount, SimulatedWallet, create_simulator
from gateway.client import AcquirerClient
from gateway.config import RouteConfig
from gateway.hub import Hub
from gateway.models import Payment
from gateway.recovery import Recovery, RecoveryPolicy
from gateway.schema import postings
from gateway.states import PaymentStatus
from tests.conftest import Backend
from tests.gateway.conftest import hub_through, pay_body, until, without_operation

pytestmark = pytest.mark.anyio

PARTNER = "HUB"
MERCHANT = "216620000000000001"
RINA = "281006000000000901"


@dataclass
class Indonesia:
    hub: Hub
    siam: AcquirerClient
    http: httpx.AsyncClient
    wallet_url: str

    async def faults(self, **wanted: object) -> None:
        (await self.http.post(self.wallet_url + "/_sim/faults", json=wanted)).raise_for_status()

    async def ledger(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = (
            await self.http.get(self.wallet_url + "/_sim/ledger")
        ).json()
        return entries

    async def payment(self, request_id: str) -> Payment:
        stored = await self.hub.store.find_payment("SIAM_ACQ", request_id)
        assert stored is not None
        return stored

    async def status(self, request_id: str) -> PaymentStatus:
        return (await self.payment(request_id)).status

    async def books(self, request_id: str) -> list[str]:
        """The entries the hub's books hold for the payment."""
        payment_id = (await self.payment(request_id)).payment_id
        query = sa.select(postings.c.entry).where(postings.c.payment_id == payment_id)
        async with self.hub.store.engine.connect() as connection:
            return list((await connection.execute(query)).scalars())

    async def cancel(self, request_id: str) -> dict[str, str]:
        """The merchant's cancel, and the result it is answered."""
        answer = await self.siam.call("cancelPayment", {"paymentRequestId": request_id})
        result: dict[str, str] = answer["result"]
        return result


@pytest.fixture
async def indonesia(backend: Backend, state_dir: Path) -> AsyncIterator[Indonesia]:
    async with _indonesia(backend, state_dir) as country:
        yield country


@pytest.fixture
async def hasty_indonesia(backend: Backend, state_dir: Path) -> AsyncIterator[Indonesia]:
    """A hub that counts a send as unable to arrive a fifth of a second after it was made,
    so that a test can wait the window out on the merchant's real clock."""
    async with _indonesia(backend, state_dir, late_arrival_seconds=0.2) as country:
        yield country


@asynccontextmanager
async def _indonesia(
    backend: Backend, state_dir: Path, *, late_arrival_seconds: float | None = None
) -> AsyncIterator[Indonesia]:
    """DANA through its SNAP BI route alone (``late_arrival_seconds``: as configured when
    ``None``)."""
    secret, token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    wallet = SimulatedWallet(
        partner_id=PARTNER,
        client_secret=secret,
        access_token=token,
        merchant_id=MERCHANT,
        accounts=[SimulatedAccount("ID-1", RINA, 10**12, "Rina")],
    )
    async with AsyncExitStack() as stack:
        route = RouteConfig(
            name="dana-snap",
            wallet="DANA",
            kind="snapbi",
            settings={
                "partner_id": PARTNER,
                "client_secret": secret,
                "access_token": token,
                "channel_id": "95221",
                "merchant_id": MERCHANT,
                "currencies": ["IDR"],
                "regions": ["ID"],
            },
        )
        hub, http, siam, url = await hub_through(
            stack,
            backend,
            state_dir,
            create_simulator(wallet),
            route,
            late_arrival_seconds=late_arrival_seconds,
        )
        yield Indonesia(hub, siam, http, url)


async def _refused_before_the_books(country: Indonesia, request_id: str) -> None:
    """A pay the wallet refuses with HTTP 503 before writing anything: unknown to us."""
    await country.faults(reject_rate=1.0, seed=1)
    answer = await country.siam.call("pay", pay_body(request_id, code=RINA, method_type="DANA"))
    await country.faults(reject_rate=0.0)
    assert answer["result"]["resultStatus"] == "U"


async def _past_late_arrival(country: Indonesia, request_id: str) -> None:
    """Wait until no send of the payment can reach its wallet any more."""
    end = (await country.payment(request_id)).created_at + country.hub.engine.late_arrival
    await until(lambda: datetime.now(UTC) > end)


async def test_a_payment_the_wallet_never_saw_is_failed_once_it_cannot_arrive(
    indonesia: Indonesia,
) -> None:
    recovery = Recovery(indonesia.hub.engine, RecoveryPolicy())
    await _refused_before_the_books(indonesia, "never-1")
    stored = await indonesia.hub.store.find_payment("SIAM_ACQ", "never-1")
    assert stored is not None
    late_arrival = indonesia.hub.engine.late_arrival

    # Past the recovery deadline, but the pay could still arrive: asked, cancelled, kept.
    await recovery.sweep(stored.created_at + late_arrival - timedelta(seconds=1))
    still = await indonesia.status("never-1")
    await recovery.sweep(stored.created_at + late_arrival + timedelta(seconds=31))
    closed = await indonesia.status("never-1")
    inquiry = await indonesia.siam.call("inquiryPayment", {"paymentRequestId": "never-1"})

    assert still in (PaymentStatus.PENDING, PaymentStatus.UNKNOWN)
    assert closed is PaymentStatus.FAILED
    assert inquiry["paymentStatus"] == "FAILED"
    assert inquiry["paymentResult"]["resultCode"] == "ORDER_IS_CLOSED"
    assert await indonesia.ledger() == []  # no money moved at the wallet


async def test_a_payment_the_wallet_has_is_never_closed_that_way(indonesia: Indonesia) -> None:
    recovery = Recovery(indonesia.hub.engine, RecoveryPolicy())
    await indonesia.faults(unknown_status=True)  # books it, answers what we cannot read
    answer = await indonesia.siam.call("pay", pay_body("known-1", code=RINA, method_type="DANA"))
    await indonesia.faults(unknown_status=False)
    stored = await indonesia.hub.store.find_payment("SIAM_ACQ", "known-1")
    assert stored is not None

    await recovery.sweep(stored.created_at + indonesia.hub.engine.late_arrival + timedelta(1))

    assert answer["result"]["resultStatus"] == "U"
    assert await indonesia.status("known-1") is PaymentStatus.SUCCEEDED
    assert [e["kind"] for e in await indonesia.ledger()] == ["pay"]


async def test_a_cancel_while_the_pay_may_still_arrive_is_unknown_and_stays_under_way(
    indonesia: Indonesia,
) -> None:
    await _refused_before_the_books(indonesia, "never-2")

    first = await indonesia.cancel("never-2")
    retried = await indonesia.cancel("never-2")

    for answer in (first, retried):
        assert (answer["resultStatus"], answer["resultCode"]) == ("U", "UNKNOWN_EXCEPTION")
        assert "has not seen the payment yet" in answer["resultMessage"]
    assert not (await indonesia.status("never-2")).is_final
    # Still a cancel under way: recovery sends it again, and no refund may start.
    assert await indonesia.hub.store.is_closed("SIAM_ACQ", "never-2")
    assert await indonesia.ledger() == []


async def test_once_the_pay_cannot_arrive_the_merchants_cancel_cancels_it(
    hasty_indonesia: Indonesia,
) -> None:
    await _refused_before_the_books(hasty_indonesia, "never-3")
    await _past_late_arrival(hasty_indonesia, "never-3")

    cancelled = await hasty_indonesia.cancel("never-3")
    retried = await hasty_indonesia.cancel("never-3")

    assert (cancelled["resultStatus"], cancelled["resultCode"]) == ("S", "SUCCESS")
    assert (retried["resultStatus"], retried["resultCode"]) == ("S", "SUCCESS")
    inquiry = await hasty_indonesia.siam.call("inquiryPayment", {"paymentRequestId": "never-3"})
    assert inquiry["paymentStatus"] == "CANCELLED"
    assert inquiry["paymentResult"]["resultCode"] == "ORDER_IS_CLOSED"
    assert await hasty_indonesia.ledger() == []  # no money moved at the wallet
    assert await hasty_indonesia.books("never-3") == []  # nor in the hub's books


async def test_a_cancel_never_retried_is_cancelled_by_recovery_once_the_pay_cannot_arrive(
    indonesia: Indonesia,
) -> None:
    recovery = Recovery(indonesia.hub.engine, RecoveryPolicy())
    await _refused_before_the_books(indonesia, "never-4")
    unanswered = await indonesia.cancel("never-4")
    created_at = (await indonesia.payment("never-4")).created_at
    late_arrival = indonesia.hub.engine.late_arrival

    await recovery.sweep(created_at + late_arrival - timedelta(seconds=1))
    still = await indonesia.status("never-4")
    under_way = await indonesia.hub.store.is_closed("SIAM_ACQ", "never-4")
    await recovery.sweep(created_at + late_arrival + timedelta(seconds=31))
    closed = await indonesia.payment("never-4")
    retried = await indonesia.cancel("never-4")

    assert unanswered["resultStatus"] == "U"
    assert not still.is_final
    assert under_way
    assert closed.status is PaymentStatus.CANCELLED  # the merchant asked: not FAILED
    assert closed.result_message == "The payment was cancelled: the wallet never received it."
    assert (retried["resultStatus"], retried["resultCode"]) == ("S", "SUCCESS")
    assert await indonesia.ledger() == []
    assert await indonesia.books("never-4") == []


async def test_on_a_wallet_that_cannot_cancel_it_is_failed_once_it_cannot_arrive(
    indonesia: Indonesia, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Mojaloop's switch answers "no such transfer" and has no cancel: the same rule holds.
    without_operation(
        monkeypatch, indonesia.hub.engine.router.route_named("dana-snap"), Operation.CANCEL
    )
    recovery = Recovery(indonesia.hub.engine, RecoveryPolicy())
    await _refused_before_the_books(indonesia, "never-2")
    stored = await indonesia.payment("never-2")
    late_arrival = indonesia.hub.engine.late_arrival

    await recovery.sweep(stored.created_at + late_arrival - timedelta(seconds=1))
    still = await indonesia.status("never-2")
    await recovery.sweep(stored.created_at + late_arrival + timedelta(seconds=31))

    assert still in (PaymentStatus.PENDING, PaymentStatus.UNKNOWN)
    assert await indonesia.status("never-2") is PaymentStatus.FAILED
    assert await indonesia.ledger() == []
    assert await indonesia.books("never-2") == []
