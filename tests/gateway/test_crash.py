"""SIGKILL the gateway while a payment or a refund is with the wallet; restart it;
nothing is lost.

The gateway runs as a real process (uvicorn, as in production). It is killed after the
payment (or refund) is persisted and sent but before the wallet answers; the wallet
carries it out. The restarted gateway's recovery worker finds it — nobody inquires or
retries — and records what the wallet did, once.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors import RsaSigner, RsaVerifier
from gateway.client import AcquirerClient
from gateway.local import free_port, serve_all, simulator_app
from gateway.states import PaymentStatus, RefundStatus
from gateway.store import Store
from tests.conftest import Backend
from tests.gateway.conftest import CONFIG, pay_body, settings_for

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def gateway_process(
    config: Path, state_dir: Path, backend: Backend, port: int
) -> AsyncIterator[asyncio.subprocess.Process]:
    env = {
        **os.environ,
        "CAUSEWAY_CONFIG": str(config),
        "CAUSEWAY_STATE_DIR": str(state_dir),
        "CAUSEWAY_DATABASE_URL": backend.database_url,
        "CAUSEWAY_REDIS_URL": backend.redis_url or "",
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "gateway.asgi:app"]
    process = await asyncio.create_subprocess_exec(
        *command, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", env=env
    )
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(200):
                try:
                    if (await http.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the gateway did not start within 10 s")
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


@dataclass
class Rig:
    """Wallet simulators in this process, and what starting a gateway process needs."""

    backend: Backend
    state_dir: Path
    config: Path
    port: int
    http: httpx.AsyncClient
    kakao: str  # the KakaoPay simulator's URL
    siam: AcquirerClient

    def gateway(self) -> AbstractAsyncContextManager[asyncio.subprocess.Process]:
        return gateway_process(self.config, self.state_dir, self.backend, self.port)

    async def latency(self, seconds: float) -> None:
        await self.http.post(self.kakao + "/_sim/faults", json={"latency_seconds": seconds})

    async def stats(self) -> dict[str, int]:
        stats: dict[str, int] = (await self.http.get(self.kakao + "/_sim/stats")).json()
        return stats

    async def accounts(self) -> dict[str, int]:
        rows = (await self.http.get(self.kakao + "/_sim/accounts")).json()
        return {row["customer_id"]: row["balance"] for row in rows}


@pytest.fixture
async def rig(backend: Backend, state_dir: Path, tmp_path: Path) -> AsyncIterator[Rig]:
    settings = settings_for(backend, state_dir)
    async with serve_all([simulator_app(settings, r) for r in settings.routes]) as wallets:
        text = CONFIG.read_text()
        for route, server in zip(settings.routes, wallets, strict=True):
            text = text.replace(str(route.settings["base_url"]), server.url)
        config = tmp_path / "causeway.toml"
        config.write_text(text)
        shutil.copy(CONFIG.parent / "fx.toml", tmp_path / "fx.toml")
        kakao = next(
            s.url for r, s in zip(settings.routes, wallets, strict=True) if r.wallet == "KAKAOPAY"
        )
        port = free_port()
        keys = state_dir / "keys"
        async with httpx.AsyncClient(timeout=30) as http:
            siam = AcquirerClient(
                http,
                f"http://127.0.0.1:{port}",
                "SIAM_ACQ",
                RsaSigner((keys / "acquirer-SIAM_ACQ.pem").read_bytes()),
                RsaVerifier((keys / "hub.pub.pem").read_bytes()),
            )
            yield Rig(backend, state_dir, config, port, http, kakao, siam)


async def _until_final(store: Store, find: Callable[[], Awaitable[Any]]) -> Any:
    """Poll the ledger until the record ``find`` returns is final (45 s at most). On Redis
    the dead process's lock on the payment lasts its TTL (30 s) first."""
    for _ in range(450):
        found = await find()
        assert found is not None
        if found.status.is_final:
            return found
        await asyncio.sleep(0.1)
    return found


async def test_a_payment_in_flight_survives_a_sigkill(rig: Rig) -> None:
    await rig.latency(2.0)
    async with rig.gateway() as first:
        pay = asyncio.create_task(rig.siam.call("pay", pay_body("crash-1")))
        await asyncio.sleep(1.0)  # persisted, sent, the wallet is "thinking"
        first.send_signal(signal.SIGKILL)
        with pytest.raises(httpx.TransportError):
            await pay
    await rig.latency(0.0)

    store = await Store.open(rig.backend.database_url)
    try:
        stranded = await store.find_payment("SIAM_ACQ", "crash-1")
        assert stranded is not None
        assert stranded.status is PaymentStatus.PENDING  # what the crash left
        async with rig.gateway():  # recovery runs beside the API: nobody inquires
            found = await _until_final(store, lambda: store.find_payment("SIAM_ACQ", "crash-1"))
    finally:
        await store.close()

    assert found.status is PaymentStatus.SUCCEEDED
    assert await rig.stats() == {"pay_requests": 1, "charges": 1}


async def test_a_refund_in_flight_survives_a_sigkill(rig: Rig) -> None:
    async with rig.gateway() as first:
        paid = await rig.siam.call("pay", pay_body("crash-2"))
        assert paid["result"]["resultCode"] == "SUCCESS"
        before = await rig.accounts()
        await rig.latency(2.0)
        refund = {
            "paymentRequestId": "crash-2",
            "refundRequestId": "crash-2-r1",
            "refundAmount": {"currency": "THB", "value": "50000"},
        }
        refunding = asyncio.create_task(rig.siam.call("refund", refund))
        await asyncio.sleep(1.0)  # claimed, sent, the wallet is "thinking"
        first.send_signal(signal.SIGKILL)
        with pytest.raises(httpx.TransportError):
            await refunding
    await rig.latency(0.0)

    store = await Store.open(rig.backend.database_url)
    try:
        stranded = await store.find_refund("SIAM_ACQ", "crash-2-r1")
        assert stranded is not None
        assert stranded.status is RefundStatus.PENDING  # what the crash left
        async with rig.gateway():  # nobody sends the refund again but the recovery worker
            found = await _until_final(store, lambda: store.find_refund("SIAM_ACQ", "crash-2-r1"))
    finally:
        await store.close()

    assert found.status is RefundStatus.SUCCEEDED
    after = await rig.accounts()
    moved = {who: after[who] - before[who] for who in after if after[who] != before[who]}
    assert list(moved.values()) == [found.refund_from_amount.minor]  # refunded once
