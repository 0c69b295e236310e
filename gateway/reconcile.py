"""Reconciliation: a participant's own transaction file against the books.

The file is transactionItems-shaped (a ``Summary`` section naming the participant, the
settlement currency and the clearing batch, then a ``Detail`` section). Rows are matched
on ``(transactionId, transactionType)``; every difference is reported by kind:

* ``missing_in_ledger`` — the participant has a successful item the batch does not;
* ``missing_in_file`` — the batch has an item the participant's file does not;
* ``amount_mismatch`` — both have it, with different transaction or settlement amounts;
* ``status_mismatch`` — the participant's status disagrees with ours (it says a payment
  succeeded that we hold as failed or cancelled, or it says failed what we settled).
"""

from __future__ import annotations

import csv
import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway._clearing_items import transaction_query
from gateway.clearing import ClearingBatch
from gateway.postings import Entry, Movement, Role
from gateway.schema import payments, postings, refunds

__all__ = ["Difference", "DifferenceKind", "FileItems", "Reconciliation", "read_items", "reconcile"]

SUCCESS = "SUCCESS"
#: Ids asked of the ledger in one query.
_IDS_PER_QUERY = 1000


class DifferenceKind(enum.StrEnum):
    MISSING_IN_LEDGER = "missing_in_ledger"
    MISSING_IN_FILE = "missing_in_file"
    AMOUNT_MISMATCH = "amount_mismatch"
    STATUS_MISMATCH = "status_mismatch"


@dataclass(frozen=True, slots=True)
class Difference:
    kind: DifferenceKind
    transaction_id: str
    transaction_type: str
    ours: str
    theirs: str


@dataclass(frozen=True, slots=True)
class FileItems:
    """A participant's file: its summary and its detail rows by key."""

    participant: str
    currency: str
    batch_id: str
    rows: dict[tuple[str, str], dict[str, str]]


@dataclass(slots=True)
class Reconciliation:
    matched: int = 0
    differences: list[Difference] = field(default_factory=list)

    def count(self, kind: DifferenceKind) -> int:
        return sum(d.kind is kind for d in self.differences)


def _sections(path: Path) -> Iterator[tuple[str, list[str]]]:
    section = ""
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.reader(handle):
            if row in (["Summary"], ["Detail"]):
                section = row[0]
            elif row:
                yield section, row


def read_items(path: Path) -> FileItems:
    """Read a transactionItems-shaped CSV; raise ``ValueError`` naming what is wrong."""
    summary: list[list[str]] = []
    detail: list[list[str]] = []
    for section, row in _sections(path):
        (summary if section == "Summary" else detail).append(row)
    if len(summary) != 2 or not detail:
        raise ValueError(f"{path}: expected a Summary section (header and row) and a Detail header")
    head = dict(zip(summary[0], summary[1], strict=False))
    try:
        participant = head["participantId"]
        currency = head["settlementCurrency"]
        batch_id = head["clearingBatchId"]
    except KeyError as exc:
        raise ValueError(f"{path}: the Summary has no {exc.args[0]}") from None
    header, *lines = detail
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for line in lines:
        fields = dict(zip(header, line, strict=False))
        rows[(fields["transactionId"], fields["transactionType"])] = fields
    return FileItems(participant, currency, batch_id, rows)


async def _role(connection: AsyncConnection, participant: str) -> Role:
    query = (
        sa.select(postings.c.role)
        .where(postings.c.participant == participant, postings.c.entry == Entry.PRINCIPAL.value)
        .limit(1)
    )
    found = (await connection.execute(query)).scalar()
    return Role(found) if found else Role.ACQUIRER


async def _statuses(
    connection: AsyncConnection, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """The ledger's status of each ``(transaction id, kind)`` it knows: a query per
    :data:`_IDS_PER_QUERY` ids, since a file may name many the ledger never saw."""
    found: dict[tuple[str, str], str] = {}
    for refunded, column, status in (
        (True, refunds.c.refund_id, refunds.c.status),
        (False, payments.c.payment_id, payments.c.status),
    ):
        asked = [key for key in keys if (key[1] == Movement.REFUND.value) is refunded]
        ids = sorted({transaction_id for transaction_id, _ in asked})
        by_id: dict[str, str] = {}
        for start in range(0, len(ids), _IDS_PER_QUERY):
            query = sa.select(column, status).where(column.in_(ids[start : start + _IDS_PER_QUERY]))
            by_id.update((str(i), str(s)) for i, s in await connection.execute(query))
        found.update((key, by_id[key[0]]) for key in asked if key[0] in by_id)
    return found


async def reconcile(
    connection: AsyncConnection, batch: ClearingBatch, items: FileItems
) -> Reconciliation:
    """Compare ``items`` with the participant's items in ``batch``."""
    role = await _role(connection, items.participant)
    query = transaction_query(connection, batch, role, items.participant, items.currency)
    result = Reconciliation()
    theirs = dict(items.rows)
    async for row in await connection.stream(query):
        key = (str(row[0]), str(row[2]))
        ours_amounts = f"{row[7]} {row[6]} / {row[10]} {row[9]}"
        other = theirs.pop(key, None)
        if other is None:
            result.differences.append(
                Difference(DifferenceKind.MISSING_IN_FILE, *key, ours_amounts, "")
            )
            continue
        their_amounts = (
            f"{other.get('transactionAmount')} {other.get('transactionCurrency')}"
            f" / {other.get('settlementAmount')} {other.get('settlementCurrency')}"
        )
        if other.get("transactionStatus", SUCCESS) != SUCCESS:
            result.differences.append(
                Difference(
                    DifferenceKind.STATUS_MISMATCH, *key, SUCCESS, other["transactionStatus"]
                )
            )
        elif their_amounts != ours_amounts:
            result.differences.append(
                Difference(DifferenceKind.AMOUNT_MISMATCH, *key, ours_amounts, their_amounts)
            )
        else:
            result.matched += 1
    # What the file settles and the ledger does not: asked of the ledger all at once.
    settled = [k for k, row in theirs.items() if row.get("transactionStatus", SUCCESS) == SUCCESS]
    statuses = await _statuses(connection, settled)
    for key, other in sorted(theirs.items()):
        status = other.get("transactionStatus", SUCCESS)
        ours = statuses.get(key)
        if status != SUCCESS:
            result.matched += 1  # neither side settles it: they agree
        elif ours is not None and ours != "SUCCEEDED":
            result.differences.append(
                Difference(DifferenceKind.STATUS_MISMATCH, *key, ours, status)
            )
        else:
            result.differences.append(
                Difference(DifferenceKind.MISSING_IN_LEDGER, *key, ours or "", status)
            )
    return result
