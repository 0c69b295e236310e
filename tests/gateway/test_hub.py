"""Stopping the hub: the background pass under way finishes; one that hangs is cancelled."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path

import pytest

from gateway import hub as hub_module
from gateway.hub import Hub
from gateway.recovery import Recovery
from tests.conftest import sqlite_backend
from tests.gateway.conftest import local_hub

pytestmark = pytest.mark.anyio


async def test_a_sweep_under_way_finishes_before_the_hub_stops(
    monkeypatch: pytest.MonkeyPatch, state_dir: Path, tmp_path: Path
) -> None:
    hubs: list[Hub] = []
    known, finished = asyncio.Event(), []

    async def slow_sweep(self: Recovery, now: datetime | None = None) -> int:
        await known.wait()
        await hubs[0].stopping.wait()  # still at work when the hub is told to stop
        await asyncio.sleep(0.05)
        finished.append(True)
        return 0

    monkeypatch.setattr(Recovery, "sweep", slow_sweep)
    async with local_hub(sqlite_backend(tmp_path), state_dir) as running:
        hubs.append(running.app_hub)
        known.set()
    assert finished == [True]  # not cancelled halfway, and not started again once stopping


async def test_a_pass_that_hangs_is_cancelled_after_the_grace(
    monkeypatch: pytest.MonkeyPatch,
    state_dir: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    started, cancelled = asyncio.Event(), []

    async def hung_sweep(self: Recovery, now: datetime | None = None) -> int:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return 0

    monkeypatch.setattr(Recovery, "sweep", hung_sweep)
    monkeypatch.setattr(hub_module, "STOP_GRACE_SECONDS", 0.2)
    async with local_hub(sqlite_backend(tmp_path), state_dir):
        await asyncio.wait_for(started.wait(), 5)
    assert cancelled == [True]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "recovery still running after 0 s; cancelled" in warnings
