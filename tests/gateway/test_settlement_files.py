"""Settlement files: Alipay+ names, Summary and Detail sections, identical on re-runs."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from gateway.settlement import settle
from gateway.store import Store
from tests.conftest import Backend
from tests.gateway.conftest import settings_for
from tests.gateway.test_postings import pay, quote, refund_ok

pytestmark = pytest.mark.anyio

TODAY = datetime.now(timezone(timedelta(hours=8))).date()
B = TODAY.strftime("%Y%m%d")


def sections(path: Path) -> dict[str, list[list[str]]]:
    found: dict[str, list[list[str]]] = {}
    current = ""
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.reader(handle):
            if row in (["Summary"], ["Detail"]):
                current = row[0]
                found[current] = []
            else:
                found[current].append(row)
    return found


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


async def test_files_are_named_sectioned_and_byte_identical_on_a_rerun(
    backend: Backend, state_dir: Path, tmp_path: Path
) -> None:
    settings = settings_for(backend, state_dir)
    store = await Store.open(backend.database_url)
    try:
        paid = await pay(store, "p1", 125_000)
        await refund_ok(store, paid, "r1", 25_000)
        await pay(store, "p2", 50_000, wallet="TRUEMONEY", wallet_quote=quote("THB", "THB", "1"))
        first = await settle(store.engine, settings, TODAY, tmp_path / "one")
        again = await settle(store.engine, settings, TODAY, tmp_path / "two")
    finally:
        await store.close()

    assert (first.closed_now, again.closed_now) == (True, False)
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")
    siam = tmp_path / "one" / "clearing" / "SIAM_ACQ" / B
    items = sections(siam / f"transactionItems_SIAM_ACQ_THB_{B}_SIAM_ACQ-THB_000.csv")
    assert items["Summary"][1][:5] == ["SIAM_ACQ", "THB", B, "SIAM_ACQ-THB", "3"]
    header, *rows = items["Detail"]
    got = {(r[header.index("transactionType")], r[header.index("settlementAmount")]) for r in rows}
    assert got == {("PAYMENT", "125000"), ("REFUND", "-25000"), ("PAYMENT", "50000")}
    fees = sections(siam / f"feeItems_SIAM_ACQ_THB_{B}_SIAM_ACQ-THB_000.csv")
    assert len(fees["Detail"]) == 1 + 3 * 2  # interchange and service fee per item
    # GCash had no transaction: its files exist, with a header and no rows.
    gcash = sections(
        tmp_path
        / "one"
        / "clearing"
        / "GCASH"
        / B
        / f"transactionItems_GCASH_PHP_{B}_GCASH-PHP_000.csv"
    )
    assert gcash["Summary"][1][4] == "0"
    assert len(gcash["Detail"]) == 1
    # Siam Acquiring and TrueMoney are one company: one THB transfer for both.
    group = sections(
        tmp_path
        / "one"
        / "settlement"
        / "SIAM_GROUP"
        / B
        / f"settlement_SIAM_GROUP_THB_{B}_SIAM_GROUP-THB_000.csv"
    )
    assert {r[0] for r in group["Detail"][1:]} == {"SIAM_ACQ", "TRUEMONEY"}
    summary = json.loads((tmp_path / "one" / f"summary_{B}.json").read_text())
    assert summary["imbalance"] == {}
    nets: dict[str, int] = {}
    for p in summary["positions"]:
        nets[p["currency"]] = nets.get(p["currency"], 0) + p["net"]
    for h in summary["hub"]:
        nets[h["currency"]] += h["fx"] + h["fees"]
    assert set(nets.values()) == {0}
