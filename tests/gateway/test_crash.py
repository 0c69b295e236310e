"""SIGKILL the gateway while a payment or a refund is with the wallet; restart it;
nothing is lost.

The gateway runs as a real process (uvicorn, as in production). It is killed after the
payment (or refund) is persisted and sent but before the wallet answers; the wallet
carries it out. The restarted gateway's recovery worker finds it — nobody inquires or
retries — and records what the wallet did, once.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.chaos._stage import ChildProcess, gateway_process
from gateway.client import AcquirerClient
from gateway.local import free_port, serve_all, simulator_app
from gateway.states import PaymentStatus, RefundStatus
from gateway.store import Store
from tests.conftest import Backend
from tests.gateway.conftest import (
    CONFIG,
    Simulator,
    acquirer_client,
    pay_body,
    refund_body,
    settings_for,
)

pytestmark = pytest.mark.anyio


@dataclass
class Rig:
    """Wallet simulators in this process, and what starting a gateway process needs."""

    backend: Backend
    state_dir: Path
    config: Path
    port: int
    kakao: Simulator  # the KakaoPay simulator
    siam: AcquirerClient

    @asynccontextmanager
    async def gateway(self) -> AsyncIterator[ChildProcess]:
        """The gateway as a real process (uvicorn), once its /health answers; stopped on the
        way out (a process the test SIGKILLed is gone already)."""
        process = gateway_process(
            self.config,
            self.state_dir,
            self.backend.database_url,
            self.backend.redis_url,
            self.port,
        )
        await process.start()
        try:
            yield process
        finally:
            await process.stop()


@pytest.fixture
async def rig(backend: Backend, state_dir: Path, tmp_path: Path) -> AsyncIterator[Rig]:
    settings = settings_for(backend, state_dir)
    async with serve_all([simulator_app(settings, r) for r in settings.routes]) as wallets:
        text = CONFIG.read_text()
        for route, server in zip(settings.routes, wallets, strict=True):
            text = text.replace(str(route.settings["base_url"]), server.url)
        # The killed process's lock on its payment lasts the lock's TTL; the shortest the
        # configuration allows (over twice the wallet timeout plus 5 s) keeps the wait short.
        text = text.replace(
            "[hub]\n", "[hub]\nwallet_timeout_seconds = 3.0\nlock_ttl_seconds = 12.0\n", 1
        )
        config = tmp_path / "causeway.toml"
        config.write_text(text)
        shutil.copy(CONFIG.parent / "fx.toml", tmp_path / "fx.toml")
        kakao = next(
            s.url for r, s in zip(settings.routes, wallets, strict=True) if r.wallet == "KAKAOPAY"
        )
        port = free_port()
        async with httpx.AsyncClient(timeout=30) as http:
            siam = acquirer_client(http, f"http://127.0.0.1:{port}", state_dir / "keys", "SIAM_ACQ")
            yield Rig(backend, state_dir, config, port, Simulator(http, kakao), siam)


async def _until_final(find: Callable[[], Awaitable[Any]]) -> Any:
    """Poll the ledger until the record ``find`` returns is final (45 s at most). On Redis
    the dead process's lock on the payment lasts its TTL (12 s here) first."""
    for _ in range(450):
        found = await find()
        assert found is not None
        if found.status.is_final:
            return found
        await asyncio.sleep(0.1)
    return found


async def test_a_payment_in_flight_survives_a_sigkill(rig: Rig) -> None:
    await rig.kakao.latency(2.0)
    async with rig.gateway() as first:
        pay = asyncio.create_task(rig.siam.call("pay", pay_body("crash-1")))
        await asyncio.sleep(1.0)  # persisted, sent, the wallet is "thinking"
        await first.kill()
        with pytest.raises(httpx.TransportError):
            await pay
    await rig.kakao.latency(0.0)

    store = await Store.open(rig.backend.database_url)
    try:
        stranded = await store.find_payment("SIAM_ACQ", "crash-1")
        assert stranded is not None
        assert stranded.status is PaymentStatus.PENDING  # what the crash left
        async with rig.gateway():  # recovery runs beside the API: nobody inquires
            found = await _until_final(lambda: store.find_payment("SIAM_ACQ", "crash-1"))
    finally:
        await store.close()

    assert found.status is PaymentStatus.SUCCEEDED
    assert await rig.kakao.stats() == {"pay_requests": 1, "charges": 1}


async def test_a_refund_in_flight_survives_a_sigkill(rig: Rig) -> None:
    async with rig.gateway() as first:
        paid = await rig.siam.call("pay", pay_body("crash-2"))
        assert paid["result"]["resultCode"] == "SUCCESS"
        before = await rig.kakao.accounts()
        await rig.kakao.latency(2.0)
        refund = refund_body("crash-2", "crash-2-r1", "50000")
        refunding = asyncio.create_task(rig.siam.call("refund", refund))
        await asyncio.sleep(1.0)  # claimed, sent, the wallet is "thinking"
        await first.kill()
        with pytest.raises(httpx.TransportError):
            await refunding
    await rig.kakao.latency(0.0)

    store = await Store.open(rig.backend.database_url)
    try:
        stranded = await store.find_refund("SIAM_ACQ", "crash-2-r1")
        assert stranded is not None
        assert stranded.status is RefundStatus.PENDING  # what the crash left
        async with rig.gateway():  # nobody sends the refund again but the recovery worker
            found = await _until_final(lambda: store.find_refund("SIAM_ACQ", "crash-2-r1"))
    finally:
        await store.close()

    assert found.status is RefundStatus.SUCCEEDED
    after = await rig.kakao.accounts()
    moved = {who: after[who] - before[who] for who in after if after[who] != before[who]}
    assert list(moved.values()) == [found.refund_from_amount.minor]  # refunded once
