"""The running hub: every long-lived object, built once from the settings and closed once.

Nothing is built at import time. :meth:`Hub.start` opens the ledger (running migrations),
connects to Redis when one is configured, loads the rate file, builds the connectors and the
router, and returns the hub the API serves from.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

import httpx
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

import connectors
from connectors import RsaSigner, RsaVerifier
from connectors._transport import AiohttpTransport
from fx import Quoter, StaticRates
from gateway.breakers import Breakers
from gateway.cancels import Cancels
from gateway.config import AcquirerConfig, Settings
from gateway.coordination import (
    Cache,
    LocalCache,
    LocalLocks,
    Locks,
    RedisCache,
    RedisHealth,
    RedisLocks,
)
from gateway.engine import PaymentEngine
from gateway.errors import ConfigError, CoordinationUnavailable, StorageUnavailable
from gateway.models import Order
from gateway.notifications import SCHEDULE, Dispatcher
from gateway.orders import Orders
from gateway.quotes import QuoteBook
from gateway.recovery import Recovery, RecoveryPolicy
from gateway.refunds import Refunds
from gateway.store import Store
from gateway.wallet_api import WalletClient
from routing import Route, Router, Wallet

__all__ = ["Hub"]

log = logging.getLogger("causeway.hub")

#: Connecting to Redis, and each command, gives up after this long.
REDIS_TIMEOUT_SECONDS = 2.0

#: A health check waits this long for each service.
HEALTH_TIMEOUT_SECONDS = 1.0

#: Recovery sweeps this often (its schedule, every 3 s at the quickest, is finer than this).
RECOVERY_POLL_SECONDS = 1.0

#: On stopping, a background pass under way may finish within this long; then it is cancelled.
STOP_GRACE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Acquirer:
    """An acquirer allowed to call the API, with the verifier of its signatures."""

    config: AcquirerConfig
    verifier: RsaVerifier = field(repr=False)


@dataclass(slots=True)
class Hub:
    settings: Settings
    store: Store
    engine: PaymentEngine
    refunds: Refunds
    cancels: Cancels
    orders: Orders
    wallet_clients: dict[str, WalletClient]
    signer: RsaSigner
    acquirers: dict[str, Acquirer]
    http: httpx.AsyncClient
    redis: Redis | None
    skipped_routes: dict[str, str]
    dispatcher: Dispatcher
    cache: Cache
    background: list[asyncio.Task[None]] = field(default_factory=list)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    async def start(cls, settings: Settings) -> Hub:
        store = await Store.open(settings.storage.database_url)
        redis: Redis | None = None
        locks: Locks
        cache: Cache
        if settings.storage.redis_url:
            redis = _redis_client(settings.storage.redis_url)
            prefix = settings.storage.redis_prefix
            health = RedisHealth()
            locks = RedisLocks(redis, prefix=prefix + "lock:", health=health)
            cache = RedisCache(redis, prefix=prefix + "cache:", health=health)
        else:
            locks, cache = LocalLocks(), LocalCache()
        rates = StaticRates.from_file(settings.fx.rates_file)
        quoter = Quoter(
            rates,
            spreads_bps=settings.fx.spreads_bps,
            default_spread_bps=settings.fx.default_spread_bps,
            ttl=timedelta(seconds=settings.fx.quote_ttl_seconds),
        )
        router, skipped = _build_router(settings)
        # Wallet calls and merchant notifications; at most 64 connections, all kept alive,
        # so a burst does not open connections only to close them again.
        http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.hub.wallet_timeout_seconds, connect=3.0),
            # httpx's own pool costs several times aiohttp's per request (encode/httpx#3215);
            # the transport keeps the httpx API the connectors build requests with.
            transport=AiohttpTransport(limit=64),
        )
        engine = PaymentEngine(
            store=store,
            router=router,
            quotes=QuoteBook(quoter, cache),
            locks=locks,
            http=http,
            lock_ttl=settings.hub.lock_ttl_seconds,
            lock_wait=settings.hub.lock_wait_seconds,
            call_deadline=settings.hub.wallet_timeout_seconds,
            late_arrival=settings.hub.late_arrival_seconds,
            breakers=Breakers(cache),
            payments_in_flight=settings.hub.payments_in_flight,
        )
        try:
            signer = RsaSigner(
                settings.hub.private_key.get_secret_value().encode(),
                key_version=settings.hub.key_version,
            )
            acquirers = {
                a.client_id: Acquirer(a, RsaVerifier(a.public_key.encode()))
                for a in settings.acquirers
            }
        except ValueError as exc:
            raise ConfigError(f"a configured key cannot be loaded: {exc}") from exc
        notifications = settings.notifications
        dispatcher = Dispatcher(
            store,
            http,
            signer,
            {client_id: acquirer.verifier for client_id, acquirer in acquirers.items()},
            schedule=notifications.schedule_seconds or SCHEDULE,
            lease=timedelta(seconds=notifications.lease_seconds),
            deadline=settings.hub.wallet_timeout_seconds,
        )
        return cls(
            dispatcher=dispatcher,
            cache=cache,
            settings=settings,
            store=store,
            engine=engine,
            refunds=Refunds(engine),
            cancels=Cancels(engine),
            orders=Orders(engine, ttl=timedelta(seconds=settings.hub.order_ttl_seconds)),
            wallet_clients=_wallet_clients(settings, router),
            signer=signer,
            acquirers=acquirers,
            http=http,
            redis=redis,
            skipped_routes=skipped,
        )

    def cashier_url(self, order: Order) -> str | None:
        """Where the traveller pays a cashier order: the wallet's own page, which shows the
        order and, once confirmed, claims it (``None`` for a QR order)."""
        if order.wallet is None:
            return None
        route = self.engine.router.select(self.engine.router.wallet(order.wallet))
        base = str(
            next(r.settings for r in self.settings.routes if r.name == route.name)["base_url"]
        )
        return f"{base.rstrip('/')}/cashier?{urlencode({'codeValue': order.code_value})}"

    async def check_services(self) -> dict[str, str]:
        """Each service the hub depends on: ``ok``, ``unavailable`` or ``in-process``."""
        services = {"ledger": "ok", "redis": "in-process"}
        try:
            await asyncio.wait_for(self.store.ping(), HEALTH_TIMEOUT_SECONDS)
        except (StorageUnavailable, TimeoutError):
            services["ledger"] = "unavailable"
        if self.redis is not None:
            try:
                await asyncio.wait_for(self.redis.ping(), HEALTH_TIMEOUT_SECONDS)
                services["redis"] = "ok"
            except (RedisError, OSError, TimeoutError):
                services["redis"] = "unavailable"
        return services

    def start_background(self) -> None:
        """Start the work that runs beside the API: delivering notifications, and driving
        unresolved payments to a final state."""
        policy = RecoveryPolicy(
            deadline=timedelta(seconds=self.settings.hub.recovery_deadline_seconds)
        )
        recovery = Recovery(
            self.engine, policy, cache=self.cache, refunds=self.refunds, cancels=self.cancels
        )
        stop = self.stopping
        every = self.settings.notifications.poll_seconds
        self.background += [
            asyncio.create_task(
                _repeat("notification pass", self.dispatcher.deliver_due, every, stop),
                name="notifications",
            ),
            asyncio.create_task(
                _repeat("recovery sweep", recovery.sweep, RECOVERY_POLL_SECONDS, stop),
                name="recovery",
            ),
        ]

    async def close(self) -> None:
        # A pass under way is let finish rather than cancelled: one cancelled in the middle of
        # a statement can leave its connection checked out, for the garbage collector to find.
        self.stopping.set()
        if self.background:
            _, late = await asyncio.wait(self.background, timeout=STOP_GRACE_SECONDS)
            for task in late:
                log.warning(
                    "%s still running after %.0f s; cancelled", task.get_name(), STOP_GRACE_SECONDS
                )
                task.cancel()
            await asyncio.gather(*self.background, return_exceptions=True)
        await self.http.aclose()
        if self.redis is not None:
            await self.redis.aclose()
        await self.store.close()


async def _repeat(
    what: str, one_pass: Callable[[], Awaitable[object]], every: float, stop: asyncio.Event
) -> None:
    """Call ``one_pass`` every ``every`` seconds until ``stop`` is set. A failing pass is
    logged, not fatal: the next one tries again."""
    while not stop.is_set():
        try:
            await one_pass()
        except (StorageUnavailable, CoordinationUnavailable) as exc:
            log.warning("%s skipped: %s", what, exc)
        except Exception:
            log.exception("%s failed; trying again", what)
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


def _redis_client(url: str) -> Redis:
    """A Redis client that fails fast: an unreachable Redis must cost a request
    milliseconds, not the wallet's timeout. One immediate retry on a fresh connection
    covers a pooled connection that a Redis restart has closed."""
    return Redis.from_url(
        url,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), retries=1),
    )


def _wallet_clients(settings: Settings, router: Router) -> dict[str, WalletClient]:
    """Wallets that may call the hub: those reached over the Alipay+ protocol, by the
    ``psp_id`` they sign as and the public key their route names."""
    clients: dict[str, WalletClient] = {}
    for route in settings.routes:
        key = route.settings.get("wallet_public_key")
        if route.kind != "alipayplus" or not isinstance(key, str):
            continue
        try:
            verifier = RsaVerifier(key.encode())
        except ValueError as exc:
            raise ConfigError(f"route {route.name}: wallet_public_key: {exc}") from exc
        psp_id = str(route.settings.get("psp_id", route.wallet))
        clients[psp_id] = WalletClient(router.wallet(route.wallet), verifier)
    return clients


def _build_router(settings: Settings) -> tuple[Router, dict[str, str]]:
    wallets = [
        Wallet(
            psp_id=w.psp_id,
            name=w.name,
            currency=w.currency,
            region=w.region,
            method_types=frozenset(w.method_types),
            code_prefixes=tuple(w.code_prefixes),
        )
        for w in settings.wallets
    ]
    routes: list[Route] = []
    skipped: dict[str, str] = {}
    for config in settings.routes:
        try:
            connector = connectors.build_connector(config.kind, config.name, config.settings)
        except connectors.ConnectorError as exc:
            # One broken connector must not take the gateway (and every other wallet) down.
            log.error("route %s disabled: %s", config.name, exc)
            skipped[config.name] = str(exc)
            continue
        routes.append(Route(config.name, config.wallet, connector, config.priority))
    try:
        return Router(wallets, routes), skipped
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
