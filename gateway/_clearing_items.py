"""The detail rows of the clearing files — transaction items and fee items — and how they
go from the books into the files.

A file's items are its participant's principal postings in the batch: first the late ones
the batch took in, then those booked in its own window, each part in booking order
(``booked_at``, then ``posting_id``). A transaction item is one row, read from the posting
alone (it carries the request id and the transaction amount its participant knows); a fee
item is two rows, interchange then service fee, leaving out a fee that rounds to zero.

On PostgreSQL the database formats the CSV (``COPY … TO STDOUT``) and Python only moves
it into the files, a chunk at a time. Each file part is one COPY read in order straight
from the index ``ix_postings_items``, so nothing is joined or sorted; two connections take
the files from one queue, biggest first, so that PostgreSQL uses both cores while Python
writes. On SQLite each file is one query whose rows stream through the ``csv`` module.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Awaitable, Callable, Iterator, Sequence
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway._csv_copy import copy_csv
from gateway.clearing import (
    ClearingBatch,
    in_window,
    interchange_sql,
    members,
    service_fee_sql,
    taken_in,
)
from gateway.postings import Entry, Role
from gateway.schema import postings

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
    """The items of ``group``'s files (in any batch): principal postings on its account."""
    role, participant, currency = group
    return sa.and_(
        postings.c.entry == Entry.PRINCIPAL.value,
        postings.c.role == role.value,
        postings.c.participant == participant,
        postings.c.currency == currency,
    )


def _time(dialect: str) -> sa.ColumnElement[Any]:
    # A posting's booked_at, rendered by the database in one fixed format, whatever the
    # session's settings.
    booked_at = postings.c.booked_at
    if dialect == "postgresql":
        return sa.func.to_char(sa.func.timezone("UTC", booked_at), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    return sa.func.strftime("%Y-%m-%dT%H:%M:%SZ", booked_at)


def _transaction_columns(time: sa.ColumnElement[Any]) -> list[sa.ColumnElement[Any]]:
    # The Detail columns of a transactionItems file (settlement_files.TRANSACTION_COLUMNS).
    return [
        postings.c.movement_id,
        postings.c.payment_id,
        postings.c.movement,
        sa.literal("SUCCESS"),
        time,
        postings.c.request_id,
        postings.c.transaction_currency,
        postings.c.transaction_amount,
        postings.c.counterparty,
        postings.c.currency,
        postings.c.amount,
        sa.case((postings.c.late.is_(sa.true()), "Y"), else_="N"),
    ]


def transaction_query(
    connection: AsyncConnection, batch: ClearingBatch, role: Role, participant: str, currency: str
) -> sa.Select[Any]:
    """One participant's transaction items in ``batch``, in file order."""
    return (
        sa.select(*_transaction_columns(_time(connection.dialect.name)))
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

#: One file's COPYs, on the connection given.
_Job = Callable[[AsyncConnection], Awaitable[None]]


def _part(
    columns: Sequence[sa.ColumnElement[Any]], group: Group, part: sa.ColumnElement[bool]
) -> sa.Select[Any]:
    """One part (taken in, or in the window) of one file's items, in order."""
    return (
        sa.select(*columns)
        .where(_of(group), part)
        .order_by(postings.c.booked_at, postings.c.posting_id)
    )


def _fee_items(batch: ClearingBatch, group: Group, part: sa.ColumnElement[bool]) -> sa.Select[Any]:
    items = _part(
        [
            postings.c.movement_id,
            postings.c.payment_id,
            postings.c.movement,
            postings.c.currency,
            interchange_sql(batch.terms).label("interchange"),
            service_fee_sql(batch.terms).label("service_fee"),
        ],
        group,
        part,
    ).subquery("items")
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


def _file_job(
    batch: ClearingBatch,
    parts: Callable[[sa.ColumnElement[bool]], sa.Select[Any]],
    out: io.BufferedWriter,
    done: Callable[[], None],
) -> _Job:
    async def job(connection: AsyncConnection) -> None:
        # The few late items the batch took in, sorted; then the window's in order from the
        # index: the planner, which cannot see that participant, role and currency go
        # together, would think a sort cheaper.
        await _set(connection, enable_sort="on")
        await copy_csv(connection, parts(taken_in(batch)), out)
        await _set(connection, enable_sort="off")
        await copy_csv(connection, parts(in_window(batch)), out)
        done()

    return job


async def _worker(engine: AsyncEngine, jobs: Iterator[_Job]) -> None:
    async with engine.connect() as connection:
        # Compiling these expressions costs the JIT more than it saves on queries that
        # stream their rows straight out; the two connections are the parallelism.
        await _set(connection, jit="off", max_parallel_workers_per_gather="0")
        for job in jobs:
            await job(connection)


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
    sizes: Sequence[int],
    on_transactions: Callable[[int], None],
    on_fees: Callable[[int], None],
) -> None:
    """Write the detail rows of each group's transactionItems and feeItems files (open,
    their Summary written); ``sizes[i]`` is about how many items ``groups[i]`` has;
    ``on_transactions(i)`` and ``on_fees(i)`` hear each file of ``groups[i]`` complete."""
    if engine.dialect.name == "postgresql":
        columns = _transaction_columns(_time("postgresql"))
        jobs: list[tuple[int, _Job]] = []
        for index, group in enumerate(groups):
            transaction_items = partial(_part, columns, group)
            fee_items = partial(_fee_items, batch, group)
            done = partial(on_transactions, index), partial(on_fees, index)
            jobs.append(
                (sizes[index], _file_job(batch, transaction_items, transactions[index], done[0]))
            )
            jobs.append((sizes[index], _file_job(batch, fee_items, fees[index], done[1])))
        # Biggest first, so that neither connection is left with a long file at the end. A
        # closed batch never changes, so the two read the same items.
        queue = iter([job for _, job in sorted(jobs, key=lambda sized: -sized[0])])
        async with asyncio.TaskGroup() as tasks:
            for _ in range(2):
                tasks.create_task(_worker(engine, queue))
        return
    async with engine.connect() as connection:
        for index, group in enumerate(groups):
            role, participant, currency = group
            query = transaction_query(connection, batch, role, participant, currency)
            await _stream(connection, query, transactions[index])
            on_transactions(index)
            await _stream(connection, _fee_query(batch, group), fees[index])
            on_fees(index)
