"""Reconciliation: a participant's own file against the books, difference by kind."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from gateway.clearing import find_batch
from gateway.models import Payment
from gateway.reconcile import DifferenceKind, read_items, reconcile
from gateway.results import ResultCode
from gateway.settlement import settle
from gateway.states import PaymentStatus
from gateway.store import PaymentUpdate, Store
from tests.conftest import Backend
from tests.gateway.conftest import settings_for
from tests.gateway.test_postings import pay, payment

pytestmark = pytest.mark.anyio

TODAY = datetime.now(timezone(timedelta(hours=8))).date()
B = TODAY.strftime("%Y%m%d")


def edit(
    source: Path, target: Path, change: dict[str, dict[str, str] | None], add: list[dict[str, str]]
) -> None:
    """Copy a transactionItems file, changing or dropping rows by transactionId, adding some."""
    with source.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = rows[rows.index(["Detail"]) + 1]
    out = rows[: rows.index(["Detail"]) + 2]
    for row in rows[rows.index(["Detail"]) + 2 :]:
        fields = dict(zip(header, row, strict=True))
        if fields["transactionId"] in change:
            patch = change[fields["transactionId"]]
            if patch is None:
                continue
            fields.update(patch)
        out.append([fields[h] for h in header])
    for extra in add:
        out.append([extra.get(h, "") for h in header])
    with target.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(out)


async def test_every_kind_of_difference_is_reported(
    backend: Backend, state_dir: Path, tmp_path: Path
) -> None:
    settings = settings_for(backend, state_dir)
    store = await Store.open(backend.database_url)
    try:
        for i in range(4):
            await pay(store, f"p{i}", 10_000 + i)
        declined: Payment = payment("p9")
        await store.create_payment(declined)
        await store.transition_payment(
            declined, PaymentStatus.FAILED, PaymentUpdate(ResultCode.RISK_REJECT, "no")
        )
        await settle(store.engine, settings, TODAY, tmp_path)
        ours = (
            tmp_path
            / "clearing"
            / "SIAM_ACQ"
            / B
            / f"transactionItems_SIAM_ACQ_THB_{B}_SIAM_ACQ-THB_000.csv"
        )
        theirs = tmp_path / "theirs.csv"
        edit(
            ours,
            theirs,
            {
                "P-p0": None,
                "P-p1": {"settlementAmount": "10002"},
                "P-p2": {"transactionStatus": "FAIL"},
            },
            [
                {
                    "transactionId": "P-p9",
                    "transactionType": "PAYMENT",
                    "transactionStatus": "SUCCESS",
                },
                {
                    "transactionId": "P-nope",
                    "transactionType": "PAYMENT",
                    "transactionStatus": "SUCCESS",
                },
            ],
        )
        async with store.engine.connect() as connection:
            batch = await find_batch(connection, TODAY)
            assert batch is not None
            clean = await reconcile(connection, batch, read_items(ours))
            dirty = await reconcile(connection, batch, read_items(theirs))
    finally:
        await store.close()

    assert (clean.matched, clean.differences) == (4, [])
    assert dirty.matched == 1  # p3
    kinds = {(d.kind, d.transaction_id) for d in dirty.differences}
    assert kinds == {
        (DifferenceKind.MISSING_IN_FILE, "P-p0"),
        (DifferenceKind.AMOUNT_MISMATCH, "P-p1"),
        (DifferenceKind.STATUS_MISMATCH, "P-p2"),
        (DifferenceKind.STATUS_MISMATCH, "P-p9"),
        (DifferenceKind.MISSING_IN_LEDGER, "P-nope"),
    }
