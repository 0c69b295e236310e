"""SIGKILL the gateway while a payment is with the wallet; restart it; nothing is lost.

The gateway runs as a real process (uvicorn, as in production). It is killed after the
payment is persisted and sent but before the wallet answers; the wallet charges. The
restarted gateway's recovery worker finds the payment — nobody inquires — and records the
charge the wallet made, once.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from connectors import RsaSigner, RsaVerifier
from gateway.client import AcquirerClient
from gateway.local import serve_all, simulator_app
from gateway.states import PaymentStatus
from gateway.store import Store
from tests.conftest import Backend
from tests.gateway.conftest import CONFIG, pay_body, settings_for

pytestmark = pytest.mark.anyio


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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


async def test_a_payment_in_flight_survives_a_sigkill(
    backend: Backend, state_dir: Path, tmp_path: Path
) -> None:
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
        port = _free_port()
        keys = state_dir / "keys"

        async with httpx.AsyncClient(timeout=30) as http:
            siam = AcquirerClient(
                http,
                f"http://127.0.0.1:{port}",
                "SIAM_ACQ",
                RsaSigner((keys / "acquirer-SIAM_ACQ.pem").read_bytes()),
                RsaVerifier((keys / "hub.pub.pem").read_bytes()),
            )
            await http.post(kakao + "/_sim/faults", json={"latency_seconds": 2.0})
            async with gateway_process(config, state_dir, backend, port) as first:
                pay = asyncio.create_task(siam.call("pay", pay_body("crash-1")))
                await asyncio.sleep(1.0)  # persisted, sent, the wallet is "thinking"
                first.send_signal(signal.SIGKILL)
                with pytest.raises(httpx.TransportError):
                    await pay
            await http.post(kakao + "/_sim/faults", json={"latency_seconds": 0.0})

            store = await Store.open(backend.database_url)
            try:
                stranded = await store.find_payment("SIAM_ACQ", "crash-1")
                assert stranded is not None
                assert stranded.status is PaymentStatus.PENDING  # what the crash left
                async with gateway_process(config, state_dir, backend, port):
                    # Recovery runs beside the API: nobody inquires. On Redis the dead
                    # process's lock on the payment lasts its TTL (30 s) before that.
                    for _ in range(450):
                        found = await store.find_payment("SIAM_ACQ", "crash-1")
                        assert found is not None
                        if found.status.is_final:
                            break
                        await asyncio.sleep(0.1)
            finally:
                await store.close()
            stats = (await http.get(kakao + "/_sim/stats")).json()

    assert found is not None
    assert found.status is PaymentStatus.SUCCEEDED
    assert stats == {"pay_requests": 1, "charges": 1}
