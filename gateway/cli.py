"""The ``causeway`` command: serve, demo, keys, simulate, migrate, settle, reconcile,
chaos, connector new."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import tomllib
from contextlib import AsyncExitStack
from pathlib import Path

import uvicorn

from gateway.config import Environment, load_settings
from gateway.errors import CausewayError

__all__ = ["main"]


def _environment(args: argparse.Namespace) -> Environment:
    env = Environment()
    updates: dict[str, object] = {}
    if args.config:
        updates["config"] = Path(args.config)
    if args.state_dir:
        updates["state_dir"] = Path(args.state_dir)
    return env.model_copy(update=updates)


def _serve(args: argparse.Namespace) -> int:
    from gateway.api import create_app

    settings = load_settings(_environment(args))
    uvicorn.run(
        create_app(settings),
        host=args.host or settings.server.host,
        port=args.port or settings.server.port,
        log_level="info",
        access_log=False,
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    from rich.console import Console

    from gateway.demo import prepare_demo, run_demo

    env = _environment(args)
    console = Console()
    setup = prepare_demo(env.config, env.state_dir, console)
    return 0 if asyncio.run(run_demo(setup, console)) else 1


def _keys(args: argparse.Namespace) -> int:
    from gateway.local import ensure_local_keys

    env = _environment(args)
    raw = tomllib.loads(env.config.read_text())
    created = ensure_local_keys(
        env.state_dir,
        [a["client_id"] for a in raw.get("acquirers", [])],
        [w["psp_id"] for w in raw.get("wallets", [])],
    )
    print(f"{len(created)} key pairs created in {env.state_dir / 'keys'}")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from gateway.local import serve, simulator_app

    settings = load_settings(_environment(args))

    async def run() -> None:
        async with AsyncExitStack() as stack:
            for route in settings.routes:
                port = int(str(route.settings["base_url"]).rsplit(":", 1)[1].strip("/"))
                server = await stack.enter_async_context(
                    serve(simulator_app(settings, route), port=port)
                )
                print(f"{route.wallet:<10} simulated on {server.url}")
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from gateway.store import Store

    settings = load_settings(_environment(args))

    async def run() -> None:
        store = await Store.open(settings.storage.database_url)
        await store.close()

    asyncio.run(run())
    print("the ledger schema is at the head revision")
    return 0


def _settle(args: argparse.Namespace) -> int:
    from datetime import date

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from gateway.settlement import settle
    from gateway.settlement_view import positions_table
    from gateway.store import Store

    settings = load_settings(_environment(args))
    day = date.fromisoformat(args.date)
    folder = (
        Path(args.out)
        if args.out
        else settings.settlement.output_dir or (settings.state_dir / "settlement")
    )
    console = Console()

    async def run() -> int:
        store = await Store.open(settings.storage.database_url)
        try:
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=console,
                transient=True,
            ) as progress:
                task = progress.add_task("settling", total=None)
                outcome = await settle(
                    store.engine,
                    settings,
                    day,
                    folder,
                    step=lambda name: progress.update(task, description=name),
                    on_file=lambda _: progress.advance(task),
                )
        finally:
            await store.close()
        how = "closed now" if outcome.closed_now else "closed before; files reproduced"
        console.print(positions_table(outcome.settlement))
        console.print(
            f"batch {outcome.settlement.batch.batch_id} {how}: "
            f"{len(outcome.files)} files in {folder}"
        )
        return 0

    return asyncio.run(run())


def _reconcile(args: argparse.Namespace) -> int:
    from datetime import datetime

    from rich.console import Console

    from gateway.clearing import find_batch
    from gateway.reconcile import read_items, reconcile
    from gateway.settlement_view import reconciliation_table
    from gateway.store import Store

    settings = load_settings(_environment(args))
    try:
        items = read_items(Path(args.file))
    except (OSError, ValueError, KeyError) as exc:
        print(f"causeway: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    if items.participant != args.participant:
        print(
            f"causeway: the file is {items.participant!r}'s, not {args.participant!r}'s",
            file=sys.stderr,
        )
        return 2
    day = datetime.strptime(items.batch_id, "%Y%m%d").date()

    async def run() -> int:
        store = await Store.open(settings.storage.database_url)
        try:
            async with store.engine.connect() as connection:
                batch = await find_batch(connection, day)
                if batch is None:
                    print(f"causeway: batch {items.batch_id} is not closed", file=sys.stderr)
                    return 2
                result = await reconcile(connection, batch, items)
        finally:
            await store.close()
        Console().print(reconciliation_table(result))
        # 0: the file agrees with the books; 1: differences (listed above).
        return 1 if result.differences else 0

    return asyncio.run(run())


def _unresolved(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime, timedelta

    from rich.console import Console

    from gateway.store import Store
    from gateway.unresolved_view import Unresolved, unresolved_table

    settings = load_settings(_environment(args))
    now = datetime.now(UTC)
    before = now - timedelta(minutes=args.older_than)

    async def run() -> Unresolved:
        store = await Store.open(settings.storage.database_url)
        try:
            return Unresolved(
                payments=await store.unresolved(before=before, limit=args.limit),
                refunds=await store.unresolved_refunds(before=before, limit=args.limit),
                cancels=await store.cancels_under_way(before=before, limit=args.limit),
            )
        finally:
            await store.close()

    found = asyncio.run(run())
    if not found:
        print(f"nothing has waited for its wallet longer than {args.older_than:g} minutes")
        return 0
    Console().print(unresolved_table(found, now))
    # 0: nothing waits; 1: something does (listed above), for monitoring to alert on.
    return 1


#: The chaos options whose defaults are ChaosOptions's (argparse leaves them None).
_CHAOS_TUNING = (
    "payments",
    "seed",
    "duration",
    "concurrency",
    "fault_rate",
    "kill_every",
    "redis_every",
    "settle_timeout",
)


def _chaos(args: argparse.Namespace) -> int:
    from rich.console import Console

    from gateway.chaos import ChaosOptions, audit_saved, run_chaos
    from gateway.chaos._summary import summary

    console = Console()
    if args.audit_only:
        audited = asyncio.run(audit_saved(Path(args.audit_only), args.database_url))
        console.print(summary(audited, {}))
        return 0 if audited.ok else 1
    env = _environment(args)
    given = {n: value for n in _CHAOS_TUNING if (value := getattr(args, n)) is not None}
    options = ChaosOptions(
        state_dir=Path(args.out) if args.out else env.state_dir / "chaos",
        postgres_url=args.database_url,
        redis_url=args.redis_url,
        keep=args.keep,
        **given,
    )
    report = asyncio.run(run_chaos(options, say=console.print))
    console.print(summary(report.audit, report.stats))
    # 0: every invariant held; 1: violations (listed above).
    return 0 if report.audit.ok else 1


def _connector_new(args: argparse.Namespace) -> int:
    from connectors.scaffold import write_connector_package

    try:
        root = write_connector_package(args.name, Path(args.dir))
    except (ValueError, FileExistsError) as exc:
        print(f"causeway: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {root}\n"
        f"next: write src/{args.name}_connector/ (the connector and its simulator), then\n"
        f"  cd {root} && pytest          # the conformance kit; fails until both are written\n"
        f"  pip install -e .             # registers kind {args.name!r} with Causeway"
    )
    return 0


def _openapi(args: argparse.Namespace) -> int:
    from gateway.openapi import openapi_json

    if args.out:
        Path(args.out).write_text(openapi_json())
    else:
        sys.stdout.write(openapi_json())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="causeway", description=__doc__)
    parser.add_argument("--config", help="configuration file (default config/causeway.toml)")
    parser.add_argument("--state-dir", help="state directory for keys and the embedded ledger")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the acquiring API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(run=_serve)
    commands.add_parser("demo", help="run the demo story on loopback").set_defaults(run=_demo)
    commands.add_parser("keys", help="create missing local key pairs").set_defaults(run=_keys)
    commands.add_parser(
        "simulate", help="run the configured wallets' simulators on their ports"
    ).set_defaults(run=_simulate)
    commands.add_parser("migrate", help="bring the ledger schema up to date").set_defaults(
        run=_migrate
    )
    settle = commands.add_parser(
        "settle", help="close (if open) and settle a day's clearing batch; write its files"
    )
    settle.add_argument("--date", required=True, help="the batch's day, YYYY-MM-DD")
    settle.add_argument("--out", help="where to write the files (default <state>/settlement)")
    settle.set_defaults(run=_settle)
    reconcile = commands.add_parser(
        "reconcile",
        help="match a participant's transaction file against the books (exit 1: differences)",
    )
    reconcile.add_argument("--participant", required=True)
    reconcile.add_argument("--file", required=True, help="a transactionItems-style CSV")
    reconcile.set_defaults(run=_reconcile)
    unresolved = commands.add_parser(
        "unresolved",
        help="payments, refunds and cancels still waiting for their wallet (exit 1: some)",
    )
    unresolved.add_argument(
        "--older-than", type=float, default=5.0, help="minutes since it last moved (default 5)"
    )
    unresolved.add_argument("--limit", type=int, default=100, help="at most this many of each")
    unresolved.set_defaults(run=_unresolved)
    chaos = commands.add_parser(
        "chaos",
        help="payments under faults and crashes, then an audit (exit 1: violations)",
        description="Options left out take the defaults of gateway.chaos.ChaosOptions.",
    )
    chaos.add_argument("--payments", type=int, help="how many payments to start")
    chaos.add_argument("--seed", type=int, help="seeds the scripts and the faults")
    chaos.add_argument("--duration", type=float, help="stop starting payments after S seconds")
    chaos.add_argument("--concurrency", type=int, help="payments played at once")
    chaos.add_argument("--fault-rate", type=float, help="share of wallet calls each fault hits")
    chaos.add_argument(
        "--kill-every", type=float, help="SIGKILL the gateway every S seconds (0: never)"
    )
    chaos.add_argument("--redis-every", type=float, help="restart Redis every S seconds (0: never)")
    chaos.add_argument(
        "--settle-timeout", type=float, help="seconds recovery gets to make everything final"
    )
    chaos.add_argument(
        "--database-url",
        help="a PostgreSQL database beside which the run makes its own (default: SQLite)",
    )
    chaos.add_argument(
        "--redis-url", help="use this Redis (not restarted); default with PostgreSQL: start one"
    )
    chaos.add_argument("--keep", action="store_true", help="keep the run's PostgreSQL database")
    chaos.add_argument("--out", help="the run's folder (default <state>/chaos)")
    chaos.add_argument(
        "--audit-only", metavar="EVIDENCE", help="audit a finished run's evidence.json again"
    )
    chaos.set_defaults(run=_chaos)
    connector = commands.add_parser("connector", help="write wallet connectors")
    connector_commands = connector.add_subparsers(dest="connector_command", required=True)
    new = connector_commands.add_parser(
        "new", help="write the skeleton of a connector package, with failing conformance tests"
    )
    new.add_argument("name", help="the connector's kind: lowercase letters, digits and '_'")
    new.add_argument("--dir", default=".", help="where to write causeway-connector-NAME/")
    new.set_defaults(run=_connector_new)
    openapi = commands.add_parser("openapi", help="print the acquiring API's OpenAPI document")
    openapi.add_argument("--out", help="write it to this file (docs/openapi.json) instead")
    openapi.set_defaults(run=_openapi)
    args = parser.parse_args(argv)
    # The demo prints its own story; the server logs each request.
    level = logging.INFO if args.command == "serve" else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        code: int = args.run(args)
    except CausewayError as exc:
        print(f"causeway: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
