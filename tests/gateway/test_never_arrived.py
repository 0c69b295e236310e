"""A payment its wallet never received, on a wallet that cannot close an id it never saw.

Asked to cancel a payment it has no record of, an Alipay+ wallet closes the id, so a late
arrival cannot charge; SNAP BI (DANA) answers "not found" instead, to the inquiry and to
the cancel alike. Such a payment is closed as FAILED once no send of it can still arrive
(``PaymentEngine.late_arrival``), and not before. (The chaos run found it staying UNKNOWN
for ever.) The hub's own workers are stopped: each test sweeps on a clock it moves on.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.snapbi.simulator import SimulatedAccount, SimulatedWallet, create_simulator
from gateway.client import AcquirerClient
from gateway.config import RouteConfig
from gateway.hub import Hub
from gateway.local import serve
from gateway.recovery import Recovery, RecoveryPolicy
from gateway.states import PaymentStatus
from tests.conftest import Backend
from tests.gateway.conftest import hub_through, pay_body

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

    async def status(self, request_id: str) -> PaymentStatus:
        stored = await self.hub.store.find_payment("SIAM_ACQ", request_id)
        assert stored is not None
        return stored.status


@pytest.fixture
async def indonesia(backend: Backend, state_dir: Path) -> AsyncIterator[Indonesia]:
    secret, token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    wallet = SimulatedWallet(
        partner_id=PARTNER,
        client_secret=secret,
        access_token=token,
        merchant_id=MERCHANT,
        accounts=[SimulatedAccount("ID-1", RINA, 10**12, "Rina")],
    )
    async with AsyncExitStack() as stack:
        simulator = await stack.enter_async_context(serve(create_simulator(wallet)))
        route = RouteConfig(
            name="dana-snap",
            wallet="DANA",
            kind="snapbi",
            settings={
                "base_url": simulator.url,
                "partner_id": PARTNER,
                "client_secret": secret,
                "access_token": token,
                "channel_id": "95221",
                "merchant_id": MERCHANT,
                "currencies": ["IDR"],
                "regions": ["ID"],
            },
        )
        hub, http, siam = await hub_through(stack, backend, state_dir, route)
        yield Indonesia(hub, siam, http, simulator.url)


async def _refused_before_the_books(country: Indonesia, request_id: str) -> None:
    """A pay the wallet refuses with HTTP 503 before writing anything: unknown to us."""
    await country.faults(reject_rate=1.0, seed=1)
    answer = await country.siam.call("pay", pay_body(request_id, code=RINA, method_type="DANA"))
    await country.faults(reject_rate=0.0)
    assert answer["result"]["resultStatus"] == "U"


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
