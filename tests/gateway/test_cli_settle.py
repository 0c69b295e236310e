"""``causeway settle`` and ``causeway reconcile`` from the command line."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.store import Store
from tests.conftest import Backend
from tests.gateway.conftest import CONFIG
from tests.gateway.test_postings import pay

TODAY = datetime.now(timezone(timedelta(hours=8))).date()
B = TODAY.strftime("%Y%m%d")


async def _ledger(url: str) -> None:
    store = await Store.open(url)
    try:
        await pay(store, "p1", 125_000)
    finally:
        await store.close()


def test_settle_prints_positions_and_reconcile_exits_by_differences(
    backend: Backend,
    state_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CAUSEWAY_DATABASE_URL", backend.database_url)
    monkeypatch.setenv("COLUMNS", "200")
    asyncio.run(_ledger(backend.database_url))
    base = ["--config", str(CONFIG), "--state-dir", str(state_dir)]
    out = tmp_path / "files"

    assert main([*base, "settle", "--date", TODAY.isoformat(), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "SIAM_GROUP (SIAM_ACQ)" in printed  # the company, with its members that traded
    # 1,250.00 less KakaoPay's 60 bps interchange (7.50) and Siam's 25 bps service fee (3.13).
    assert "1,239.37" in printed
    assert "every currency sums to zero" in printed
    assert "closed now" in printed

    assert main([*base, "settle", "--date", TODAY.isoformat(), "--out", str(out)]) == 0
    assert "closed before" in capsys.readouterr().out

    ours = (
        out
        / "clearing"
        / "SIAM_ACQ"
        / B
        / f"transactionItems_SIAM_ACQ_THB_{B}_SIAM_ACQ-THB_000.csv"
    )
    assert main([*base, "reconcile", "--participant", "SIAM_ACQ", "--file", str(ours)]) == 0
    theirs = tmp_path / "theirs.csv"
    theirs.write_text(ours.read_text().replace(",125000,", ",125001,"))
    assert main([*base, "reconcile", "--participant", "SIAM_ACQ", "--file", str(theirs)]) == 1
    assert "amount_mismatch" in capsys.readouterr().out
    assert main([*base, "reconcile", "--participant", "KAKAOPAY", "--file", str(ours)]) == 2
