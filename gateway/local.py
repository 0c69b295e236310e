"""A whole hub on one machine: keys, simulated wallets and the gateway, on loopback.

Used by ``causeway demo``, ``causeway simulate``, the end-to-end tests and the benchmark.
Everything talks real HTTP over 127.0.0.1; nothing here is used by ``causeway serve``.
A run that wants PostgreSQL makes a database of its own beside an existing one
(:func:`create_database`, :func:`drop_database`).
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import uvicorn
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from connectors import RsaSigner, RsaVerifier, signed_content
from connectors.alipayplus.simulator import SimulatedAccount, SimulatedWallet, create_simulator
from gateway.config import RouteConfig, Settings
from gateway.keys import ensure_key_pairs, key_names

__all__ = [
    "DEMO_ACCOUNTS",
    "AcquirerInbox",
    "LocalServer",
    "create_database",
    "drop_database",
    "ensure_local_keys",
    "free_port",
    "libpq_url",
    "serve",
    "serve_all",
    "simulated_wallet",
    "simulator_app",
    "with_route_urls",
]


def free_port() -> int:
    """A loopback port free at this moment, for a server started in another process."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def libpq_url(url: str) -> str:
    """A PostgreSQL URL, SQLAlchemy's or libpq's, as libpq and asyncpg take it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_database(admin_url: str, name: str, *, connect_timeout: float = 60) -> str:
    """Create database ``name`` beside ``admin_url``'s (an existing one, SQLAlchemy's or
    libpq's URL); the new one's SQLAlchemy URL (asyncpg), with ``admin_url``'s user, host
    and query options."""
    await _administer(admin_url, f'CREATE DATABASE "{name}"', connect_timeout)
    url = make_url(admin_url).set(drivername="postgresql+asyncpg", database=name)
    return url.render_as_string(hide_password=False)


async def drop_database(admin_url: str, name: str, *, connect_timeout: float = 60) -> None:
    """Drop database ``name`` beside ``admin_url``'s, if it exists, connections and all."""
    await _administer(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', connect_timeout)


async def _administer(admin_url: str, statement: str, connect_timeout: float) -> None:
    connection = await asyncpg.connect(libpq_url(admin_url), timeout=connect_timeout)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


#: Travellers of the simulated wallets: (customer id, name, payment code, balance in minor
#: units). Codes start with the wallet's prefix from config/causeway.toml.
DEMO_ACCOUNTS: Mapping[str, list[tuple[str, str, str, int]]] = {
    "GCASH": [
        ("GC-0001", "Maria Santos", "281001000000000017", 5_000_000),
        ("GC-0002", "Jose Reyes", "281001000000000025", 150_000),
    ],
    "KAKAOPAY": [("KP-0001", "Kim Min-jun", "281002000000000013", 2_000_000)],
    "TRUEMONEY": [("TM-0001", "Somchai Prasert", "281003000000000011", 1_000_000)],
    "TNG": [("TNG-0001", "Nur Aisyah", "281004000000000019", 500_000)],
    "ALIPAYHK": [("AHK-0001", "Chan Tai Man", "281005000000000016", 2_000_000)],
    "DANA": [("DANA-0001", "Budi Santoso", "281006000000000014", 500_000_000)],
}

#: A single payment above this (in the wallet's minor units) is declined by the simulators.
SINGLE_PAYMENT_LIMITS: Mapping[str, int] = {"KAKAOPAY": 3_000_000, "GCASH": 10_000_000}


def ensure_local_keys(settings_state: Path, acquirers: list[str], wallets: list[str]) -> list[str]:
    """Generate the missing key pairs under ``<state>/keys``; return the ones created."""
    return ensure_key_pairs(settings_state / "keys", key_names(acquirers, wallets))


def simulated_wallet(settings: Settings, route: RouteConfig) -> SimulatedWallet:
    """The simulator behind ``route``, seeded with :data:`DEMO_ACCOUNTS`."""
    keys = settings.state_dir / "keys"
    wallet = next(w for w in settings.wallets if w.psp_id == route.wallet)
    return SimulatedWallet(
        psp_id=wallet.psp_id,
        currency=wallet.currency,
        client_id=wallet.psp_id,
        private_key=(keys / f"wallet-{wallet.psp_id}.pem").read_bytes(),
        hub_public_key=(keys / "hub.pub.pem").read_bytes(),
        accounts=[
            SimulatedAccount(customer_id=c, name=n, payment_code=code, balance=b)
            for c, n, code, b in DEMO_ACCOUNTS.get(wallet.psp_id, [])
        ],
        single_payment_limit=SINGLE_PAYMENT_LIMITS.get(wallet.psp_id),
    )


def simulator_app(settings: Settings, route: RouteConfig) -> Starlette:
    """The simulated wallet behind ``route``, as an ASGI app."""
    return create_simulator(simulated_wallet(settings, route))


def with_route_urls(settings: Settings, urls: Mapping[str, str]) -> Settings:
    """``settings`` with the named routes' ``base_url`` replaced."""
    routes = [
        route.model_copy(update={"settings": {**route.settings, "base_url": urls[route.name]}})
        if route.name in urls
        else route
        for route in settings.routes
    ]
    return settings.model_copy(update={"routes": routes})


class LocalServer:
    """A uvicorn server running in this event loop on a loopback port."""

    def __init__(self, app: ASGIApp, *, port: int = 0) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit it: without it every small answer on loopback waits
        # on delayed ACKs (about 40 ms an exchange).
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket.bind(("127.0.0.1", port))
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", lifespan="auto", access_log=False, log_config=None
        )
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # re-raises the start-up error
                raise RuntimeError("the server stopped during start-up")
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task
        self._socket.close()


@asynccontextmanager
async def serve(app: ASGIApp, *, port: int = 0) -> AsyncIterator[LocalServer]:
    """Run ``app`` on 127.0.0.1 (a free port unless given) until the block ends."""
    async with serve_all([app], ports=[port]) as (server,):
        yield server


@asynccontextmanager
async def serve_all(
    apps: Sequence[ASGIApp], *, ports: Sequence[int] | None = None
) -> AsyncIterator[list[LocalServer]]:
    """Run several apps at once (started and stopped together, which is quicker)."""
    servers = [
        LocalServer(app, port=port)
        for app, port in zip(apps, ports or [0] * len(apps), strict=True)
    ]
    try:
        await asyncio.gather(*(server.start() for server in servers))
        yield servers
    finally:
        await asyncio.gather(*(server.stop() for server in servers))


class AcquirerInbox:
    """An acquirer's ``notifyPayment`` endpoint, as the demo and the tests need one.

    It checks the hub's signature, records what arrives, and acknowledges with a result
    signed by the acquirer's key — or, while :attr:`failing_with` is set, answers with that
    HTTP status instead (an acquirer that is down).
    """

    PATH = "/acquirer/notifyPayment"

    def __init__(self, client_id: str, private_key: bytes, hub_public_key: bytes) -> None:
        self.client_id = client_id
        self._signer = RsaSigner(private_key)
        self._hub = RsaVerifier(hub_public_key)
        self.received: list[tuple[str, dict[str, Any]]] = []  # (notification id, body)
        self.failing_with: int | None = None
        self.app = Starlette(routes=[Route(self.PATH, self._notify, methods=["POST"])])

    async def _notify(self, request: Request) -> Response:
        if self.failing_with is not None:
            return Response(status_code=self.failing_with)
        try:
            raw = await request.body()
        except ClientDisconnect:
            # The gateway died mid-delivery; it sends the notification again.
            return Response(status_code=400)
        content = signed_content(
            "POST",
            request.url.path,
            request.headers.get("client-id", ""),
            request.headers.get("request-time", ""),
            raw,
        )
        if not self._hub.verify(content, request.headers.get("signature", "")):
            result = {"resultCode": "INVALID_SIGNATURE", "resultStatus": "F", "resultMessage": ""}
        else:
            self.received.append(
                (request.headers.get("causeway-notification-id", ""), json.loads(raw))
            )
            result = {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"}
        body = json.dumps({"result": result}).encode()
        response_time = datetime.now(UTC).isoformat(timespec="seconds")
        signed = signed_content("POST", request.url.path, self.client_id, response_time, body)
        return Response(
            body,
            media_type="application/json",
            headers={
                "client-id": self.client_id,
                "response-time": response_time,
                "signature": self._signer.header(signed),
            },
        )
