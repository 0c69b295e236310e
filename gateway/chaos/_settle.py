"""Settling: once the load is done and the faults are off, recovery finishes what is open.

The run waits until no payment or refund is open and every notification is delivered, at
most ``within`` seconds, sending again meanwhile each refund still unknown, as an acquirer
retries. It stops waiting sooner once what is still open has stood still longer than any
clock of the hub can hold it (:attr:`HubTimings.still_seconds`: a send that may still
arrive, an order the traveller may still pay, then a turn of recovery), and recovery has
had a turn with the hub up and the faults off (and the locks a killed gateway left have
lapsed): it has looked at each of them since, with nothing to make of it. What is still
open then is reported by the audit (``final``) either way; waiting out ``within`` would
only make the run slower.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from gateway.chaos._merchant import Merchant
from gateway.schema import UNRESOLVED, notifications, payment_events, payments, refunds

__all__ = ["Settled", "settle"]

_EVERY = 1.0  # seconds between looks at the ledger


@dataclass(frozen=True, slots=True)
class Settled:
    """How settling ended: ``open`` payments, refunds and undelivered notifications were
    left (0: all final), and why it stopped: ``"final"``, ``"still"`` (what is open
    stood still) or ``"timeout"``."""

    open: int
    reason: str


async def settle(
    database_url: str,
    merchant: Merchant,
    *,
    within: float,
    still_after: float,
    not_before: datetime,
) -> Settled:
    """Wait until nothing is open, for at most ``within`` seconds, or, from ``not_before``
    on (when recovery has had its turn at everything), until no open payment or refund
    has moved for ``still_after`` seconds."""
    engine = create_async_engine(database_url)
    left = -1
    try:
        give_up = time.monotonic() + within
        while time.monotonic() < give_up:
            await merchant.finish_refunds()
            with suppress(SQLAlchemyError, OSError):  # the database may be busy; ask again
                async with engine.connect() as connection:
                    left, undelivered, moved = await _open(connection)
                if left == 0:
                    return Settled(0, "final")
                now = datetime.now(UTC)
                still = moved is None or (now - moved).total_seconds() >= still_after
                if not undelivered and still and now >= not_before:
                    return Settled(left, "still")
            await asyncio.sleep(_EVERY)
    finally:
        await engine.dispose()
    return Settled(left, "timeout")


async def _open(connection: AsyncConnection) -> tuple[int, int, datetime | None]:
    """How many payments, refunds and notifications are open; how many of those are
    notifications; and when an open payment or refund last moved (``None``: none is)."""
    unresolved = sa.text(UNRESOLVED)
    open_refunds = sa.select(refunds.c.refund_id).where(unresolved)
    counts = [
        sa.select(sa.func.count()).select_from(payments).where(unresolved),
        sa.select(sa.func.count()).select_from(refunds).where(unresolved),
    ]
    undelivered = sa.select(sa.func.count()).where(notifications.c.status == "PENDING")
    moments = [
        sa.select(sa.func.max(payments.c.updated_at)).where(unresolved),
        sa.select(sa.func.max(payment_events.c.at)).where(
            payment_events.c.refund_id.in_(open_refunds)
        ),
    ]
    ledger = sum([(await connection.execute(q)).scalar_one() for q in counts])
    waiting = (await connection.execute(undelivered)).scalar_one()
    moved = [m for q in moments if (m := (await connection.execute(q)).scalar_one()) is not None]
    return ledger + waiting, waiting, max(map(_aware, moved), default=None)


def _aware(moment: datetime) -> datetime:
    # SQLite gives back the UTC moment the gateway wrote, without its zone.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
