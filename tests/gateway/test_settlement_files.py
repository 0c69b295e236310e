"""Settlement files: Alipay+ names, Summary and Detail sections, identical on re-runs and
on either backend.

The books' clock is held at noon of ``TODAY`` (UTC+8), so that every posting of a test
falls in ``TODAY``'s batch even when the test runs across midnight there (16:00 UTC).
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

import gateway.store
from gateway.clearing import ClearingTerms, close_batch
from gateway.schema import clearing_batches, payments, postings, refunds
from gateway.settlement import settle
from gateway.store import Store
from tests.conftest import Backend, sqlite_backend
from tests.gateway.conftest import settings_for
from tests.gateway.test_postings import pay, quote, refund_ok

pytestmark = pytest.mark.anyio

UTC8 = timezone(timedelta(hours=8))
TODAY = datetime.now(UTC8).date()
B = TODAY.strftime("%Y%m%d")
NOON = datetime.combine(TODAY, time(12), tzinfo=UTC8).astimezone(UTC)


@pytest.fixture(autouse=True)
def books_at_noon(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateway.store, "_now", lambda: NOON)


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


async def _copy_books(source: Store, url: str) -> None:
    """Every row settlement reads, copied into the database at ``url``."""
    target = await Store.open(url)
    try:
        async with source.engine.connect() as read, target.engine.begin() as write:
            for table in (payments, refunds, postings, clearing_batches):
                rows = [
                    {k: _utc(v) for k, v in row.items()}
                    for row in (await read.execute(table.select())).mappings()
                ]
                await write.execute(table.insert(), rows)
            await write.execute(
                sa.text("SELECT setval('postings_posting_id_seq', max(posting_id)) FROM postings")
            )
    finally:
        await target.close()


def _utc(value: object) -> object:
    # SQLite gives back the UTC instants it was given, without their zone.
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@pytest.mark.services
async def test_postgresql_writes_the_same_bytes_as_the_portable_queries(
    services_backend: Backend, state_dir: Path, tmp_path: Path
) -> None:
    sqlite = sqlite_backend(tmp_path)
    tomorrow = TODAY + timedelta(days=1)
    store = await Store.open(sqlite.database_url)
    try:
        paid = await pay(store, "p1", 125_000)
        await refund_ok(store, paid, "r1", 25_000)
        await pay(store, "p2", 50_000, wallet="TRUEMONEY", wallet_quote=quote("THB", "THB", "1"))
        settings = settings_for(sqlite, state_dir)
        await close_batch(store.engine, TODAY, ClearingTerms.from_config(settings.settlement))
        await pay(store, "p3", 70_000)  # inside today's window, closed: late, taken by tomorrow
        await pay(store, "p4", 30_000)
        async with store.engine.begin() as connection:  # tomorrow's, on time
            await connection.execute(
                postings.update()
                .where(postings.c.movement_id == "P-p4")
                .values(booked_at=NOON + timedelta(days=1), late=False)
            )
        await _copy_books(store, services_backend.database_url)
    finally:
        await store.close()

    for backend in (sqlite, services_backend):
        opened = await Store.open(backend.database_url)
        try:
            for day in (TODAY, tomorrow):
                await settle(
                    opened.engine, settings_for(backend, state_dir), day, tmp_path / backend.name
                )
        finally:
            await opened.close()

    def csvs(folder: Path) -> dict[str, bytes]:
        return {name: data for name, data in snapshot(folder).items() if name.endswith(".csv")}

    assert csvs(tmp_path / "postgres") == csvs(tmp_path / "sqlite")
    siam = tmp_path / "postgres" / "clearing" / "SIAM_ACQ" / tomorrow.strftime("%Y%m%d")
    name = f"SIAM_ACQ_THB_{tomorrow:%Y%m%d}_SIAM_ACQ-THB_000.csv"
    items = sections(siam / f"transactionItems_{name}")["Detail"][1:]
    fees = sections(siam / f"feeItems_{name}")["Detail"][1:]
    # The late item the batch took in first, then its own; each item's two fees in turn.
    assert [(r[0], r[-1]) for r in items] == [("P-p3", "Y"), ("P-p4", "N")]
    assert [(r[0], r[3]) for r in fees] == [
        ("P-p3", "INTERCHANGE"),
        ("P-p3", "SERVICE_FEE"),
        ("P-p4", "INTERCHANGE"),
        ("P-p4", "SERVICE_FEE"),
    ]
    today = sections(siam.parent / B / f"transactionItems_SIAM_ACQ_THB_{B}_SIAM_ACQ-THB_000.csv")
    assert [(r[0], r[2]) for r in today["Detail"][1:]] == [
        ("P-p1", "PAYMENT"),
        ("R-r1", "REFUND"),
        ("P-p2", "PAYMENT"),
    ]
