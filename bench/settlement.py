"""Settlement at scale: clear, net and write the files of a batch of N transactions.

    .venv/bin/python -m bench.settlement --transactions 1000000

Makes a database of its own on the PostgreSQL at ``--postgres`` (dropped at the end),
writes a synthetic ledger straight into it with ``INSERT … SELECT generate_series`` (N
succeeded payments across the configured acquirers and wallets, four postings each,
spread over one clearing day), then times ``causeway settle``'s work — close the batch
and book its fees, net it, write every file — with a progress display and a result line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import date
from pathlib import Path

import asyncpg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gateway.clearing import window
from gateway.config import Environment, Settings, load_settings, zone_of
from gateway.local import create_database, drop_database, ensure_local_keys, libpq_url
from gateway.settlement import settle
from gateway.store import Store

DAY = date(2026, 11, 20)
CONFIG = Path(__file__).parents[1] / "config" / "causeway.toml"


def _settings(state: Path, url: str) -> Settings:
    ensure_local_keys(
        state,
        ["SIAM_ACQ", "TOKYO_ACQ"],
        ["GCASH", "KAKAOPAY", "TRUEMONEY", "TNG", "ALIPAYHK", "DANA"],
    )
    return load_settings(Environment(config=CONFIG, state_dir=state, database_url=url))


def _ledger_sql(settings: Settings) -> list[str]:
    acquirers = settings.acquirers
    wallets = settings.wallets
    acq_ids = ",".join(f"'{a.client_id}'" for a in acquirers)
    acq_ccys = ",".join(f"'{a.settlement_currency}'" for a in acquirers)
    wal_ids = ",".join(f"'{w.psp_id}'" for w in wallets)
    wal_ccys = ",".join(f"'{w.currency}'" for w in wallets)
    start, _ = window(DAY, zone_of(settings.settlement.zone))
    # Amounts are arbitrary but exact integers; the transaction currency is the acquirer's.
    # The ids interpolated come from our own configuration, not from input.
    payments = f"""
    INSERT INTO payments (payment_id, acquirer_id, payment_request_id, fingerprint, status,
        result_code, result_message, wallet, route, wallet_request_id, payment_code_masked,
        currency, amount, pay_to_currency, pay_to_amount, settlement_currency,
        settlement_amount, payment_quote, settlement_quote, merchant, reference_order_id,
        order_description, created_at, updated_at, completed_at)
    SELECT 'P' || i, (ARRAY[{acq_ids}])[1 + i % {len(acquirers)}], 'REQ' || i, 'f',
        'SUCCEEDED', 'SUCCESS', 'Success.', (ARRAY[{wal_ids}])[1 + i % {len(wallets)}], 'bench',
        'W' || i, '••••', (ARRAY[{acq_ccys}])[1 + i % {len(acquirers)}], 100 + (i * 7919) % 500000,
        (ARRAY[{wal_ccys}])[1 + i % {len(wallets)}], (100 + (i * 7919) % 500000) * 3 / 2,
        (ARRAY[{acq_ccys}])[1 + i % {len(acquirers)}], 100 + (i * 7919) % 500000,
        '{{}}', '{{}}', '{{}}', 'O' || i, 'bench',
        t, t, t
    FROM (SELECT i, TIMESTAMPTZ '{start.isoformat()}' + (i % 86400) * INTERVAL '1 second' AS t
          FROM generate_series(1, $1::bigint) AS i) AS s
    """  # noqa: S608
    postings = """
    INSERT INTO postings (movement, movement_id, entry, payment_id, refund_id, role,
        participant, account, counterparty, currency, amount, request_id, transaction_currency,
        transaction_amount, booked_at, batch_id, late)
    SELECT 'PAYMENT', p.payment_id, 'PRINCIPAL', p.payment_id, NULL,
        CASE k WHEN 1 THEN 'wallet' WHEN 3 THEN 'acquirer' ELSE 'hub' END,
        CASE k WHEN 1 THEN p.wallet WHEN 3 THEN p.acquirer_id ELSE 'HUB' END,
        CASE k WHEN 1 THEN 'settlement' WHEN 3 THEN 'settlement' ELSE 'fx' END,
        CASE k WHEN 1 THEN p.acquirer_id WHEN 3 THEN p.wallet END,
        CASE WHEN k <= 2 THEN p.pay_to_currency ELSE p.settlement_currency END,
        CASE k WHEN 1 THEN -p.pay_to_amount WHEN 2 THEN p.pay_to_amount
               WHEN 3 THEN p.settlement_amount ELSE -p.settlement_amount END,
        CASE k WHEN 1 THEN p.wallet_request_id WHEN 3 THEN p.payment_request_id END,
        CASE WHEN k IN (1, 3) THEN p.currency END,
        CASE WHEN k IN (1, 3) THEN p.amount END,
        p.completed_at, NULL, false
    FROM payments AS p CROSS JOIN generate_series(1, 4) AS k
    ORDER BY p.completed_at, p.payment_id, k
    """
    return [payments, postings, "ANALYZE payments", "ANALYZE postings"]


async def run(postgres: str, transactions: int, console: Console) -> None:
    name = f"causeway_bench_{os.getpid()}"
    url = await create_database(postgres, name)
    try:
        with tempfile.TemporaryDirectory() as folder:
            settings = _settings(Path(folder) / "state", url)
            store = await Store.open(url)
            try:
                started = time.perf_counter()
                with console.status(f"writing a synthetic ledger of {transactions:,} payments"):
                    connection = await asyncpg.connect(libpq_url(url))
                    try:
                        for statement in _ledger_sql(settings):
                            if "$1" in statement:
                                await connection.execute(statement, transactions)
                            else:
                                await connection.execute(statement)
                    finally:
                        await connection.close()
                console.print(f"ledger written in {time.perf_counter() - started:.1f} s")
                marks: dict[str, float] = {}
                with Progress(
                    TextColumn("{task.description:<10}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=console,
                ) as progress:
                    task = progress.add_task("clearing", total=None)

                    def step(phase: str) -> None:
                        marks[phase] = time.perf_counter()
                        files = 2 * (len(settings.acquirers) + len(settings.wallets)) + 8
                        progress.update(
                            task, description=phase, total=files if phase == "files" else None
                        )

                    outcome = await settle(
                        store.engine,
                        settings,
                        DAY,
                        Path(folder) / "out",
                        step=step,
                        on_file=lambda _: progress.advance(task),
                    )
                    marks["end"] = time.perf_counter()
                size = sum(p.stat().st_size for p in outcome.files)
            finally:
                await store.close()
        clearing = marks["netting"] - marks["clearing"]
        netting = marks["files"] - marks["netting"]
        files = marks["end"] - marks["files"]
        total = marks["end"] - marks["clearing"]
        items = sum(p.items for p in outcome.settlement.positions)
        # The machine may be shared: the load says how much of it the run had.
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        console.print(
            f"RESULT transactions={transactions:,} items={items:,} clearing={clearing:.2f}s "
            f"netting={netting:.2f}s files={files:.2f}s ({len(outcome.files)} files, "
            f"{size / 1e6:.0f} MB) total={total:.2f}s imbalance={outcome.settlement.imbalance()} "
            f"load={load}",
            soft_wrap=True,
        )
    finally:
        await drop_database(postgres, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    asyncio.run(run(args.postgres, args.transactions, Console()))


if __name__ == "__main__":
    main()
