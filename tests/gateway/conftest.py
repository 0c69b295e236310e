"""A whole hub for end-to-end tests: the gateway and the simulated wallets over loopback."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import ASGIApp

from connectors import Operation, RsaSigner, RsaVerifier
from gateway.api import create_app
from gateway.client import AcquirerClient
from gateway.config import (
    Environment,
    NotificationsConfig,
    RouteConfig,
    Settings,
    WalletConfig,
    load_settings,
)
from gateway.hub import Hub
from gateway.local import (
    AcquirerInbox,
    LocalServer,
    serve,
    serve_all,
    simulator_app,
    with_route_urls,
)
from routing import Route
from tests.conftest import Backend

CONFIG = Path(__file__).parents[2] / "config" / "causeway.toml"

KIM = "281002000000000013"  # KakaoPay, KRW 2,000,000 (the won has no minor unit)
MARIA = "281001000000000017"  # GCash, PHP 50,000.00
JOSE = "281001000000000025"  # GCash, PHP 1,500.00


def settings_for(backend: Backend, state_dir: Path) -> Settings:
    settings = load_settings(
        Environment(
            config=CONFIG,
            state_dir=state_dir,
            database_url=backend.database_url,
            redis_url=backend.redis_url or "",
        )
    )
    storage = settings.storage.model_copy(update={"redis_prefix": backend.redis_prefix})
    return settings.model_copy(update={"storage": storage})


@dataclass(frozen=True)
class Simulator:
    """A simulated wallet, through its control API (``/_sim/...``)."""

    http: httpx.AsyncClient
    url: str

    async def faults(self, **wanted: object) -> dict[str, Any]:
        """Set the faults named (``latency_seconds=1.0``, ``unknown_status=True``, ...; see
        ``connectors.alipayplus._sim_faults``), leaving the others as they are."""
        response = await self.http.post(self.url + "/_sim/faults", json=wanted)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    async def latency(self, seconds: float) -> None:
        """Delay every answer by ``seconds``, after the wallet has written its books."""
        await self.faults(latency_seconds=seconds)

    async def stats(self) -> dict[str, int]:
        answer: dict[str, int] = (await self.http.get(self.url + "/_sim/stats")).json()
        return answer

    async def accounts(self) -> dict[str, int]:
        rows = (await self.http.get(self.url + "/_sim/accounts")).json()
        return {row["customer_id"]: row["balance"] for row in rows}

    async def inquiries(self) -> Counter[str]:
        """How many inquiries the wallet has taken up about each payment request id."""
        return Counter((await self.http.get(self.url + "/_sim/inquiries")).json())


@dataclass
class LocalHub:
    """The running hub, as a test drives it."""

    settings: Settings
    url: str
    http: httpx.AsyncClient
    wallets: dict[str, str]  # route name → simulator URL
    siam: AcquirerClient
    tokyo: AcquirerClient
    state_dir: Path
    app: Starlette

    @property
    def app_hub(self) -> Hub:
        """The running hub inside the gateway (for tests that drive its workers by hand)."""
        hub: Hub = self.app.state.hub
        return hub

    def simulator(self, route: str) -> Simulator:
        return Simulator(self.http, self.wallets[route])

    async def stats(self, route: str) -> dict[str, int]:
        return await self.simulator(route).stats()

    async def accounts(self, route: str) -> dict[str, int]:
        return await self.simulator(route).accounts()

    async def inquiries(self, route: str) -> Counter[str]:
        return await self.simulator(route).inquiries()

    async def charged(self, route: str, charges: int = 1) -> None:
        """Wait (5 s at most) until ``route``'s wallet has made ``charges`` charges. A pay
        the gateway gave up on may reach a slow machine's wallet later; an inquiry sent
        before it does is rightly told the wallet never saw it."""
        for _ in range(100):
            if (await self.stats(route))["charges"] >= charges:
                return
            await asyncio.sleep(0.05)

    async def faults(self, route: str, **wanted: object) -> dict[str, Any]:
        return await self.simulator(route).faults(**wanted)

    async def latency(self, route: str, seconds: float) -> None:
        await self.simulator(route).latency(seconds)

    async def raw(self, api: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return await self.http.post(
            f"{self.url}/aps/api/v1/payments/{api}", content=body, headers=headers
        )


@asynccontextmanager
async def local_hub(
    backend: Backend,
    state_dir: Path,
    *,
    unreachable: frozenset[str] = frozenset(),
    backups: frozenset[str] = frozenset(),
    notifications: NotificationsConfig | None = None,
    **hub_settings: object,
) -> AsyncIterator[LocalHub]:
    """Start simulators and a gateway; ``hub_settings`` override the ``[hub]`` section and
    the ``unreachable`` routes point at a port where nothing listens."""
    settings = settings_for(backend, state_dir)
    if hub_settings:
        settings = settings.model_copy(update={"hub": settings.hub.model_copy(update=hub_settings)})
    if notifications is not None:
        settings = settings.model_copy(update={"notifications": notifications})
    if backups:  # a second route (its own simulator) to the same wallet, at lower priority
        extra = [
            r.model_copy(update={"name": f"{r.name}-backup", "priority": r.priority + 1})
            for r in settings.routes
            if r.name in backups
        ]
        settings = settings.model_copy(update={"routes": [*settings.routes, *extra]})
    keys = state_dir / "keys"
    async with AsyncExitStack() as stack:
        wallets = await stack.enter_async_context(
            serve_all([simulator_app(settings, route) for route in settings.routes])
        )
        urls = {
            route.name: server.url for route, server in zip(settings.routes, wallets, strict=True)
        }
        # Port 9 (discard) on loopback: nothing listens, so a connection is refused.
        settings = with_route_urls(
            settings, {**urls, **{name: "http://127.0.0.1:9" for name in unreachable}}
        )
        app = create_app(settings)
        gateway = await stack.enter_async_context(serve(app))
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=30))
        for url in urls.values():  # where the wallets' apps reach the hub
            (await http.post(url + "/_sim/hub", json={"url": gateway.url})).raise_for_status()
        yield LocalHub(
            settings,
            gateway.url,
            http,
            urls,
            acquirer_client(http, gateway.url, keys, "SIAM_ACQ"),
            acquirer_client(http, gateway.url, keys, "TOKYO_ACQ"),
            state_dir,
            app,
        )


@asynccontextmanager
async def another_gateway(hub: LocalHub) -> AsyncIterator[LocalHub]:
    """A second gateway instance with the same settings (so the same ledger, Redis and
    wallets) as ``hub``: what a second process behind the load balancer would be."""
    app = create_app(hub.settings)
    async with serve(app) as gateway:
        siam, tokyo = (
            acquirer_client(hub.http, gateway.url, hub.state_dir / "keys", name)
            for name in ("SIAM_ACQ", "TOKYO_ACQ")
        )
        yield dataclasses.replace(hub, url=gateway.url, siam=siam, tokyo=tokyo, app=app)


async def hub_through(
    stack: AsyncExitStack,
    backend: Backend,
    state_dir: Path,
    simulator: ASGIApp,
    route: RouteConfig,
    *,
    wallet: WalletConfig | None = None,
    **hub: object,
) -> tuple[Hub, httpx.AsyncClient, AcquirerClient, str]:
    """A running hub whose ``route.wallet`` goes through ``route`` alone, to ``simulator``
    served for it (``wallet``: that wallet, when the configuration has none of that name;
    ``hub``: ``[hub]`` settings to change), with its background workers stopped: the test
    sweeps on its own clock. Returns the hub, an HTTP client, SIAM_ACQ's client and the
    simulator's URL; ``stack`` closes them."""
    served = await stack.enter_async_context(serve(simulator))
    route = route.model_copy(update={"settings": {"base_url": served.url, **route.settings}})
    settings = settings_for(backend, state_dir)
    routes = [r for r in settings.routes if r.wallet != route.wallet] + [route]
    wallets = settings.wallets + ([] if wallet is None else [wallet])
    hub_settings = settings.hub.model_copy(update=hub)
    app = create_app(
        settings.model_copy(update={"routes": routes, "wallets": wallets, "hub": hub_settings})
    )
    gateway = await stack.enter_async_context(serve(app))
    running: Hub = app.state.hub
    running.stopping.set()
    await asyncio.gather(*running.background)
    http = await stack.enter_async_context(httpx.AsyncClient(timeout=30))
    siam = acquirer_client(http, gateway.url, state_dir / "keys", "SIAM_ACQ")
    return running, http, siam, served.url


def acquirer_client(http: httpx.AsyncClient, url: str, keys: Path, name: str) -> AcquirerClient:
    """The gateway at ``url`` as acquirer ``name`` calls it, signed with its key in ``keys``."""
    signer = RsaSigner((keys / f"acquirer-{name}.pem").read_bytes())
    return AcquirerClient(http, url, name, signer, RsaVerifier((keys / "hub.pub.pem").read_bytes()))


@pytest.fixture
async def hub(backend: Backend, state_dir: Path) -> AsyncIterator[LocalHub]:
    async with local_hub(backend, state_dir) as running:
        yield running


@pytest.fixture
async def impatient_hub(backend: Backend, state_dir: Path) -> AsyncIterator[LocalHub]:
    """A hub that waits 0.6 s for a wallet's answer: a simulator slowed by 1 s makes it
    unknown, and an unslowed one still answers in time on a slow, busy machine (at 0.3 s
    a plain pay or refund was seen to time out there)."""
    async with local_hub(backend, state_dir, wallet_timeout_seconds=0.6) as running:
        yield running


def acquirer_inbox(state_dir: Path, name: str) -> AcquirerInbox:
    """Acquirer ``name``'s notification endpoint, recording what it receives."""
    keys = state_dir / "keys"
    return AcquirerInbox(
        name, (keys / f"acquirer-{name}.pem").read_bytes(), (keys / "hub.pub.pem").read_bytes()
    )


@pytest.fixture
def inbox(state_dir: Path) -> AcquirerInbox:
    """TOKYO_ACQ's notification endpoint."""
    return acquirer_inbox(state_dir, "TOKYO_ACQ")


@pytest.fixture
async def inbox_server(inbox: AcquirerInbox) -> AsyncIterator[LocalServer]:
    async with serve(inbox.app) as server:
        yield server


async def until(predicate: Callable[[], bool], seconds: float = 5.0) -> None:
    """Wait for ``predicate`` to hold, polling; fail after ``seconds``."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("not within the time allowed")
        await asyncio.sleep(0.02)


def pay_body(
    request_id: str,
    *,
    code: str = KIM,
    currency: str = "THB",
    value: str = "125000",
    method_type: str = "CONNECT_WALLET",
    **extra: Any,
) -> dict[str, Any]:
    """A valid user-presented pay request; ``extra`` overrides top-level members."""
    amount = {"currency": currency, "value": value}
    body: dict[str, Any] = {
        "paymentRequestId": request_id,
        "paymentAmount": amount,
        "order": {
            "referenceOrderId": f"ORD-{request_id}",
            "orderDescription": "Two bowls of khao soi",
            "orderAmount": dict(amount),
            "merchant": {
                "referenceMerchantId": "TH-BKK-0042",
                "merchantMCC": "5812",
                "merchantName": "Baan Somtum",
                "merchantAddress": {"region": "TH"},
            },
        },
        "paymentMethod": {"paymentMethodType": method_type, "paymentMethodId": code},
        "paymentFactor": {"isInStorePayment": "true", "inStorePaymentScenario": "PaymentCode"},
    }
    body.update(extra)
    return body


def refund_body(
    request_id: str, refund_id: str, value: str, currency: str = "THB"
) -> dict[str, Any]:
    """A refund request of ``value`` (minor units) of the payment ``request_id``."""
    return {
        "paymentRequestId": request_id,
        "refundRequestId": refund_id,
        "refundAmount": {"currency": currency, "value": value},
    }


def without_operation(monkeypatch: pytest.MonkeyPatch, route: Route, operation: Operation) -> None:
    """Take ``operation`` out of what ``route``'s connector says it can do, for this test."""
    able = route.connector.capabilities
    unable = dataclasses.replace(able, operations=able.operations - {operation})
    monkeypatch.setattr(route.connector, "capabilities", unable)
