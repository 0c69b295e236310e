"""Settlement files in the Alipay+ naming, and the JSON summary beside them.

Under the output folder, for batch ``B`` (the batch's day stands for Alipay+'s generation
date, so a re-run writes the same paths)::

    clearing/<participantId>/<B>/transactionItems_<participantId>_<ccy>_<B>_<agreementId>_000.csv
    clearing/<participantId>/<B>/feeItems_<participantId>_<ccy>_<B>_<agreementId>_000.csv
    settlement/<companyId>/<B>/settlement_<companyId>_<ccy>_<B>_<agreementId>_000.csv
    summary_<B>.json

Each CSV is UTF-8 with a ``Summary`` section and a ``Detail`` section, and is written even
when it has no detail rows. Amounts are integer minor units, signed from the participant's
side (+: the hub pays it). Detail rows are in posting order, so a closed batch always gives
the same bytes. On PostgreSQL the detail rows go from the database to the files with
``COPY … TO STDOUT``, one for all the transactionItems files and one for all the feeItems
files, cut into the files as they stream (a chunk at a time, never the batch, in Python);
on SQLite each file's rows are streamed through the ``csv`` module.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.util import ClauseAdapter

from gateway._csv_copy import copy_csv, split_copy
from gateway.clearing import ClearingBatch, interchange_sql, members, service_fee_sql
from gateway.netting import AccountTotals, Settlement
from gateway.postings import Account, Entry, Movement, Role
from gateway.schema import payments, postings, refunds

__all__ = ["agreement_id", "summary", "transaction_query", "write_files"]

SEQ = "000"


def agreement_id(participant: str, currency: str) -> str:
    """Alipay+ derives the agreement id from the participant and settlement currency."""
    return f"{participant}-{currency}"


def _name(kind: str, participant: str, currency: str, batch_id: str) -> str:
    agreement = agreement_id(participant, currency)
    return f"{kind}_{participant}_{currency}_{batch_id}_{agreement}_{SEQ}.csv"


def _head(summary_header: list[str], summary: list[Any], detail_header: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["Summary"])
    writer.writerow(summary_header)
    writer.writerow(summary)
    writer.writerow(["Detail"])
    writer.writerow(detail_header)
    return buffer.getvalue().encode()


def _time(connection: AsyncConnection) -> sa.ColumnElement[Any]:
    # Rendered by the database in one fixed format, whatever the session's settings.
    if connection.dialect.name == "postgresql":
        return sa.func.to_char(
            sa.func.timezone("UTC", postings.c.booked_at), 'YYYY-MM-DD"T"HH24:MI:SS"Z"'
        )
    return sa.func.strftime("%Y-%m-%dT%H:%M:%SZ", postings.c.booked_at)


TRANSACTION_COLUMNS = [
    "transactionId",
    "paymentId",
    "transactionType",
    "transactionStatus",
    "transactionTime",
    "requestId",
    "transactionCurrency",
    "transactionAmount",
    "counterparty",
    "settlementCurrency",
    "settlementAmount",
    "late",
]

FEE_COLUMNS = [
    "transactionId",
    "paymentId",
    "transactionType",
    "feeType",
    "feeCurrency",
    "feeAmount",
]


def _items(
    batch: ClearingBatch, role: Role, participant: str, currency: str
) -> sa.ColumnElement[bool]:
    return sa.and_(
        members(batch),
        postings.c.entry == Entry.PRINCIPAL.value,
        postings.c.role == role.value,
        postings.c.participant == participant,
        postings.c.currency == currency,
    )


def _request(role: Role | None) -> sa.ColumnElement[Any]:
    refund = postings.c.movement == Movement.REFUND.value
    acquirer = sa.case((refund, refunds.c.refund_request_id), else_=payments.c.payment_request_id)
    # The ids the hub sent the wallet.
    wallet = sa.case((refund, postings.c.refund_id), else_=payments.c.wallet_request_id)
    if role is Role.ACQUIRER:
        return acquirer
    if role is Role.WALLET:
        return wallet
    return sa.case((postings.c.role == Role.ACQUIRER.value, acquirer), else_=wallet)


def _transaction_columns(
    connection: AsyncConnection, role: Role | None
) -> list[sa.ColumnElement[Any]]:
    refund = postings.c.movement == Movement.REFUND.value
    return [
        postings.c.movement_id,
        postings.c.payment_id,
        postings.c.movement,
        sa.literal("SUCCESS"),
        _time(connection),
        _request(role),
        payments.c.currency,
        sa.case((refund, refunds.c.amount), else_=payments.c.amount),
        postings.c.counterparty,
        postings.c.currency,
        postings.c.amount,
        sa.case((postings.c.late.is_(sa.true()), "Y"), else_="N"),
    ]


def _with_payments() -> sa.Join:
    return postings.outerjoin(payments, payments.c.payment_id == postings.c.payment_id).outerjoin(
        refunds, refunds.c.refund_id == postings.c.refund_id
    )


def transaction_query(
    connection: AsyncConnection, batch: ClearingBatch, role: Role, participant: str, currency: str
) -> sa.Select[Any]:
    return (
        sa.select(*_transaction_columns(connection, role))
        .select_from(_with_payments())
        .where(_items(batch, role, participant, currency))
        .order_by(postings.c.posting_id)
    )


def _fee_query(
    settlement: Settlement, role: Role, participant: str, currency: str
) -> sa.Select[Any]:
    terms = settlement.batch.terms
    parts = []
    for rank, (kind, amount) in enumerate(
        ((Entry.INTERCHANGE, interchange_sql(terms)), (Entry.SERVICE_FEE, service_fee_sql(terms)))
    ):
        parts.append(
            sa.select(
                postings.c.posting_id.label("posting_id"),
                sa.literal(rank).label("rank"),
                postings.c.movement_id.label("transaction_id"),
                postings.c.payment_id.label("payment_id"),
                postings.c.movement.label("movement"),
                sa.literal(kind.value).label("fee_type"),
                postings.c.currency.label("currency"),
                amount.label("fee"),
            ).where(_items(settlement.batch, role, participant, currency), amount != 0)
        )
    union = sa.union_all(*parts).subquery()
    return sa.select(*[union.c[n] for n in list(union.c.keys())[2:]]).order_by(
        union.c.posting_id, union.c.rank
    )


# PostgreSQL: every file of a kind from one query over the batch, rather than one query
# (one pass over the whole batch) per participant. Each row leads with its file's index in
# the participant list; the rows come sorted by it, and are cut into the files as they stream.


def _file_key(groups: list[tuple[Role, str, str]]) -> sa.ColumnElement[int]:
    return sa.case(
        *[
            (
                sa.and_(
                    postings.c.participant == participant,
                    postings.c.role == role.value,
                    postings.c.currency == currency,
                ),
                sa.literal(index, sa.Integer),
            )
            for index, (role, participant, currency) in enumerate(groups)
        ],
        else_=sa.null(),
    )


def _all_items(batch: ClearingBatch) -> sa.ColumnElement[bool]:
    return sa.and_(
        members(batch),
        postings.c.entry == Entry.PRINCIPAL.value,
        # Not IN (…): COPY takes the statement as compiled, without expanding lists.
        sa.or_(postings.c.role == Role.ACQUIRER.value, postings.c.role == Role.WALLET.value),
    )


def _all_transactions_query(
    connection: AsyncConnection, batch: ClearingBatch, groups: list[tuple[Role, str, str]]
) -> sa.Select[Any]:
    key = _file_key(groups).label("file")
    # The sort carries the stored values only; the file's columns (a formatted time, the
    # request id) are computed from its output, row by row as they stream.
    stored = (
        sa.select(
            key,
            postings.c.posting_id,
            *[postings.c[n] for n in _TRANSACTION_STORED],
            payments.c.payment_request_id,
            payments.c.wallet_request_id,
            payments.c.currency,
            payments.c.amount,
            refunds.c.refund_request_id,
            refunds.c.amount,
        )
        .select_from(_with_payments())
        .where(_all_items(batch))
        .order_by(key, postings.c.posting_id)
        .subquery("items")
    )
    adapter = ClauseAdapter(stored)
    return sa.select(
        stored.c.file, *[adapter.traverse(c) for c in _transaction_columns(connection, None)]
    ).order_by(stored.c.file, stored.c.posting_id)


_TRANSACTION_STORED = [
    "movement_id",
    "payment_id",
    "refund_id",
    "movement",
    "booked_at",
    "role",
    "counterparty",
    "currency",
    "amount",
    "late",
]


def _all_fees_query(batch: ClearingBatch, groups: list[tuple[Role, str, str]]) -> sa.Select[Any]:
    key = _file_key(groups).label("file")
    stored = (
        sa.select(key, postings.c.posting_id, *[postings.c[n] for n in _FEE_STORED])
        .where(_all_items(batch))
        .order_by(key, postings.c.posting_id)
        .subquery("items")
    )
    kinds = (
        sa.values(sa.column("rank", sa.Integer), sa.column("fee_type", sa.String), name="kinds")
        .data([(0, Entry.INTERCHANGE.value), (1, Entry.SERVICE_FEE.value)])
        .alias("kinds")
    )
    adapter = ClauseAdapter(stored)
    fee = sa.case(
        (kinds.c.rank == 0, adapter.traverse(interchange_sql(batch.terms))),
        else_=adapter.traverse(service_fee_sql(batch.terms)),
    )
    # Sorted once, narrow; each item then gives its two fee rows in order.
    return (
        sa.select(
            stored.c.file,
            stored.c.movement_id,
            stored.c.payment_id,
            stored.c.movement,
            kinds.c.fee_type,
            stored.c.currency,
            fee,
        )
        .select_from(stored.join(kinds, sa.true()))
        .where(fee != 0)
        .order_by(stored.c.file, stored.c.posting_id, kinds.c.rank)
    )


_FEE_STORED = [
    "movement_id",
    "payment_id",
    "movement",
    "role",
    "participant",
    "counterparty",
    "currency",
    "amount",
]


async def _detail(
    connection: AsyncConnection, query: sa.Select[Any], out: io.BufferedWriter
) -> None:
    if connection.dialect.name == "postgresql":
        out.flush()
        await copy_csv(connection, query, out)
        return
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\n")
    result = await connection.stream(query)
    async for partition in result.partitions(10_000):
        writer.writerows(partition)
    text.detach()


def _participants(
    settlement: Settlement, expected: Iterable[tuple[Role, str, str]]
) -> list[tuple[Role, str, str]]:
    seen = {
        (a.role, a.participant, a.currency) for a in settlement.accounts if a.role is not Role.HUB
    }
    return sorted(seen | set(expected))


@dataclass(frozen=True, slots=True)
class _ClearingFiles:
    paths: tuple[Path, Path]
    transactions: io.BufferedWriter
    fees: io.BufferedWriter


def _open_clearing_files(
    stack: contextlib.ExitStack,
    folder: Path,
    batch_id: str,
    account: AccountTotals | None,
    group: tuple[Role, str, str],
) -> _ClearingFiles:
    """Open a participant's transactionItems and feeItems files, Summary written."""
    _, participant, currency = group
    where = folder / "clearing" / participant / batch_id
    where.mkdir(parents=True, exist_ok=True)
    count, amount, fees = (
        (account.items, account.net - account.fees, account.fees) if account else (0, 0, 0)
    )
    key = [participant, currency, batch_id, agreement_id(participant, currency)]
    paths = (
        where / _name("transactionItems", participant, currency, batch_id),
        where / _name("feeItems", participant, currency, batch_id),
    )
    transactions = stack.enter_context(paths[0].open("wb"))
    transactions.write(
        _head(
            [
                "participantId",
                "settlementCurrency",
                "clearingBatchId",
                "participantAgreementId",
                "totalCount",
                "totalAmount",
            ],
            [*key, count, amount],
            TRANSACTION_COLUMNS,
        )
    )
    fee_items = stack.enter_context(paths[1].open("wb"))
    fee_items.write(
        _head(
            [
                "participantId",
                "settlementCurrency",
                "clearingBatchId",
                "participantAgreementId",
                "totalFee",
            ],
            [*key, fees],
            FEE_COLUMNS,
        )
    )
    return _ClearingFiles(paths, transactions, fee_items)


async def write_files(
    connection: AsyncConnection,
    settlement: Settlement,
    folder: Path,
    *,
    expected: Iterable[tuple[Role, str, str]] = (),
    company_of: Callable[[str], str] = str,
    on_file: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Write every file of ``settlement`` under ``folder``; return their paths.

    ``expected`` names the ``(role, participant, currency)`` that get files even without
    a transaction in the batch.
    """
    batch_id = settlement.batch.batch_id
    totals = {
        (a.role, a.participant, a.currency): a
        for a in settlement.accounts
        if a.account is Account.SETTLEMENT
    }
    written: list[Path] = []

    def done(path: Path) -> None:
        written.append(path)
        if on_file is not None:
            on_file(path)

    groups = _participants(settlement, expected)
    with contextlib.ExitStack() as stack:
        files = [
            _open_clearing_files(stack, folder, batch_id, totals.get(group), group)
            for group in groups
        ]
        if connection.dialect.name == "postgresql":
            # Compiling these wide expressions costs PostgreSQL's JIT seconds, more than it
            # saves on a query that streams its rows straight out.
            await connection.execute(sa.text("SET LOCAL jit = off"))
            await split_copy(
                connection,
                _all_transactions_query(connection, settlement.batch, groups),
                [f.transactions for f in files],
            )
            await split_copy(
                connection,
                _all_fees_query(settlement.batch, groups),
                [f.fees for f in files],
            )
        else:
            for (role, participant, currency), f in zip(groups, files, strict=True):
                query = transaction_query(connection, settlement.batch, role, participant, currency)
                await _detail(connection, query, f.transactions)
                await _detail(
                    connection, _fee_query(settlement, role, participant, currency), f.fees
                )
    for f in files:
        done(f.paths[0])
        done(f.paths[1])

    for position in settlement.positions:
        company, currency = position.company, position.currency
        where = folder / "settlement" / company / batch_id
        where.mkdir(parents=True, exist_ok=True)
        path = where / _name("settlement", company, currency, batch_id)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["Summary"])
        writer.writerow(
            [
                "participantId",
                "settlementCurrency",
                "settlementBatchId",
                "participantAgreementId",
                "valueDate",
                "totalCount",
                "payments",
                "refunds",
                "cancels",
                "fees",
                "netSettlementAmount",
                "direction",
            ]
        )
        writer.writerow(
            [
                company,
                currency,
                batch_id,
                agreement_id(company, currency),
                position.value_date.isoformat(),
                position.items,
                position.payments,
                position.refunds,
                position.cancels,
                position.fees,
                position.net,
                position.direction,
            ]
        )
        writer.writerow(["Detail"])
        writer.writerow(
            ["memberId", "role", "totalCount", "payments", "refunds", "cancels", "fees", "net"]
        )
        for a in settlement.accounts:
            if (
                a.currency == currency
                and a.role is not Role.HUB
                and company_of(a.participant) == company
            ):
                writer.writerow(
                    [
                        a.participant,
                        a.role.value,
                        a.items,
                        a.payments,
                        a.refunds,
                        a.cancels,
                        a.fees,
                        a.net,
                    ]
                )
        path.write_bytes(buffer.getvalue().encode())
        done(path)

    path = folder / f"summary_{batch_id}.json"
    path.write_text(
        json.dumps(summary(settlement), indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    done(path)
    return written


def summary(settlement: Settlement) -> dict[str, Any]:
    """The batch's settlement as plain data (what the JSON summary holds)."""
    batch = settlement.batch
    return {
        "clearingBatchId": batch.batch_id,
        "zone": batch.terms.zone,
        "window": [batch.starts_at.isoformat(), batch.ends_at.isoformat()],
        "closedAt": batch.closed_at.isoformat(),
        "terms": batch.terms.to_json(),
        "positions": [
            {
                "participantId": p.company,
                "members": list(p.members),
                "currency": p.currency,
                "valueDate": p.value_date.isoformat(),
                "totalCount": p.items,
                "payments": p.payments,
                "refunds": p.refunds,
                "cancels": p.cancels,
                "fees": p.fees,
                "net": p.net,
                "direction": p.direction,
            }
            for p in settlement.positions
        ],
        "hub": [{"currency": h.currency, "fx": h.fx, "fees": h.fees} for h in settlement.hub],
        "imbalance": settlement.imbalance(),
    }
