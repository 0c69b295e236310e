"""``causeway unresolved``: what still waits for its wallet, and an exit code to alert on."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.results import ResultCode
from gateway.states import PaymentStatus
from gateway.store import PaymentUpdate, Store
from tests.conftest import Backend
from tests.gateway.conftest import CONFIG
from tests.gateway.test_postings import pay, payment, refund


async def _ledger(url: str) -> None:
    store = await Store.open(url)
    try:
        await pay(store, "settled")
        waiting = payment("waiting")
        await store.create_payment(waiting)
        await store.transition_payment(
            waiting, PaymentStatus.UNKNOWN, PaymentUpdate(ResultCode.PAYMENT_IN_PROCESS, "?")
        )
        paid = await pay(store, "refunded")
        await store.create_refund(refund(paid, "refund-waiting", 100), paid)
    finally:
        await store.close()


def test_it_lists_what_waits_and_exits_1_until_nothing_does(
    backend: Backend,
    state_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CAUSEWAY_DATABASE_URL", backend.database_url)
    monkeypatch.setenv("COLUMNS", "200")
    asyncio.run(_ledger(backend.database_url))
    base = ["--config", str(CONFIG), "--state-dir", str(state_dir), "unresolved"]

    assert main([*base, "--older-than", "0"]) == 1
    listed = capsys.readouterr().out
    rows = {line.split("│")[2].strip(): line for line in listed.splitlines() if "│" in line}
    assert "UNKNOWN" in rows["P-waiting"]
    assert "PENDING" in rows["R-refund-waiting"]
    assert "P-settled" not in listed  # succeeded: nothing to wait for

    assert main([*base, "--older-than", "60"]) == 0  # all of it is younger than an hour
    assert "nothing has waited" in capsys.readouterr().out
