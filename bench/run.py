"""``python -m bench.run``: the whole benchmark in one command.

It builds a stage (keys, a configuration, a fresh PostgreSQL database, a Redis prefix),
starts the wallet simulator, the gateway, the floor and the guarded floor under uvicorn in
their own processes, then runs each phase with a fresh load-generator process: a warm-up, a
closed loop to saturation, then an open loop at each rate (the guarded floor: the closed
loop only). It prints the table, writes the JSON,
and always tears everything down (processes, database, Redis keys, state directory).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import selectors
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import asyncpg
import httpx
import psutil
from redis import Redis

from bench import report as reports
from bench import stage as stages
from bench.floor import FLOOR_TABLE
from bench.load import Plan
from bench.procs import Finder, Groups, by_name, by_tree
from bench.stats import rss_growth
from gateway.local import create_database, drop_database
from gateway.store import Store

__all__ = ["main"]

PYTHON = sys.executable
#: Payments signed per phase beyond what the rate needs: a closed loop stops when it
#: runs out, and the report says so.
CLOSED_LOOP_CEILING = 2500  # payments/s; far above what two cores can do
START_TIMEOUT = 60.0  # seconds for a server to answer after it is started


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short run (about 40 s)")
    parser.add_argument("--duration", type=float, default=60, help="seconds per open-loop phase")
    parser.add_argument("--closed-duration", type=float, default=20, help="0 skips it")
    parser.add_argument("--rates", default="700,1000", help="open-loop rates, comma-separated")
    parser.add_argument("--concurrency", type=int, default=64, help="closed-loop clients")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers each")
    parser.add_argument(
        "--targets",
        default="floor,guarded,gateway",
        help="of floor, guarded (closed loop only: it is there for its ratio), gateway",
    )
    parser.add_argument("--floor-client", choices=["aiohttp", "httpx"], default="aiohttp")
    parser.add_argument("--json", type=Path, help="write the report here")
    parser.add_argument("--markdown", type=Path, help="rewrite this file's bench section")
    parser.add_argument("--py-spy", type=Path, help="record the gateway's closed loop here")
    parser.add_argument("--admin-dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--keep", action="store_true", help="keep the state directory (the servers' logs)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.closed_duration, args.rates = 8.0, 6.0, "300"
    return args


# -- the stage ----------------------------------------------------------------------------


async def _create_database(stage: stages.Stage) -> None:
    url = await create_database(stage.admin_dsn, stage.database, connect_timeout=5)
    # Migrated here, before the clock starts, not by the workers at their start-up.
    store = await Store.open(url)
    await store.close()
    floor = await asyncpg.connect(stage.dsn, timeout=5)
    try:
        await floor.execute(FLOOR_TABLE)
    finally:
        await floor.close()


def _clear_redis(stage: stages.Stage) -> None:
    redis = Redis.from_url(stage.redis_url)
    try:
        batch: list[bytes] = []
        for key in redis.scan_iter(match=stage.redis_prefix + "*", count=1000):
            batch.append(key)
            if len(batch) == 1000:
                redis.delete(*batch)
                batch.clear()
        if batch:
            redis.delete(*batch)
    finally:
        redis.close()


@contextmanager
def _server(
    name: str, app: str, port: int, workers: int, env: dict[str, str], logs: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``app`` (a factory) under uvicorn on 127.0.0.1:``port`` until the block ends."""
    command = [
        PYTHON, "-m", "uvicorn", "--factory", app,
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    with (logs / f"{name}.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def _wait_until_up(name: str, url: str, process: subprocess.Popen[bytes], logs: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited; see {logs / (name + '.log')}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not answer within {START_TIMEOUT:.0f} s")


# -- one phase ----------------------------------------------------------------------------


def _read_line(stream: IO[str], timeout: float) -> str:
    selector = selectors.DefaultSelector()
    selector.register(stream, selectors.EVENT_READ)
    try:
        if not selector.select(timeout):
            raise TimeoutError(f"no word from the load generator in {timeout:.0f} s")
        return stream.readline().strip()
    finally:
        selector.close()


def _phase(
    plan: Plan, finders: dict[str, Finder], env: dict[str, str], work: Path, spy: Path | None
) -> dict[str, Any]:
    plan_file = work / f"{plan.prefix}plan.json"
    out_file = work / f"{plan.prefix}result.json"
    plan_file.write_text(json.dumps(asdict(plan)))
    command = [PYTHON, "-m", "bench.load", str(plan_file), str(out_file)]
    load = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)  # noqa: S603
    assert load.stdout is not None
    groups = Groups({**finders, "load": by_tree(load.pid)})
    timeline: dict[str, list[tuple[float, float]]] = {}
    with ExitStack() as stack:
        # Signing takes about 0.3 ms a payment per core.
        if _read_line(load.stdout, 60 + plan.count / 1000) != "START":
            raise RuntimeError("the load generator did not start")
        before, began = groups.snapshot(), time.monotonic()
        if spy is not None:
            stack.enter_context(_py_spy(spy, plan, env))
        selector = selectors.DefaultSelector()
        stack.callback(selector.close)
        selector.register(load.stdout, selectors.EVENT_READ)
        deadline = began + plan.duration + plan.timeout + 30
        while time.monotonic() < deadline:
            sample = groups.snapshot()
            for group, rss in sample.rss.items():
                timeline.setdefault(group, []).append((time.monotonic() - began, rss / 2**20))
            if selector.select(1.0) and load.stdout.readline().strip() == "END":
                break
        after, ended = groups.snapshot(), time.monotonic()
    if load.wait(timeout=30) != 0:
        raise RuntimeError(f"the load generator failed on {plan.target} {plan.mode}")
    result: dict[str, Any] = json.loads(out_file.read_text())
    del result["plan"]
    return {
        **{k: v for k, v in asdict(plan).items() if k not in ("url", "count", "prefix")},
        **result,
        "usage": {g: u.to_json() for g, u in Groups.usage(before, after, ended - began).items()},
        "rss_growth": {g: rss_growth(samples) for g, samples in timeline.items()},
        "rss_mb_timeline": {g: [round(mb, 1) for _, mb in s] for g, s in timeline.items()},
    }


@contextmanager
def _py_spy(folder: Path, plan: Plan, env: dict[str, str]) -> Iterator[None]:
    """Sample the gateway's workers while the phase runs (py-spy must be installed)."""
    folder.mkdir(parents=True, exist_ok=True)
    pid = env["CAUSEWAY_BENCH_GATEWAY_PID"]
    out = folder / f"{plan.target}-{plan.mode}.txt"
    command = [
        shutil.which("py-spy") or str(Path(PYTHON).parent / "py-spy"),
        "record", "--pid", pid, "--subprocesses", "--format", "raw",
        "--duration", str(int(plan.duration)), "--rate", "200", "--output", str(out),
    ]  # fmt: skip
    # Our own argv, no shell.
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        yield
    finally:
        spy.wait(timeout=plan.duration + 30)


# -- the run ------------------------------------------------------------------------------


def _machine(stage: stages.Stage) -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    with Path("/proc/cpuinfo").open() as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break

    async def postgres() -> str:
        connection = await asyncpg.connect(stage.admin_dsn, timeout=5)
        try:
            return str(await connection.fetchval("SHOW server_version"))
        finally:
            await connection.close()

    redis = Redis.from_url(stage.redis_url)
    try:
        redis_version = str(redis.info("server")["redis_version"])
    finally:
        redis.close()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": psutil.virtual_memory().total / 2**30,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgres": asyncio.run(postgres()),
        "redis": redis_version,
    }


def _plans(args: argparse.Namespace, stage: stages.Stage) -> Iterator[Plan]:
    urls = {
        "gateway": stage.url(stage.gateway_port),
        "floor": stage.url(stage.floor_port),
        "guarded": stage.url(stage.guarded_port),
    }
    index = 0

    def plan(target: str, mode: str, rate: float, duration: float) -> Plan:
        nonlocal index
        index += 1
        count = int((CLOSED_LOOP_CEILING if mode == "closed" else rate) * duration) + 1
        concurrency = args.concurrency if mode == "closed" else 1024
        prefix = f"B{stage.run_id}{index:02d}"
        return Plan(target, urls[target], mode, rate, concurrency, duration, count, prefix)

    for target in args.targets.split(","):
        yield plan(target, "warm-up", 0.0, 3.0 if args.quick else 5.0)
        if args.closed_duration > 0:
            yield plan(target, "closed", 0.0, args.closed_duration)
        if target == "guarded":
            continue  # what the gateway's guarantees leave of the floor: one ratio
        for rate in (float(r) for r in args.rates.split(",") if r):
            yield plan(target, "open", rate, args.duration)


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # so that the teardown below runs


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    signal.signal(signal.SIGTERM, _stop)
    run_id = secrets.token_hex(3)
    work = Path(tempfile.mkdtemp(prefix=f"causeway-bench-{run_id}-"))
    stage = stages.build(
        work,
        run_id=run_id,
        admin_dsn=args.admin_dsn,
        redis_url=args.redis_url,
        floor_client=args.floor_client,
    )
    env = {
        **os.environ,
        **stage.gateway_environment(),
        stages.STAGE_ENV: str(stage.save()),
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    started = datetime.now(UTC)
    load_at_start = os.getloadavg()
    phases: list[dict[str, Any]] = []
    targets = args.targets.split(",")
    print(f"bench {run_id}: state in {work}, database {stage.database}", flush=True)
    with ExitStack() as stack:
        if args.keep:
            stack.callback(print, f"bench {run_id}: logs and state kept in {work}", flush=True)
        else:
            stack.callback(shutil.rmtree, work, ignore_errors=True)
        asyncio.run(_create_database(stage))
        stack.callback(
            lambda: asyncio.run(drop_database(stage.admin_dsn, stage.database, connect_timeout=5))
        )
        stack.callback(_clear_redis, stage)
        wallet = stack.enter_context(
            _server("wallet", "bench.wallet:app", stage.wallet_port, 1, env, work)
        )
        finders = {"wallet": by_tree(wallet.pid)}
        processes = {"wallet": wallet}
        servers = {
            "gateway": ("gateway.asgi:app", stage.gateway_port, "/health"),
            "floor": ("bench.floor:app", stage.floor_port, "/"),
            "guarded": ("bench.floor:guarded_app", stage.guarded_port, "/"),
        }
        for target in targets:
            app, port, probe = servers[target]
            process = stack.enter_context(_server(target, app, port, args.workers, env, work))
            finders[target] = by_tree(process.pid)
            processes[target] = process
            env[f"CAUSEWAY_BENCH_{target.upper()}_PID"] = str(process.pid)
        _wait_until_up("wallet", stage.url(stage.wallet_port) + "/_sim/stats", wallet, work)
        for target in targets:
            app, port, probe = servers[target]
            _wait_until_up(target, stage.url(port) + probe, processes[target], work)
        finders["postgres"] = by_name("postgres")
        finders["redis"] = by_name("redis-server")
        machine = _machine(stage)
        for plan in _plans(args, stage):
            spy = args.py_spy if plan.target == "gateway" and plan.mode == "closed" else None
            measured = _phase(plan, finders, env, work, spy)
            if plan.mode == "warm-up":
                continue
            phases.append(measured)
            print(reports.table({"phases": [measured]}).splitlines()[-1], flush=True)
            time.sleep(1.0)  # let the servers drain before the next phase
    report: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "command": "python -m bench.run " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "machine": machine,
        "config": {
            "workers": args.workers,
            "concurrency": args.concurrency,
            "floor_client": args.floor_client,
        },
        "phases": phases,
        "floor_ratio": reports.floor_ratio({"phases": phases}),
        # Other work on the machine takes CPU from every process measured: say how much.
        "load_average": {"start": load_at_start, "end": os.getloadavg()},
    }
    report["checks"] = [
        {"target": name, "measured": measured, "met": met}
        for name, measured, met in reports.checks(report)
    ]
    print()
    print(reports.markdown(report))
    if args.json:
        args.json.write_text(reports.to_json(report))
    if args.markdown:
        args.markdown.write_text(
            reports.replace_section(args.markdown.read_text(), reports.markdown(report))
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
