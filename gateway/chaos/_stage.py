"""The chaos run's stage: the gateway's configuration and the processes it kills.

The gateway and Redis run as child processes so they can be SIGKILLed and started again;
the wallets (``_wallets``) and the merchant's inbox run in the driver's own event loop, so
their books outlive every crash.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import httpx
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.chaos._wallets import SPREAD_BPS, WALLETS, route_settings
from gateway.recovery import RecoveryPolicy

__all__ = [
    "ACQUIRER",
    "ChildProcess",
    "HubTimings",
    "gateway_process",
    "gateway_url",
    "redis_process",
    "write_config",
]

ACQUIRER = "SIAM_ACQ"  # settles in THB


@dataclass(frozen=True, slots=True)
class HubTimings:
    """The hub's clocks, shortened so that a run settles in seconds, not minutes."""

    wallet_timeout_seconds: float = 2.0
    lock_ttl_seconds: float = 10.0  # must exceed 2 × the wallet timeout + 5 s
    lock_wait_seconds: float = 5.0
    recovery_deadline_seconds: int = 20
    #: The simulators act on a request as it comes: nothing arrives late by much.
    late_arrival_seconds: float = 10.0
    order_ttl_seconds: int = 10
    notification_poll_seconds: float = 0.25
    notification_lease_seconds: float = 5.0  # must exceed the wallet timeout
    notification_schedule: tuple[float, ...] = (0, 0.5, 1, 1, 2, 2, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5)

    @property
    def turn_seconds(self) -> float:
        """One turn of recovery: within it, it asks about every open payment and sends
        every open refund again (its early period, its one-second loop, and a second for
        the answer, which may come by callback)."""
        return RecoveryPolicy().early_every.total_seconds() + 2.0

    @property
    def still_seconds(self) -> float:
        """How long an open payment or refund can stand still and yet be finished by
        recovery: the longest clock that holds one from its last change (a send that may
        still arrive, an order the traveller may still pay), then one turn. A lock that
        a killed gateway left holds one too, from that gateway's death: ``lock_ttl_seconds``
        after the gateway last started, where the locks outlive it (in Redis)."""
        held = max(self.late_arrival_seconds, self.order_ttl_seconds)
        return held + self.turn_seconds


def gateway_url(port: int) -> str:
    """Where the gateway serves when it listens on ``port``."""
    return f"http://127.0.0.1:{port}"


def write_config(
    run_dir: Path,
    wallet_urls: Mapping[str, str],
    redis_prefix: str,
    timings: HubTimings,
    *,
    rates: Path,
    port: int,
) -> Path:
    """The gateway's configuration file (in ``run_dir``), routing to each of ``WALLETS``
    at ``wallet_urls`` (by psp id), quoting from ``rates``, for a gateway on ``port``
    (where the wallets that call back reach it). The RSA keys it names are the state
    directory's (``gateway.local.ensure_local_keys`` makes them); the other wallets'
    credentials are the run's (``run_dir/secrets``)."""
    t = timings
    schedule = ", ".join(str(s) for s in t.notification_schedule)
    text = f"""\
[hub]
private_key_file = "{{state}}/keys/hub.pem"
request_time_skew_seconds = 3600
wallet_timeout_seconds = {t.wallet_timeout_seconds}
lock_ttl_seconds = {t.lock_ttl_seconds}
lock_wait_seconds = {t.lock_wait_seconds}
recovery_deadline_seconds = {t.recovery_deadline_seconds}
late_arrival_seconds = {t.late_arrival_seconds}
order_ttl_seconds = {t.order_ttl_seconds}

[notifications]
poll_seconds = {t.notification_poll_seconds}
schedule_seconds = [{schedule}]
lease_seconds = {t.notification_lease_seconds}

[storage]
database_url = "set by CAUSEWAY_DATABASE_URL"
redis_prefix = "{redis_prefix}"

[fx]
rates_file = "{rates}"
default_spread_bps = {SPREAD_BPS}

[[acquirers]]
client_id = "{ACQUIRER}"
name = "Chaos Acquiring"
public_key_file = "{{state}}/keys/acquirer-{ACQUIRER}.pub.pem"
settlement_currency = "THB"
region = "TH"
"""
    for wallet in WALLETS:
        text += f"""
[[wallets]]
psp_id = "{wallet.psp_id}"
name = "{wallet.psp_id.title()}"
currency = "{wallet.currency}"
region = "{wallet.region}"
method_types = ["{wallet.psp_id}"]
code_prefixes = ["{wallet.prefix}"]

[[routes]]
name = "{wallet.route}"
wallet = "{wallet.psp_id}"
kind = "{wallet.kind}"
[routes.settings]
"""
        text += route_settings(wallet, run_dir, wallet_urls[wallet.psp_id], gateway_url(port))
    path = run_dir / "causeway.toml"
    path.write_text(text)
    return path


class ChildProcess:
    """A child process the run starts, SIGKILLs and starts again, logging to one file."""

    def __init__(self, name: str, command: list[str], env: Mapping[str, str], log: Path) -> None:
        self.name = name
        self._command = command
        self._env = dict(env)
        self._log_path = log
        self._log: IO[bytes] | None = None
        self._process: asyncio.subprocess.Process | None = None
        self.kills = 0
        #: When it last became ready (``None``: never).
        self.started_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def start(self, *, within: float = 30.0) -> None:
        if self._log is None:
            self._log = self._log_path.open("ab")
        self._process = await asyncio.create_subprocess_exec(
            *self._command, env=self._env, stdout=self._log, stderr=self._log
        )
        try:
            await self._wait_ready(within)
        except BaseException:
            # Never leave a half-started process behind.
            if self._process.returncode is None:
                self._process.kill()
                await self._process.wait()
            raise
        self.started_at = datetime.now(UTC)

    async def _wait_ready(self, within: float) -> None:
        raise NotImplementedError

    async def kill(self) -> None:
        """SIGKILL: no clean-up, no last words, as a crash or the OOM killer."""
        if self._process is not None and self._process.returncode is None:
            self._process.send_signal(signal.SIGKILL)
            await self._process.wait()
            self.kills += 1

    async def stop(self) -> None:
        """SIGTERM, and SIGKILL if it has not stopped within 10 s."""
        process = self._process
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def _check_alive(self) -> None:
        if self._process is not None and self._process.returncode is not None:
            raise RuntimeError(
                f"{self.name} exited with {self._process.returncode} while starting; "
                f"see {self._log_path}"
            )


class _Gateway(ChildProcess):
    def __init__(self, env: Mapping[str, str], port: int, log: Path) -> None:
        command = [sys.executable, "-m", "uvicorn", "--factory", "gateway.asgi:app"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        super().__init__("the gateway", command, env, log)
        self.url = gateway_url(port)

    async def _wait_ready(self, within: float) -> None:
        async with httpx.AsyncClient(timeout=1) as http:
            for _ in range(int(within / 0.1)):
                self._check_alive()
                with suppress(httpx.TransportError):
                    if (await http.get(self.url + "/health")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"the gateway did not start within {within} s; see {self._log_path}")


def gateway_process(
    config: Path, state_dir: Path, database_url: str, redis_url: str | None, port: int
) -> _Gateway:
    """The gateway on ``port``, logging beside its configuration."""
    env = {
        **os.environ,
        "CAUSEWAY_CONFIG": str(config),
        "CAUSEWAY_STATE_DIR": str(state_dir),
        "CAUSEWAY_DATABASE_URL": database_url,
        "CAUSEWAY_REDIS_URL": redis_url or "",
    }
    return _Gateway(env, port, config.parent / "gateway.log")


class _Redis(ChildProcess):
    def __init__(self, port: int, log: Path) -> None:
        # Nothing persisted: a restart loses every key, the worst case for the locks.
        command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no"]
        super().__init__("redis-server", command, os.environ, log)
        self.url = f"redis://127.0.0.1:{port}/0"

    async def _wait_ready(self, within: float) -> None:
        for _ in range(int(within / 0.1)):
            self._check_alive()
            redis = Redis.from_url(self.url, socket_connect_timeout=0.5)
            try:
                await redis.ping()
                return
            except (OSError, RedisError):
                await asyncio.sleep(0.1)
            finally:
                await redis.aclose()
        raise RuntimeError(f"redis-server did not start within {within} s")


def redis_process(port: int, run_dir: Path) -> _Redis:
    return _Redis(port, run_dir / "redis.log")
