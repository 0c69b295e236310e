"""The chaos run (``causeway chaos``): many payments under faults, then an audit.

A merchant plays thousands of seeded scripts (pay, pay twice at once, cancel, cancel
before pay, partial and full refunds, declines) against a gateway running as a child
process, paying with travellers of every wallet of the stage (``_wallets.WALLETS``: two
Alipay+ wallets, a SNAP BI one, WeChat Pay, M-Pesa and a Mojaloop one, each routed by the
hub like any route), while:

- the simulated wallets answer late, refuse with 503 before doing anything, answer 500
  after writing their books, drop the connection after writing their books, or answer
  after the hub's timeout (:class:`connectors.simulation.RandomFaults`);
- the gateway is SIGKILLed and started again every ``kill_every`` seconds;
- Redis (a ``redis-server`` of the run's own, with nothing persisted) is SIGKILLed and
  started again every ``redis_every`` seconds;
- the merchant's notification endpoint is down now and then;
- requests are duplicated, concurrently and as retries.

Then the faults stop, recovery gets a bounded time to drive everything final (less, once
what is still open stands still: ``_settle``), the gateway is stopped, and
:func:`gateway.audit.audit` checks the gateway's ledger against each wallet's ledger (in
the hub's ids: ``_ledgers``) and the merchant's inbox. The evidence is saved beside the
ledger (``evidence.json``) so the audit can be repeated on its own (:func:`audit_saved`).

Service URLs are shown and saved without their passwords.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import secrets
import time
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from connectors import RsaSigner, RsaVerifier
from gateway.audit import Audit, Evidence, MerchantAnswer, Notice, WalletEntry, audit, read_ledger
from gateway.chaos._faults import every, outage, restart, set_faults, start
from gateway.chaos._ledgers import in_hub_ids
from gateway.chaos._merchant import SCRIPTS, Merchant
from gateway.chaos._settle import settle
from gateway.chaos._stage import (
    ACQUIRER,
    ChildProcess,
    HubTimings,
    gateway_process,
    redis_process,
    write_config,
)
from gateway.chaos._urls import hide_password, is_hidden
from gateway.chaos._wallets import (
    WALLETS,
    control_calls,
    stage_simulator,
    travellers,
    write_rates,
)
from gateway.client import AcquirerClient
from gateway.errors import ConfigError
from gateway.local import (
    AcquirerInbox,
    create_database,
    drop_database,
    ensure_local_keys,
    free_port,
    serve_all,
)

__all__ = ["SCRIPTS", "ChaosOptions", "ChaosReport", "HubTimings", "audit_saved", "run_chaos"]


@dataclass(frozen=True)
class ChaosOptions:
    """What to run. ``postgres_url`` names an existing PostgreSQL database beside which the
    run makes (and afterwards drops, unless ``keep``) a database of its own; without it the
    ledger is SQLite in ``state_dir`` and the gateway's shared state is in-process (no
    Redis to restart) unless ``redis_url`` is given. With PostgreSQL and no ``redis_url``
    the run starts its own ``redis-server`` and restarts it."""

    state_dir: Path
    payments: int = 2000
    seed: int = 1
    duration: float | None = None  # stop starting payments after this many seconds
    concurrency: int = 16
    fault_rate: float = 0.03  # each random wallet fault strikes this share of calls
    latency_seconds: float = 0.005
    kill_every: float = 10.0  # 0: never kill the gateway
    redis_every: float = 15.0  # 0: never restart Redis
    outage_every: float = 7.0  # 0: the merchant's endpoint is never down
    settle_timeout: float = 180.0
    patience: float = 60.0  # how long the merchant asks again while an answer is unknown
    postgres_url: str | None = field(default=None, repr=False)  # with its password, if any
    redis_url: str | None = field(default=None, repr=False)
    keep: bool = False
    timings: HubTimings = field(default_factory=HubTimings)
    #: Weights of the merchant's scripts (``gateway.chaos.SCRIPTS``); 0 leaves one out.
    scripts: Mapping[str, int] = field(default_factory=lambda: dict(SCRIPTS))


@dataclass
class ChaosReport:
    audit: Audit
    evidence: Evidence
    stats: dict[str, Any] = field(default_factory=dict)
    database_url: str = field(default="", repr=False)  # with its password, if it has one
    run_dir: Path | None = None  # the ledger (SQLite), logs and evidence.json


class _QuietDrops(logging.Filter):
    """The wallets' dropped answers are deliberate: keep uvicorn from reporting each."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


async def run_chaos(options: ChaosOptions, say: Callable[[str], None] = print) -> ChaosReport:
    """Stage, play, settle and audit one run; ``say`` is told what is happening."""
    state = options.state_dir.resolve()
    state.mkdir(parents=True, exist_ok=True)
    run_id = secrets.token_hex(3)
    run_dir = state / f"run-{run_id}"
    run_dir.mkdir()
    rng = random.Random(options.seed)
    quiet = _QuietDrops()
    logging.getLogger("uvicorn.error").addFilter(quiet)
    people = travellers()
    stats: dict[str, Any] = {"seed": options.seed, "run": run_id}
    stack = AsyncExitStack()
    try:
        stack.callback(logging.getLogger("uvicorn.error").removeFilter, quiet)
        # Kept between runs; only Alipay+ wallets sign with RSA (the others' credentials
        # are the run's own, made with their simulators).
        rsa_wallets = [w.psp_id for w in WALLETS if w.kind == "alipayplus"]
        ensure_local_keys(state, [ACQUIRER], rsa_wallets)
        keys = state / "keys"
        acquirer_key = (keys / f"acquirer-{ACQUIRER}.pem").read_bytes()
        hub_key = (keys / "hub.pub.pem").read_bytes()
        inbox = AcquirerInbox(ACQUIRER, acquirer_key, hub_key)
        rates = write_rates(run_dir)
        wallets = [await stage_simulator(w, state, run_dir, people, rates) for w in WALLETS]
        # What each simulator lets the run do besides pay: random faults, order codes.
        controls = {w.psp_id: control_calls(app) for w, app in zip(WALLETS, wallets, strict=True)}
        *wallet_servers, inbox_server = await stack.enter_async_context(
            serve_all([*wallets, inbox.app])
        )
        wallet_urls = {
            w.psp_id: server.url for w, server in zip(WALLETS, wallet_servers, strict=True)
        }
        faulty = {p: url for p, url in wallet_urls.items() if "struck" in controls[p]}
        scan_urls = {p: url for p, url in wallet_urls.items() if {"scan", "hub"} <= controls[p]}
        port = free_port()  # the gateway's: it runs in a child process
        config = write_config(
            run_dir,
            wallet_urls,
            f"causeway-chaos-{run_id}:",
            options.timings,
            rates=rates,
            port=port,
        )

        database_url, redis_url, redis = await _services(options, run_dir, stack, say)
        stats["backend"] = "PostgreSQL" if options.postgres_url else "SQLite"
        stats["redis"] = (
            "own redis-server, restarted"
            if redis is not None and options.redis_every > 0
            else "own redis-server"
            if redis is not None
            else hide_password(redis_url)
            if redis_url
            else "none (in-process stand-ins: nothing to restart)"
        )
        gateway = gateway_process(config, state, database_url, redis_url, port)
        stack.push_async_callback(gateway.stop)
        await gateway.start()
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=20))
        for n, psp_id in enumerate(wallet_urls):
            if psp_id in faulty:
                await set_faults(http, faulty[psp_id], options, seed=options.seed * 100 + n)
        client = AcquirerClient(
            http, gateway.url, ACQUIRER, RsaSigner(acquirer_key), RsaVerifier(hub_key)
        )
        merchant = Merchant(
            client,
            http,
            run_id,
            people,
            inbox_server.url + AcquirerInbox.PATH,
            scan_urls,
            patience=options.patience,
            weights=options.scripts,
        )
        for url in scan_urls.values():  # where the wallets' apps reach the hub
            (await http.post(url + "/_sim/hub", json={"url": gateway.url})).raise_for_status()

        say(
            f"chaos run {run_id}: {options.payments} payments, seed {options.seed}, "
            f"{stats['backend']}, Redis: {stats['redis']}; files in {run_dir}"
        )
        started = time.monotonic()
        monkeys = [
            asyncio.create_task(every(options.kill_every, rng, lambda: restart(gateway))),
            asyncio.create_task(every(options.outage_every, rng, lambda: outage(inbox))),
        ]
        if redis is not None:
            monkeys.append(
                asyncio.create_task(every(options.redis_every, rng, lambda: restart(redis)))
            )
        try:
            await _play(merchant, options, rng)
        finally:
            for monkey in monkeys:
                monkey.cancel()
            await asyncio.gather(*monkeys, return_exceptions=True)
        stats["load_seconds"] = round(time.monotonic() - started, 1)
        say(f"load done in {stats['load_seconds']} s; faults off, waiting for recovery")

        # Everything back up and well-behaved: what is left is recovery's job.
        inbox.failing_with = None
        if redis is not None and not redis.running:
            await start(redis)
        if not gateway.running:
            await start(gateway)
        for url in faulty.values():
            await set_faults(http, url, options, seed=0, off=True)
        settled_at = time.monotonic()
        settled = await settle(
            database_url,
            merchant,
            within=options.settle_timeout,
            still_after=options.timings.still_seconds,
            not_before=_recovery_had_its_turn(
                gateway, options.timings, shared_locks=redis_url is not None
            ),
        )
        stats["settle_seconds"] = round(time.monotonic() - settled_at, 1)
        stats["unsettled"] = settled.open
        stats["settled"] = settled.reason
        await gateway.stop()

        struck = {p: (await http.get(url + "/_sim/struck")).json() for p, url in faulty.items()}
        kept = {
            w.route: (await http.get(wallet_urls[w.psp_id] + "/_sim/ledger")).json()
            for w in WALLETS
        }
        stats.update(
            payments_started=sum(merchant.scripts.values()),
            wallets={
                w.route: {
                    "wallet": w.psp_id,
                    "protocol": w.kind,
                    "currency": w.currency,
                    "started": merchant.wallets.get(w.psp_id, 0),
                    "random faults": w.psp_id in faulty,
                    "order codes": w.psp_id in scan_urls,
                }
                for w in WALLETS
            },
            scripts=merchant.scripts,
            answers=dict(sorted(merchant.codes.items())),
            merchant_calls=merchant.calls,
            merchant_unreachable=merchant.unreachable,
            gateway_kills=gateway.kills,
            redis_restarts=redis.kills if redis is not None else 0,
            faults_struck=struck,
            notifications_received=len(inbox.received),
        )
        evidence = await read_ledger(database_url)
        known = [p.wallet_key for p in evidence.payments]
        ledgers = {w.route: in_hub_ids(w.kind, kept[w.route], known) for w in WALLETS}
        evidence = evidence.replace(
            wallets={r: tuple(WalletEntry.from_json(e) for e in es) for r, es in ledgers.items()},
            inbox=tuple(Notice(n, b) for n, b in inbox.received),
            answers=tuple(merchant.answers),
        )
        _save(run_dir / "evidence.json", database_url, ledgers, inbox.received, merchant, stats)
        return ChaosReport(audit(evidence), evidence, stats, database_url, run_dir)
    finally:
        await stack.aclose()


async def _services(
    options: ChaosOptions, run_dir: Path, stack: AsyncExitStack, say: Callable[[str], None]
) -> tuple[str, str | None, ChildProcess | None]:
    """The ledger's URL, Redis's URL and the Redis process the run owns, if any."""
    if options.postgres_url is None:
        return f"sqlite+aiosqlite:///{run_dir / 'ledger.db'}", options.redis_url, None
    name = f"causeway_chaos_{secrets.token_hex(4)}"
    database_url = await create_database(options.postgres_url, name, connect_timeout=5)
    if not options.keep:
        stack.push_async_callback(drop_database, options.postgres_url, name, connect_timeout=5)
    else:
        say(f"the ledger is kept in database {name}")
    if options.redis_url:
        return database_url, options.redis_url, None
    redis = redis_process(free_port(), run_dir)
    stack.push_async_callback(redis.stop)
    await redis.start()
    return database_url, redis.url, redis


async def _play(merchant: Merchant, options: ChaosOptions, rng: random.Random) -> None:
    gate = asyncio.Semaphore(options.concurrency)
    stop_at = None if options.duration is None else time.monotonic() + options.duration
    seeds = [rng.getrandbits(64) for _ in range(options.payments)]

    async def one(number: int) -> None:
        async with gate:
            if stop_at is not None and time.monotonic() > stop_at:
                return
            await merchant.play(number, random.Random(seeds[number]))

    await asyncio.gather(*(one(n) for n in range(options.payments)))


def _recovery_had_its_turn(
    gateway: ChildProcess, timings: HubTimings, *, shared_locks: bool
) -> datetime:
    """When recovery, with the faults off from now on, will have looked at every open
    payment and refund: a turn from now, and one from when the locks a killed gateway
    left in Redis (``shared_locks``) have lapsed."""
    turn = timedelta(seconds=timings.turn_seconds)
    ready = datetime.now(UTC) + turn
    if shared_locks and gateway.started_at is not None:
        lapsed = gateway.started_at + timedelta(seconds=timings.lock_ttl_seconds)
        ready = max(ready, lapsed + turn)
    return ready


def _save(
    path: Path,
    database_url: str,
    ledgers: dict[str, Any],
    received: list[tuple[str, dict[str, Any]]],
    merchant: Merchant,
    stats: dict[str, Any],
) -> None:
    path.write_text(
        json.dumps(
            {
                "database_url": hide_password(database_url),
                "wallets": ledgers,
                "inbox": [{"notification_id": n, "body": b} for n, b in received],
                "answers": [asdict(a) for a in merchant.answers],
                "stats": stats,
            },
            indent=1,
        )
    )


async def audit_saved(evidence_file: Path, database_url: str | None = None) -> Audit:
    """Audit a finished run again from its ``evidence.json`` (and its ledger, at the URL
    saved there unless ``database_url`` names another). The URL is saved without its
    password; a ledger that needs one must be named by ``database_url``."""
    saved = json.loads(await asyncio.to_thread(evidence_file.read_text))
    if database_url is None and is_hidden(saved["database_url"]):
        raise ConfigError(
            f"{evidence_file} names the ledger without its password "
            f"({saved['database_url']}); give its URL (--database-url)"
        )
    evidence = await read_ledger(database_url or saved["database_url"])
    evidence = evidence.replace(
        wallets={
            route: tuple(WalletEntry.from_json(e) for e in entries)
            for route, entries in saved["wallets"].items()
        },
        inbox=tuple(Notice(n["notification_id"], n["body"]) for n in saved["inbox"]),
        answers=tuple(MerchantAnswer(**a) for a in saved["answers"]),
    )
    return audit(evidence)
