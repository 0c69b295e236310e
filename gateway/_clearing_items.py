"""The detail rows of the clearing files — transaction items and fee items — and how they
go from the books into the files.

A file's items are its participant's principal postings in the batch: first the late ones
the batch took in, then those booked in its own window, each part in booking order
(``booked_at``, then ``posting_id``). A transaction item is one row; a fee item is two
rows, interchange then service fee, leaving out a fee that rounds to zero.

On PostgreSQL the database formats the CSV (``COPY … TO STDOUT``) and Python only moves
it into the files, a chunk at a time. Two connections work at once, so that PostgreSQL
uses both cores while Python writes:

* transaction items need their payment (request ids, amount): one COPY over the whole
  batch makes one hash join with the payments, sorted by file and order and cut into the
  files as it streams (:func:`gateway._csv_copy.split_copy`);
* fee items need only the posting: one COPY per file and part, read in order straight
  from the index ``ix_postings_items``, so nothing is sorted, each item's two fee rows
  made by ``unnest``.

On SQLite each file is one query whose rows stream through the ``csv`` module.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway._csv_copy import copy_csv, split_copy
from gateway.clearing import (
    ClearingBatch,
    in_window,
    interchange_sql,
    members,
    service_fee_sql,
    taken_in,
)
from gateway.postings import Entry, Movement, Role
from gateway.schema import payments, postings, refunds

__all__ = ["Group", "transaction_query", "write_items"]

#: The participant of a pair of clearing files: ``(role, participant, currency)``.
Group = tuple[Role, str, str]

#: The order of a file's items: the late ones the batch took in, then its window's, each
#: part in booking order.
_ORDER = (
    postings.c.batch_id.is_(None).label("on_time"),
    postings.c.booked_at.label("booked_at"),
    postings.c.posting_id.label("posting_id"),
)

_FEES = (Entry.INTERCHANGE, Entry.SERVICE_FEE)


def _of(group: Group) -> sa.ColumnElement[bool]:
    """The items of ``group``'s files (in any batch)."""
    return sa.and_(postings.c.entry == Entry.PRINCIPAL.value, _holder(group))


def _holder(group: Group) -> sa.ColumnElement[bool]:
    """The postings on ``group``'s account."""
    role, participant, currency = group
    return sa.and_(
        postings.c.role == role.value,
        postings.c.participant == participant,
        postings.c.currency == currency,
    )


def _time(connection: AsyncConnection, booked_at: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    # Rendered by the database in one fixed format, whatever the session's settings.
    if connection.dialect.name == "postgresql":
        return sa.func.to_char(sa.func.timezone("UTC", booked_at), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    return sa.func.strftime("%Y-%m-%dT%H:%M:%SZ", booked_at)


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
    role: Role | None, time: sa.ColumnElement[Any]
) -> list[sa.ColumnElement[Any]]:
    # The Detail columns of a transactionItems file (settlement_files.TRANSACTION_COLUMNS).
    refund = postings.c.movement == Movement.REFUND.value
    return [
        postings.c.movement_id,
        postings.c.payment_id,
        postings.c.movement,
        sa.literal("SUCCESS"),
        time,
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
    """One participant's transaction items in ``batch``, in file order."""
    return (
        sa.select(*_transaction_columns(role, _time(connection, postings.c.booked_at)))
        .select_from(_with_payments())
        .where(members(batch), _of((role, participant, currency)))
        .order_by(*_ORDER)
    )


def _fee_query(batch: ClearingBatch, group: Group) -> sa.Select[Any]:
    # Portable SQL: each fee kind is a SELECT of its own, interleaved by the sort.
    amounts = (interchange_sql(batch.terms), service_fee_sql(batch.terms))
    parts = [
        sa.select(
            *_ORDER,
            sa.literal(rank).label("rank"),
            postings.c.movement_id,
            postings.c.payment_id,
            postings.c.movement,
            sa.literal(kind.value).label("fee_type"),
            postings.c.currency,
            amount.label("fee"),
        ).where(members(batch), _of(group), amount != 0)
        for rank, (kind, amount) in enumerate(zip(_FEES, amounts, strict=True))
    ]
    union = sa.union_all(*parts).subquery("fees")
    shown = ["movement_id", "payment_id", "movement", "fee_type", "currency", "fee"]
    order = [union.c[c.name] for c in _ORDER]
    return sa.select(*[union.c[n] for n in shown]).order_by(*order, union.c.rank)


# PostgreSQL


def _file_index(groups: Sequence[Group]) -> sa.ColumnElement[int]:
    # Of a principal posting (the query's condition).
    return sa.case(
        *[(_holder(group), sa.literal(index, sa.Integer)) for index, group in enumerate(groups)],
        else_=sa.null(),
    )


def _batch_transactions(
    connection: AsyncConnection, batch: ClearingBatch, groups: Sequence[Group]
) -> sa.Select[Any]:
    """Every file's transaction items, each row led by its file's index, in file order."""
    key = _file_index(groups).label("file")
    booked_at = postings.c.booked_at
    columns = _transaction_columns(None, booked_at)
    # The sort is about half this query's cost, and grows with the width of what it carries:
    # the file's columns are computed before it (narrower than what they come from), all
    # but the time, formatted after it (wider as text than as a timestamp).
    items = (
        sa.select(
            key,
            *_ORDER,
            *[c.label(f"column_{i}") for i, c in enumerate(columns) if c is not booked_at],
        )
        .select_from(_with_payments())
        .where(
            members(batch),
            postings.c.entry == Entry.PRINCIPAL.value,
            # Not IN (…): COPY takes the statement as compiled, without expanding lists.
            sa.or_(postings.c.role == Role.ACQUIRER.value, postings.c.role == Role.WALLET.value),
        )
        .order_by(key, *_ORDER)
        .subquery("items")
    )
    time = _time(connection, items.c.booked_at)
    return sa.select(
        items.c.file,
        *[time if c is booked_at else items.c[f"column_{i}"] for i, c in enumerate(columns)],
    ).order_by(items.c.file, *[items.c[c.name] for c in _ORDER])


def _file_fees(batch: ClearingBatch, group: Group, part: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """One part (taken in, or in the window) of one file's fee items, in order."""
    items = (
        sa.select(
            postings.c.movement_id,
            postings.c.payment_id,
            postings.c.movement,
            postings.c.currency,
            interchange_sql(batch.terms).label("interchange"),
            service_fee_sql(batch.terms).label("service_fee"),
        )
        .where(_of(group), part)
        .order_by(postings.c.booked_at, postings.c.posting_id)
        .subquery("items")
    )
    # A set-returning function in the select list gives its rows in order, one input row
    # at a time; the subquery's order is kept, as it is only filtered.
    fees = sa.select(
        items.c.movement_id,
        items.c.payment_id,
        items.c.movement,
        sa.func.unnest(postgresql.array([sa.literal(k.value) for k in _FEES])).label("fee_type"),
        items.c.currency,
        sa.func.unnest(postgresql.array([items.c.interchange, items.c.service_fee])).label("fee"),
    ).subquery("fees")
    return sa.select(*fees.c).where(fees.c.fee != 0)


async def _transactions_copy(
    engine: AsyncEngine,
    batch: ClearingBatch,
    groups: Sequence[Group],
    outs: Sequence[io.BufferedWriter],
    done: Callable[[int], None],
) -> None:
    async with engine.connect() as connection:
        # Compiling these wide expressions costs the JIT seconds, more than it saves on a
        # query that streams its rows straight out; the sort fits in memory.
        await _set(connection, jit="off", work_mem="256MB")
        query = _batch_transactions(connection, batch, groups)
        await split_copy(connection, query, outs, done)


async def _fees_copy(
    engine: AsyncEngine,
    batch: ClearingBatch,
    groups: Sequence[Group],
    outs: Sequence[io.BufferedWriter],
    done: Callable[[int], None],
) -> None:
    async with engine.connect() as connection:
        await _set(connection, jit="off", max_parallel_workers_per_gather="0")
        for group, out in zip(groups, outs, strict=True):
            await copy_csv(connection, _file_fees(batch, group, taken_in(batch)), out)
        # The window's items in order from the index: the planner, which cannot see that
        # participant, role and currency go together, would think a sort cheaper.
        await _set(connection, enable_sort="off")
        for index, (group, out) in enumerate(zip(groups, outs, strict=True)):
            await copy_csv(connection, _file_fees(batch, group, in_window(batch)), out)
            done(index)


async def _set(connection: AsyncConnection, **settings: str) -> None:
    # For this transaction only; the values are our own constants.
    for name, value in settings.items():
        await connection.execute(sa.text(f"SET LOCAL {name} = '{value}'"))


# SQLite


async def _stream(
    connection: AsyncConnection, query: sa.Select[Any], out: io.BufferedWriter
) -> None:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\n")
    result = await connection.stream(query)
    async for partition in result.partitions(10_000):
        writer.writerows(partition)
    text.detach()


async def write_items(
    engine: AsyncEngine,
    batch: ClearingBatch,
    groups: Sequence[Group],
    transactions: Sequence[io.BufferedWriter],
    fees: Sequence[io.BufferedWriter],
    *,
    on_transactions: Callable[[int], None],
    on_fees: Callable[[int], None],
) -> None:
    """Write the detail rows of each group's transactionItems and feeItems files (open,
    their Summary written); ``on_transactions(i)`` and ``on_fees(i)`` hear each file of
    ``groups[i]`` complete."""
    if engine.dialect.name == "postgresql":
        # A closed batch never changes, so the two connections read the same items.
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(
                _transactions_copy(engine, batch, groups, transactions, on_transactions)
            )
            tasks.create_task(_fees_copy(engine, batch, groups, fees, on_fees))
        return
    async with engine.connect() as connection:
        for index, group in enumerate(groups):
            role, participant, currency = group
            query = transaction_query(connection, batch, role, participant, currency)
            await _stream(connection, query, transactions[index])
            on_transactions(index)
            await _stream(connection, _fee_query(batch, group), fees[index])
            on_fees(index)
