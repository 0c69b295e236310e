"""Clearing batches: one calendar day in the clearing zone, closed once and for good.

A posting belongs to the batch whose window holds its booking time (a transaction's
completion). Closing a batch records its window, freezes the fee rates it is cleared with
and books its fees, all in one transaction; nothing is ever added to it afterwards. A
posting booked inside a closed window — an event that raced the close, or a batch closed
before its day ended — is *late*: it is marked so when written and lands in the next batch
to close (the open one), never in the closed one.

Membership is the window itself (no per-posting update at close), so closing a batch of
a million transactions costs one pass to book its fees, not a rewrite of its rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.config import SettlementConfig, zone_of
from gateway.postings import HUB, Account, Entry, Movement, Posting, Role, line_row
from gateway.schema import clearing_batches, postings

__all__ = [
    "ClearingBatch",
    "ClearingTerms",
    "FeeRates",
    "batch_id_of",
    "close_batch",
    "fee_sql",
    "find_batch",
    "in_window",
    "interchange_sql",
    "members",
    "service_fee_sql",
    "taken_in",
    "window",
]


@dataclass(frozen=True, slots=True)
class FeeRates:
    interchange_bps: int
    service_fee_bps: int


@dataclass(frozen=True, slots=True)
class ClearingTerms:
    """The zone and fee rates a batch is cleared with, frozen into it when it closes."""

    zone: str
    default: FeeRates
    rates: Mapping[str, FeeRates] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: SettlementConfig) -> ClearingTerms:
        default = FeeRates(config.interchange_bps, config.service_fee_bps)
        rates = {
            t.id: FeeRates(
                default.interchange_bps if t.interchange_bps is None else t.interchange_bps,
                default.service_fee_bps if t.service_fee_bps is None else t.service_fee_bps,
            )
            for t in config.participants
        }
        return cls(config.zone, default, rates)

    def of(self, participant: str) -> FeeRates:
        return self.rates.get(participant, self.default)

    def to_json(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "default": [self.default.interchange_bps, self.default.service_fee_bps],
            "rates": {
                k: [v.interchange_bps, v.service_fee_bps] for k, v in sorted(self.rates.items())
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ClearingTerms:
        rates = {k: FeeRates(*v) for k, v in data["rates"].items()}
        return cls(data["zone"], FeeRates(*data["default"]), rates)


@dataclass(frozen=True, slots=True)
class ClearingBatch:
    """A closed batch: ``batch_id`` is its day, ``YYYYMMDD``."""

    batch_id: str
    day: date
    starts_at: datetime
    ends_at: datetime
    closed_at: datetime
    terms: ClearingTerms


def batch_id_of(day: date) -> str:
    return day.strftime("%Y%m%d")


def window(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The UTC instants ``[start, end)`` of ``day`` in ``zone``."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _utc(value: datetime) -> datetime:
    # SQLite returns naive datetimes; everything written is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _batch_from_row(row: Mapping[Any, Any]) -> ClearingBatch:
    batch_id = str(row["batch_id"])
    return ClearingBatch(
        batch_id=batch_id,
        day=datetime.strptime(batch_id, "%Y%m%d").date(),
        starts_at=_utc(row["starts_at"]),
        ends_at=_utc(row["ends_at"]),
        closed_at=_utc(row["closed_at"]),
        terms=ClearingTerms.from_json(row["terms"]),
    )


def members(batch: ClearingBatch) -> sa.ColumnElement[bool]:
    """Which postings are in ``batch``: those booked in its window and not late, and those
    given to it explicitly (late ones it took in, and its own fee postings)."""
    return sa.or_(taken_in(batch), in_window(batch))


def taken_in(batch: ClearingBatch) -> sa.ColumnElement[bool]:
    """The postings given to ``batch`` explicitly: late ones it took in, its fee postings."""
    return postings.c.batch_id == batch.batch_id


def in_window(batch: ClearingBatch) -> sa.ColumnElement[bool]:
    """The postings booked in ``batch``'s window, on time."""
    return sa.and_(
        postings.c.batch_id.is_(None),
        postings.c.late.is_(sa.false()),
        postings.c.booked_at >= batch.starts_at,
        postings.c.booked_at < batch.ends_at,
    )


async def find_batch(connection: AsyncConnection, day: date) -> ClearingBatch | None:
    query = clearing_batches.select().where(clearing_batches.c.batch_id == batch_id_of(day))
    row = (await connection.execute(query)).mappings().first()
    return None if row is None else _batch_from_row(row)


def fee_sql(amount: sa.ColumnElement[Any], bps: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """:func:`gateway.postings.fee` in SQL: half-up, ties away from zero, integers only
    (the operands of ``//`` are never negative, so floor and truncation agree)."""
    return sa.case(
        (amount < 0, -((-amount * bps + 5_000) // 10_000)),
        else_=(amount * bps + 5_000) // 10_000,
    )


def _bps(terms: ClearingTerms, who: sa.ColumnElement[Any], pick: str) -> sa.ColumnElement[Any]:
    mapping = {k: getattr(v, pick) for k, v in sorted(terms.rates.items())}
    default = sa.literal(getattr(terms.default, pick), sa.BigInteger)
    if not mapping:
        return default
    return sa.case(mapping, value=who, else_=default)


def interchange_sql(terms: ClearingTerms) -> sa.ColumnElement[Any]:
    """A principal posting's interchange, from its holder's side: the wallet's rate, paid
    by the acquirer and received by the wallet (−fee of the signed principal, both ways)."""
    wallet = sa.case(
        (postings.c.role == Role.WALLET.value, postings.c.participant),
        else_=postings.c.counterparty,
    )
    return -fee_sql(postings.c.amount, _bps(terms, wallet, "interchange_bps"))


def service_fee_sql(terms: ClearingTerms) -> sa.ColumnElement[Any]:
    """A principal posting's service fee, paid to the hub by its holder at its own rate."""
    charged = fee_sql(postings.c.amount, _bps(terms, postings.c.participant, "service_fee_bps"))
    # The acquirer's principal is positive on a payment, the wallet's negative: the fee is
    # a charge to both.
    return sa.case((postings.c.role == Role.WALLET.value, charged), else_=-charged)


def _fee_posting(
    batch: ClearingBatch,
    entry: Entry,
    role: Role,
    who: str,
    account: Account,
    currency: str,
    amount: int,
) -> dict[str, Any]:
    line = Posting(
        Movement.FEES, f"FEES-{batch.batch_id}", entry, role, who, account, currency, amount
    )
    return {
        **line_row(line),
        "booked_at": batch.closed_at,
        "batch_id": batch.batch_id,
        "late": False,
    }


async def _book_fees(connection: AsyncConnection, batch: ClearingBatch) -> None:
    """The batch's fee postings: per participant and currency, the sum of its per-item fees
    (as the feeItems files list them), against the hub's FX account (interchange crosses
    currencies through it) or its fees account (service fees).

    One pass over the batch's items sums both fees per participant and currency. It is a
    plain ``SELECT``, which PostgreSQL may run in parallel (the scan of an
    ``INSERT … SELECT`` it never does); the few fee postings are then inserted from its
    sums, the hub's side of each fee being minus their total per currency.
    """
    items = sa.and_(
        members(batch),
        postings.c.entry == Entry.PRINCIPAL.value,
        postings.c.role.in_([Role.ACQUIRER.value, Role.WALLET.value]),
    )
    fees = (Entry.INTERCHANGE, Entry.SERVICE_FEE)
    keys = (postings.c.role, postings.c.participant, postings.c.currency)
    sums = (
        sa.select(
            *keys,
            sa.func.sum(interchange_sql(batch.terms)),
            sa.func.sum(service_fee_sql(batch.terms)),
        )
        .where(items)
        .group_by(*keys)
        .order_by(*keys)
    )
    rows: list[dict[str, Any]] = []
    hub: dict[tuple[Entry, str], int] = {}
    for role, participant, currency, *amounts in await connection.execute(sums):
        for entry, amount in zip(fees, map(int, amounts), strict=True):
            if amount:
                rows.append(
                    _fee_posting(
                        batch, entry, Role(role), participant, Account.SETTLEMENT, currency, amount
                    )
                )
            hub[entry, currency] = hub.get((entry, currency), 0) - amount
    for (entry, currency), amount in sorted(hub.items()):
        account = Account.FX if entry is Entry.INTERCHANGE else Account.FEES
        if amount:
            rows.append(_fee_posting(batch, entry, Role.HUB, HUB, account, currency, amount))
    if rows:
        await connection.execute(postings.insert(), rows)


async def close_batch(
    engine: AsyncEngine, day: date, terms: ClearingTerms, *, now: datetime | None = None
) -> tuple[ClearingBatch, bool]:
    """Close the batch of ``day`` (idempotent): ``(batch, closed_now)``.

    A batch already closed is returned as it is, with the terms it was closed with.
    """
    zone = zone_of(terms.zone)
    starts_at, ends_at = window(day, zone)
    batch = ClearingBatch(
        batch_id_of(day), day, starts_at, ends_at, now or datetime.now(UTC), terms
    )
    try:
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Wait for posting writers in flight, and hold new ones until this commits:
                # each of them then sees the batch closed and marks itself late.
                await connection.execute(sa.text("LOCK TABLE postings IN SHARE MODE"))
            # First a write, so on SQLite this transaction holds the one writer's lock
            # before it reads anything.
            await connection.execute(
                clearing_batches.insert().values(
                    batch_id=batch.batch_id,
                    zone=terms.zone,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    closed_at=batch.closed_at,
                    terms=terms.to_json(),
                )
            )
            await connection.execute(
                postings.update()
                .where(
                    postings.c.late.is_(sa.true()),
                    postings.c.batch_id.is_(None),
                    postings.c.booked_at < ends_at,
                )
                .values(batch_id=batch.batch_id)
            )
            await _book_fees(connection, batch)
    except IntegrityError:
        async with engine.connect() as connection:
            existing = await find_batch(connection, day)
        assert existing is not None  # the key that collided
        return existing, False
    return batch, True
