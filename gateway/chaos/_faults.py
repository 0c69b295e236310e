"""What the chaos run breaks: the wallets' random faults, the gateway and Redis (SIGKILL,
then a restart), and the merchant's notification endpoint (down for a while)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from gateway.chaos._stage import ChildProcess
from gateway.local import AcquirerInbox

if TYPE_CHECKING:
    from gateway.chaos import ChaosOptions

__all__ = ["every", "outage", "restart", "set_faults", "start"]

log = logging.getLogger("causeway.chaos")


async def set_faults(
    http: httpx.AsyncClient, url: str, options: ChaosOptions, *, seed: int, off: bool = False
) -> None:
    """Switch one wallet's random faults on (seeded) or ``off``."""
    rate = 0.0 if off else options.fault_rate
    faults = {
        "latency_seconds": 0.0 if off else options.latency_seconds,
        "reject_rate": rate,
        "error_rate": rate,
        "drop_rate": rate,
        "slow_rate": rate,
        # Past the hub's timeout: the hub gives up on an answer that is coming.
        "slow_seconds": options.timings.wallet_timeout_seconds + 1.0,
    }
    if not off:
        faults["seed"] = seed
    (await http.post(url + "/_sim/faults", json=faults)).raise_for_status()


async def every(period: float, rng: random.Random, act: Callable[[], Any]) -> None:
    """``act`` every ``period`` seconds, give or take half, until cancelled (0: never)."""
    if period <= 0:
        return
    while True:
        await asyncio.sleep(period * rng.uniform(0.5, 1.5))
        try:
            await act()
        except Exception:
            log.exception("a chaos action failed; going on")


async def restart(process: ChildProcess) -> None:
    await process.kill()
    await asyncio.sleep(0.5)
    await start(process)


async def start(process: ChildProcess, attempts: int = 5) -> None:
    """Start ``process``, trying again a few times: one failed start must not leave the
    rest of the run without a gateway."""
    for attempt in range(1, attempts + 1):
        try:
            await process.start()
            return
        except RuntimeError:
            if attempt == attempts:
                raise
            log.warning("%s did not start (attempt %d); trying again", process.name, attempt)
            await asyncio.sleep(1.0)


async def outage(inbox: AcquirerInbox) -> None:
    inbox.failing_with = 503
    await asyncio.sleep(2.0)
    inbox.failing_with = None
