"""The ledger: durable payments, refunds and their events, on SQLite or PostgreSQL.

Every state change is a compare-and-set on the record's current status, written in the
same transaction as its event, so two writers can never both move a payment and no
transition is ever recorded without its event. A transition that moves money (a payment
or refund succeeding, a succeeded payment cancelled) writes its double-entry postings in
that same transaction (:mod:`gateway.postings`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import InterfaceError as SAInterfaceError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from fx import Money
from gateway._pg import UNAVAILABLE_STATES, Driver
from gateway._rows import (
    order_from_row,
    order_row,
    payment_from_row,
    payment_row,
    refund_from_row,
    refund_row,
)
from gateway.errors import ConcurrentUpdate, StorageUnavailable
from gateway.models import Notification, Order, Payment, Refund
from gateway.postings import (
    booking,
    booking_parameters,
    payment_postings,
    refund_postings,
    reversal,
)
from gateway.results import ResultCode
from gateway.schema import (
    UNRESOLVED,
    closed_requests,
    notifications,
    orders,
    payment_events,
    payments,
    postings,
    refunds,
)
from gateway.states import (
    PaymentStatus,
    RefundStatus,
    check_payment_transition,
    check_refund_transition,
)

__all__ = [
    "DuplicateRequest",
    "Page",
    "PaymentUpdate",
    "RefundExceedsPayment",
    "Store",
    "migrate",
    "migration_config",
    "page_end",
]

log = logging.getLogger("causeway.store")

_MIGRATIONS = Path(__file__).parent / "migrations"

#: Connections per gateway process. Two cores of PostgreSQL do their best with a handful of
#: busy connections, and every process's pool must fit the server's ``max_connections``
#: (100 by default) beside the other processes and tools that use it.
POOL_SIZE = 16

#: The advisory lock a migration holds on PostgreSQL (a session lock: it outlives each
#: migration's transaction). Any number; this one spells "Causeway" in ASCII.
MIGRATION_LOCK = 0x4361757365776179
_TRY_LOCK = sa.text("SELECT pg_try_advisory_lock(:key)")
_UNLOCK = sa.text("SELECT pg_advisory_unlock(:key)")

#: How often a process waiting for another's migration looks again.
MIGRATION_POLL_SECONDS = 0.5

#: How long a migration's statement waits for a table's lock (PostgreSQL's
#: ``lock_timeout``). An ``ALTER TABLE`` waiting behind a long transaction would hold up
#: every payment queued behind it; it gives up after this instead, and is tried again.
MIGRATION_LOCK_TIMEOUT_MS = 2000
#: How many times a migration that gave up waiting for a lock is tried in all, and the
#: pause between two tries: together about four minutes of stepping aside.
MIGRATION_LOCK_ATTEMPTS = 30
MIGRATION_RETRY_SECONDS = 6.0
#: PostgreSQL's SQLSTATE for a lock not had within ``lock_timeout``.
_LOCK_NOT_AVAILABLE = "55P03"

#: How long opening a PostgreSQL connection may take before the request is answered
#: "unavailable".
CONNECT_TIMEOUT_SECONDS = 3.0


class DuplicateRequest(Exception):
    """Raised when a payment or refund with the same acquirer request id already exists."""


class RefundExceedsPayment(Exception):
    """Raised when a refund would take the payment's refunded total above its amount."""


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PaymentUpdate:
    """What a transition changes besides the status. ``pay_to_amount``: what the wallet
    says it charged, when it converts at its own rate; a success is booked at that."""

    result_code: ResultCode
    result_message: str
    wallet_payment_id: str | None = None
    customer_id: str | None = None
    pay_to_amount: Money | None = None


def migration_config(connection: sa.Connection) -> Config:
    """Alembic's configuration for running the migrations on ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the head revision (idempotent). Each migration commits on its
    own (``gateway/migrations/env.py``), so the connection goes over outside a transaction.

    On PostgreSQL one process migrates at a time (gateway processes starting together all
    call this): the others wait, then find the schema at the head.
    """

    def upgrade(connection: sa.Connection) -> None:
        command.upgrade(migration_config(connection), "head")

    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            async with _one_migrator_at_a_time(connection), _lock_timeout(connection):
                await _stepping_aside(connection, upgrade)
        else:
            await connection.run_sync(upgrade)


async def _stepping_aside(
    connection: AsyncConnection, upgrade: Callable[[sa.Connection], None]
) -> None:
    """Run ``upgrade``; a migration that gave up waiting for a lock is tried again (the
    ones before it stay applied), until :data:`MIGRATION_LOCK_ATTEMPTS` tries failed."""
    for attempt in range(1, MIGRATION_LOCK_ATTEMPTS + 1):
        try:
            await connection.run_sync(upgrade)
            return
        except DBAPIError as exc:
            if str(getattr(exc.orig, "sqlstate", "")) != _LOCK_NOT_AVAILABLE:
                raise
            await connection.rollback()
            if attempt == MIGRATION_LOCK_ATTEMPTS:
                raise RuntimeError(
                    f"a migration waited for a table's lock {attempt} times; other "
                    "transactions hold it (see pg_locks and pg_stat_activity)"
                ) from exc
            log.warning(
                "a migration gave up waiting %d ms for a table another transaction holds; "
                "trying again in %g s (%d of %d)",
                MIGRATION_LOCK_TIMEOUT_MS,
                MIGRATION_RETRY_SECONDS,
                attempt,
                MIGRATION_LOCK_ATTEMPTS,
            )
            await asyncio.sleep(MIGRATION_RETRY_SECONDS)


@asynccontextmanager
async def _lock_timeout(connection: AsyncConnection) -> AsyncIterator[None]:
    """Bound the session's lock waits while it migrates; the connection goes back to the
    pool without the bound."""
    await connection.execute(sa.text(f"SET lock_timeout = {int(MIGRATION_LOCK_TIMEOUT_MS)}"))
    await connection.commit()
    try:
        yield
    finally:
        await connection.rollback()
        await connection.execute(sa.text("RESET lock_timeout"))
        await connection.commit()


@asynccontextmanager
async def _one_migrator_at_a_time(connection: AsyncConnection) -> AsyncIterator[None]:
    """Hold the migration lock. Polled rather than waited for in ``pg_advisory_lock``: a
    session waiting inside a statement holds a snapshot, and the holder's ``CREATE INDEX
    CONCURRENTLY`` waits for every such snapshot to end — the two would wait for each
    other. No transaction stays open while waiting, or after."""
    waiting = False
    while not await connection.scalar(_TRY_LOCK, {"key": MIGRATION_LOCK}):
        await connection.commit()
        if not waiting:
            log.info("another process is migrating the ledger; waiting for it")
            waiting = True
        await asyncio.sleep(MIGRATION_POLL_SECONDS)
    await connection.commit()
    try:
        yield
    finally:
        await connection.rollback()  # whatever a failed migration left open
        await connection.execute(_UNLOCK, {"key": MIGRATION_LOCK})
        await connection.commit()


class Store:
    """Reads and writes the ledger. Build it with :meth:`open`; close it with :meth:`close`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        # Reads need no transaction of their own: autocommit spares a BEGIN and a ROLLBACK.
        self._reader = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._driver = Driver(engine) if engine.dialect.name == "postgresql" else None

    @classmethod
    async def open(
        cls, url: str, *, run_migrations: bool = True, pool_size: int = POOL_SIZE
    ) -> Store:
        options: dict[str, Any] = {}
        if url.startswith("postgresql"):
            # A fixed pool, without overflow connections that are opened and closed under
            # load; no pre-ping (a round trip a checkout): a dead connection fails one
            # request as StorageUnavailable and is replaced.
            options.update(pool_size=pool_size, max_overflow=0, pool_timeout=5)
            # A server that does not answer fails the request in seconds, not asyncpg's
            # default minute. After a restart, the first statement on a dead connection
            # fails and SQLAlchemy discards the whole pool: the next requests reconnect.
            options.update(connect_args={"timeout": CONNECT_TIMEOUT_SECONDS})
        engine = create_async_engine(url, **options)
        if url.startswith("sqlite"):
            _tune_sqlite(engine)
        store = cls(engine)
        if run_migrations:
            async with store._guard():
                await migrate(engine)
        return store

    async def close(self) -> None:
        await self._engine.dispose()

    async def ping(self) -> None:
        """One trivial query; raises :class:`StorageUnavailable` if the ledger is down."""
        async with self._guard(), self._reader.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        try:
            yield
        except (OperationalError, SAInterfaceError, PoolTimeout, OSError) as exc:
            raise StorageUnavailable(f"the ledger is unavailable: {type(exc).__name__}") from exc
        except DBAPIError as exc:
            # asyncpg reports a refused connection ("too many clients") as a generic error.
            state = str(getattr(exc.orig, "sqlstate", None) or "")
            if not exc.connection_invalidated and not state.startswith(UNAVAILABLE_STATES):
                raise
            raise StorageUnavailable(f"the ledger is unavailable: SQLSTATE {state}") from exc

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self._guard(), self._engine.begin() as connection:
            yield connection

    async def _fetch_one(
        self, statement: sa.Executable, parameters: Mapping[str, Any]
    ) -> Mapping[Any, Any] | None:
        """The first row one statement returns, or None; run in autocommit, and on
        PostgreSQL by asyncpg directly (:mod:`gateway._pg`): for the pay path's statements."""
        async with self._guard():
            if self._driver is not None:
                return await self._driver.fetch_one(statement, parameters)
            async with self._reader.connect() as connection:
                result = await connection.execute(statement, parameters)
                return result.mappings().first() if result.returns_rows else None

    # -- payments -------------------------------------------------------------------------

    async def create_payment(self, payment: Payment) -> None:
        """Insert a new ``PENDING`` payment and its creation event, or raise
        :class:`DuplicateRequest` if the acquirer's request id is taken."""
        row = payment_row(payment)
        try:
            if self._engine.dialect.name == "postgresql":
                # One statement, so one round trip and atomic without BEGIN and COMMIT: the
                # event is inserted from the row the payment's insert returns.
                statement = _creation(tuple(row))
                await self._fetch_one(statement, {f"new_{k}": v for k, v in row.items()})
                return
            async with self._transaction() as connection:
                await connection.execute(payments.insert().values(**row))
                await _record_event(connection, payment.payment_id, None, payment.status, payment)
        except IntegrityError as exc:
            raise DuplicateRequest(payment.payment_request_id) from exc

    async def create_order(self, order: Order) -> None:
        """Insert an order waiting for its traveller, or raise :class:`DuplicateRequest`."""
        try:
            async with self._transaction() as connection:
                await connection.execute(orders.insert().values(**order_row(order)))
        except IntegrityError as exc:
            raise DuplicateRequest(order.purchase.payment_request_id) from exc

    async def find_order(self, acquirer_id: str, payment_request_id: str) -> Order | None:
        query = orders.select().where(
            orders.c.acquirer_id == acquirer_id, orders.c.payment_request_id == payment_request_id
        )
        return await self._one_order(query)

    async def get_order(self, order_id: str) -> Order | None:
        return await self._one_order(orders.select().where(orders.c.order_id == order_id))

    async def _one_order(self, query: sa.Select[Any]) -> Order | None:
        async with self._guard(), self._reader.connect() as connection:
            row = (await connection.execute(query)).mappings().first()
        return None if row is None else order_from_row(row)

    async def reroute(self, payment: Payment, route: str) -> Payment:
        """Send a payment nothing has reached yet through another route (failover)."""
        async with self._transaction() as connection:
            row = (
                (
                    await connection.execute(
                        payments.update()
                        .where(
                            payments.c.payment_id == payment.payment_id,
                            payments.c.status == PaymentStatus.PENDING.value,
                        )
                        .values(route=route, updated_at=_now())
                        .returning(*payments.c)
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            raise ConcurrentUpdate(payment.payment_id, PaymentStatus.PENDING)
        return payment_from_row(row)

    async def rename_wallet_payment(self, payment: Payment, wallet_payment_id: str) -> bool:
        """Name a succeeded payment by the wallet's newer id for it (M-Pesa's receipt, which
        a reversal needs, in place of the ``CheckoutRequestID`` only a query needed); whether
        it was. A compare-and-set on the status and the id it replaces, so it happens once."""
        return await self._set_wallet_payment_id(
            payment,
            wallet_payment_id,
            payments.c.status == PaymentStatus.SUCCEEDED.value,
            payments.c.wallet_payment_id.is_not_distinct_from(payment.wallet_payment_id),
            updated_at=_now(),
        )

    async def name_wallet_payment(self, payment: Payment, wallet_payment_id: str) -> bool:
        """Give a payment still unresolved the wallet's id for it, when it has none (the
        pay's answer, which carried it, was lost; a callback named it); whether it did.
        Its status does not move, nor does ``updated_at`` (recovery's next inquiry is due
        when it was); a compare-and-set, so a payment is named once."""
        return await self._set_wallet_payment_id(
            payment,
            wallet_payment_id,
            payments.c.status.in_([PaymentStatus.PENDING.value, PaymentStatus.UNKNOWN.value]),
            payments.c.wallet_payment_id.is_(None),
        )

    async def _set_wallet_payment_id(
        self,
        payment: Payment,
        wallet_payment_id: str,
        *guards: sa.ColumnElement[bool],
        **also: object,
    ) -> bool:
        """Set the payment's ``wallet_payment_id`` (and ``also``) where ``guards`` hold;
        whether they did."""
        async with self._transaction() as connection:
            changed = await connection.execute(
                payments.update()
                .where(payments.c.payment_id == payment.payment_id, *guards)
                .values(wallet_payment_id=wallet_payment_id, **also)
            )
        return changed.rowcount == 1

    async def unresolved(
        self, *, before: datetime, limit: int, after: Page | None = None
    ) -> list[Payment]:
        """Payments still PENDING or UNKNOWN that last moved before ``before``, oldest first,
        from where the page ``after`` ended (:func:`page_end`)."""
        query = (
            payments.select()
            .where(
                sa.text(UNRESOLVED),
                payments.c.updated_at < before,
                *_past(after, payments.c.updated_at, payments.c.payment_id),
            )
            .order_by(payments.c.updated_at, payments.c.payment_id)
            .limit(limit)
        )
        return await self._payments(query)

    async def unresolved_counts(self) -> dict[str, int]:
        """How many payments and refunds are PENDING or UNKNOWN (each count an index scan
        of the unresolved ones, on 0007's partial indexes)."""
        query = sa.select(
            sa.select(sa.func.count()).select_from(payments).where(sa.text(UNRESOLVED))
            .scalar_subquery().label("payments"),
            sa.select(sa.func.count()).select_from(refunds).where(sa.text(UNRESOLVED))
            .scalar_subquery().label("refunds"),
        )  # fmt: skip
        async with self._guard(), self._reader.connect() as connection:
            row = (await connection.execute(query)).one()
        return {"payments": row.payments, "refunds": row.refunds}

    async def find_by_wallet_request(self, wallet_request_id: str) -> Payment | None:
        """The payment a wallet knows by ``wallet_request_id`` (what we sent it)."""
        return await self._one_payment(
            payments.select().where(payments.c.wallet_request_id == wallet_request_id)
        )

    async def find_by_wallet_payment_id(self, route: str, wallet_payment_id: str) -> Payment | None:
        """The payment a wallet's callback names by the wallet's own id, on one route."""
        return await self._one_payment(
            payments.select().where(
                payments.c.route == route, payments.c.wallet_payment_id == wallet_payment_id
            )
        )

    async def get_refund(
        self, refund_id: str | None = None, *, wallet_refund_id: str | None = None
    ) -> Refund | None:
        """A refund by our id for it (the id the wallet was sent), or by the wallet's."""
        if refund_id is not None:
            found = await self._refunds(refunds.c.refund_id == refund_id)
        elif wallet_refund_id is not None:
            found = await self._refunds(refunds.c.wallet_refund_id == wallet_refund_id)
        else:
            return None
        return found[0] if found else None

    async def close_request(self, acquirer_id: str, payment_request_id: str) -> None:
        """Record that the acquirer cancelled this request id (idempotent): a pay with it
        is never taken, and a payment made with it takes no refund while its cancel is
        under way."""
        try:
            async with self._transaction() as connection:
                await connection.execute(
                    closed_requests.insert().values(
                        acquirer_id=acquirer_id,
                        payment_request_id=payment_request_id,
                        closed_at=_now(),
                    )
                )
        except IntegrityError:
            pass  # closed already

    async def reopen_request(self, acquirer_id: str, payment_request_id: str) -> None:
        """Take back :meth:`close_request` for a payment the wallet would not cancel, or
        once its cancel is recorded (the payment's own state says the rest)."""
        async with self._transaction() as connection:
            await connection.execute(
                closed_requests.delete().where(
                    closed_requests.c.acquirer_id == acquirer_id,
                    closed_requests.c.payment_request_id == payment_request_id,
                )
            )

    async def cancels_under_way(
        self, *, before: datetime, limit: int, after: Page | None = None
    ) -> list[Payment]:
        """Succeeded payments whose cancel was asked before ``before`` and never answered
        (the request id is closed, the payment is not cancelled), oldest payments first,
        from where the page ``after`` ended (:func:`page_end`)."""
        query = (
            payments.select()
            .join(
                closed_requests,
                sa.and_(
                    closed_requests.c.acquirer_id == payments.c.acquirer_id,
                    closed_requests.c.payment_request_id == payments.c.payment_request_id,
                ),
            )
            .where(
                payments.c.status == PaymentStatus.SUCCEEDED.value,
                closed_requests.c.closed_at < before,
                *_past(after, payments.c.updated_at, payments.c.payment_id),
            )
            .order_by(payments.c.updated_at, payments.c.payment_id)
            .limit(limit)
        )
        return await self._payments(query)

    async def is_closed(self, acquirer_id: str, payment_request_id: str) -> bool:
        query = sa.select(closed_requests.c.closed_at).where(
            closed_requests.c.acquirer_id == acquirer_id,
            closed_requests.c.payment_request_id == payment_request_id,
        )
        async with self._guard(), self._reader.connect() as connection:
            return (await connection.execute(query)).first() is not None

    async def find_request(
        self, acquirer_id: str, payment_request_id: str
    ) -> tuple[Payment | None, bool, bool]:
        """The payment an acquirer's request id names, whether the id is closed, and
        whether it names an order, in one query (what a pay asks before it takes the id)."""
        row = await self._fetch_one(
            _FIND_REQUEST, {"acquirer": acquirer_id, "request": payment_request_id}
        )
        assert row is not None  # the query always returns its one row
        payment = None if row["payment_id"] is None else payment_from_row(row)
        return payment, bool(row["request_closed"]), bool(row["request_ordered"])

    async def find_payment(self, acquirer_id: str, payment_request_id: str) -> Payment | None:
        query = payments.select().where(
            payments.c.acquirer_id == acquirer_id,
            payments.c.payment_request_id == payment_request_id,
        )
        return await self._one_payment(query)

    async def get_payment(self, acquirer_id: str, payment_id: str) -> Payment | None:
        query = payments.select().where(
            payments.c.acquirer_id == acquirer_id, payments.c.payment_id == payment_id
        )
        return await self._one_payment(query)

    async def _payments(self, query: sa.Select[Any]) -> list[Payment]:
        async with self._guard(), self._reader.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [payment_from_row(row) for row in rows]

    async def _one_payment(self, query: sa.Select[Any]) -> Payment | None:
        async with self._guard(), self._reader.connect() as connection:
            row = (await connection.execute(query)).mappings().first()
        return None if row is None else payment_from_row(row)

    async def transition_payment(
        self,
        payment: Payment,
        target: PaymentStatus,
        update: PaymentUpdate,
        *,
        notification: Callable[[Payment], str] | None = None,
    ) -> Payment:
        """Move ``payment`` from its current status to ``target``, with its event, atomically.

        When the payment becomes SUCCEEDED or FAILED and has a notify URL, ``notification``
        renders the merchant notification's body from the moved payment, and it joins the
        outbox in the same transaction. Raises :class:`IllegalTransition` for an edge not
        in the table and :class:`ConcurrentUpdate` if another writer moved the payment
        first.
        """
        check_payment_transition(payment.payment_id, payment.status, target)
        now = _now()
        # The payment as this transition leaves it. The notification is rendered from it:
        # every field the body reads is fixed at creation or written here, and the
        # compare-and-set on the status guarantees nothing else moved it in between.
        moved = replace(
            payment,
            status=target,
            result_code=update.result_code,
            result_message=update.result_message,
            wallet_payment_id=_given(update.wallet_payment_id, payment.wallet_payment_id),
            customer_id=_given(update.customer_id, payment.customer_id),
            pay_to_amount=_given(update.pay_to_amount, payment.pay_to_amount),
            updated_at=now,
            completed_at=payment.completed_at or (now if target.is_final else None),
        )
        parameters: dict[str, Any] = {
            "payment": payment.payment_id,
            "source": payment.status.value,
            "target": target.value,
            "code": update.result_code.name,
            "message": update.result_message,
            "wallet_payment": update.wallet_payment_id,
            "customer": update.customer_id,
            "pay_to": None if update.pay_to_amount is None else update.pay_to_amount.minor,
            "now": now,
            "completed": moved.completed_at,
        }
        # The money moves with the state: a success books the payment, a cancel after
        # success books its exact reversal.
        books = 0
        if target is PaymentStatus.SUCCEEDED:
            lines = payment_postings(moved)
            books = len(lines)
            parameters.update(booking_parameters(lines))
        reverses = payment.status is PaymentStatus.SUCCEEDED and target is PaymentStatus.CANCELLED
        notifies = False
        if (
            notification is not None
            and moved.notify_url
            and target in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED)
        ):
            notifies = True
            parameters.update(
                notification=f"N{moved.payment_id}",
                acquirer=moved.acquirer_id,
                url=moved.notify_url,
                body=notification(moved),
            )
        statements = _transition(self._engine.dialect.name, books, reverses, notifies)
        if len(statements) == 1:
            # PostgreSQL: one statement, so one round trip, atomic without BEGIN and COMMIT.
            row = await self._fetch_one(statements[0], parameters)
        else:
            cas, *rest = statements
            async with self._transaction() as connection:
                row = (await connection.execute(cas, parameters)).mappings().first()
                if row is not None:
                    for statement in rest:
                        await connection.execute(statement, parameters)
        if row is None:
            raise ConcurrentUpdate(payment.payment_id, payment.status)
        return payment_from_row(row)

    # -- the notification outbox ----------------------------------------------------------

    async def claim_notifications(
        self, now: datetime, *, lease: timedelta, limit: int
    ) -> list[Notification]:
        """Take up to ``limit`` due notifications for ``lease``; another instance claiming
        at the same moment gets others (each claim is a compare-and-set)."""
        due = (
            sa.select(notifications)
            .where(notifications.c.status == "PENDING", notifications.c.next_attempt_at <= now)
            .order_by(notifications.c.next_attempt_at)
            .limit(limit)
        )
        claimed: list[Notification] = []
        async with self._transaction() as connection:
            rows = (await connection.execute(due)).mappings().all()
            for row in rows:
                taken = await connection.execute(
                    notifications.update()
                    .where(
                        notifications.c.notification_id == row["notification_id"],
                        notifications.c.next_attempt_at == row["next_attempt_at"],
                    )
                    .values(next_attempt_at=now + lease)
                )
                if taken.rowcount == 1:
                    claimed.append(
                        Notification(
                            notification_id=row["notification_id"],
                            payment_id=row["payment_id"],
                            acquirer_id=row["acquirer_id"],
                            url=row["url"],
                            body=row["body"],
                            attempts=row["attempts"],
                        )
                    )
        return claimed

    async def record_attempt(
        self,
        notification: Notification,
        *,
        delivered: bool,
        error: str | None,
        retry_at: datetime | None,
    ) -> None:
        """Record one delivery attempt: delivered, to be retried at ``retry_at``, or given up
        (neither delivered nor a retry time)."""
        now = _now()
        if delivered:
            values: dict[str, Any] = {"status": "DELIVERED", "delivered_at": now}
        elif retry_at is not None:
            values = {"next_attempt_at": retry_at}
        else:
            values = {"status": "GAVE_UP"}
        async with self._transaction() as connection:
            await connection.execute(
                notifications.update()
                .where(notifications.c.notification_id == notification.notification_id)
                .values(attempts=notification.attempts + 1, last_error=error, **values)
            )

    async def notification_status(self, payment_id: str) -> tuple[str, int] | None:
        """``(status, attempts)`` of a payment's notification, if it has one."""
        query = sa.select(notifications.c.status, notifications.c.attempts).where(
            notifications.c.payment_id == payment_id
        )
        async with self._guard(), self._reader.connect() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else (row.status, row.attempts)

    async def events(self, payment_id: str) -> list[tuple[str | None, str, str | None]]:
        """The payment's events in order, as ``(source, target, refund_id)``."""
        query = (
            sa.select(payment_events.c.source, payment_events.c.target, payment_events.c.refund_id)
            .where(payment_events.c.payment_id == payment_id)
            .order_by(payment_events.c.event_id)
        )
        async with self._guard(), self._reader.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [(r.source, r.target, r.refund_id) for r in rows]

    # -- refunds --------------------------------------------------------------------------

    async def create_refund(self, refund: Refund, payment: Payment) -> Refund:
        """Claim the refund's amount against the payment and insert it as ``PENDING``.

        The claim is a conditional update, so concurrent refunds can never exceed the
        payment; the amounts in the wallet's and settlement currencies are computed while
        the payment row is locked, and the last refund takes exactly what remains so the
        three currencies reach zero together. Raises :class:`RefundExceedsPayment` or
        :class:`DuplicateRequest`.
        """
        try:
            async with self._transaction() as connection:
                claimed = await connection.execute(
                    payments.update()
                    .where(
                        payments.c.payment_id == payment.payment_id,
                        payments.c.status == PaymentStatus.SUCCEEDED.value,
                        payments.c.refunded + refund.amount.minor <= payments.c.amount,
                    )
                    .values(refunded=payments.c.refunded + refund.amount.minor)
                )
                if claimed.rowcount != 1:
                    raise RefundExceedsPayment(payment.payment_id)
                row = (
                    (
                        await connection.execute(
                            sa.select(
                                payments.c.refunded,
                                payments.c.refunded_pay_to,
                                payments.c.refunded_settlement,
                            ).where(payments.c.payment_id == payment.payment_id)
                        )
                    )
                    .mappings()
                    .one()
                )
                final = row["refunded"] == payment.amount.minor
                pay_to = _share(
                    refund.refund_from_amount, payment.pay_to_amount, row["refunded_pay_to"], final
                )
                settlement = _share(
                    refund.settlement_amount,
                    payment.settlement_amount,
                    row["refunded_settlement"],
                    final,
                )
                await connection.execute(
                    payments.update()
                    .where(payments.c.payment_id == payment.payment_id)
                    .values(
                        refunded_pay_to=payments.c.refunded_pay_to + pay_to.minor,
                        refunded_settlement=payments.c.refunded_settlement + settlement.minor,
                    )
                )
                stored = replace(refund, refund_from_amount=pay_to, settlement_amount=settlement)
                await connection.execute(refunds.insert().values(**refund_row(stored)))
                await connection.execute(
                    payment_events.insert().values(
                        payment_id=payment.payment_id,
                        refund_id=refund.refund_id,
                        source=None,
                        target=refund.status.value,
                        result_code=refund.result_code.name,
                        at=refund.created_at,
                    )
                )
        except IntegrityError as exc:
            raise DuplicateRequest(refund.refund_request_id) from exc
        return stored

    async def find_refund(self, acquirer_id: str, refund_request_id: str) -> Refund | None:
        found = await self._refunds(
            refunds.c.acquirer_id == acquirer_id,
            refunds.c.refund_request_id == refund_request_id,
        )
        return found[0] if found else None

    async def refund_last_sent(self, refund: Refund) -> datetime:
        """When ``refund`` was last sent to its wallet: as :meth:`claim_refund_resend`
        recorded it, else when the refund was made (its first send follows at once)."""
        query = sa.select(refunds.c.last_sent_at, refunds.c.created_at).where(
            refunds.c.refund_id == refund.refund_id
        )
        async with self._guard(), self._reader.connect() as connection:
            row = (await connection.execute(query)).one()
        sent: datetime = row.last_sent_at or row.created_at
        # SQLite hands back naive datetimes; everything written is UTC.
        return sent if sent.tzinfo is not None else sent.replace(tzinfo=UTC)

    async def claim_refund_resend(
        self, refund: Refund, *, at: datetime, last_sent_before: datetime
    ) -> bool:
        """Record that ``refund`` is sent again ``at``, if it is still unresolved and was
        last sent before ``last_sent_before``; whether it was. A compare-and-set: of two
        instances deciding to send it again, only one may."""
        async with self._transaction() as connection:
            claimed = await connection.execute(
                refunds.update()
                .where(
                    refunds.c.refund_id == refund.refund_id,
                    refunds.c.status.in_([RefundStatus.PENDING.value, RefundStatus.UNKNOWN.value]),
                    sa.func.coalesce(refunds.c.last_sent_at, refunds.c.created_at)
                    < last_sent_before,
                )
                .values(last_sent_at=at)
            )
        return claimed.rowcount == 1

    async def name_wallet_refund(self, refund: Refund, wallet_refund_id: str) -> Refund:
        """Keep the wallet's id for a refund still unresolved that has none yet, its status
        unchanged (a send acknowledged after an earlier one's answer was lost: its result
        will name the refund by this id). Raises :class:`ConcurrentUpdate` if it was
        resolved, or given an id, first."""
        async with self._transaction() as connection:
            named = await connection.execute(
                refunds.update()
                .where(
                    refunds.c.refund_id == refund.refund_id,
                    refunds.c.status == refund.status.value,
                    refunds.c.wallet_refund_id.is_(None),
                )
                .values(wallet_refund_id=wallet_refund_id)
            )
        if named.rowcount != 1:
            raise ConcurrentUpdate(refund.refund_id, refund.status)
        return replace(refund, wallet_refund_id=wallet_refund_id)

    async def unresolved_refunds(
        self,
        *,
        before: datetime,
        limit: int,
        except_routes: Collection[str] = (),
        after: Page | None = None,
    ) -> list[Refund]:
        """Refunds still PENDING or UNKNOWN that were made before ``before``, oldest first,
        from where the page ``after`` ended (:func:`page_end`), leaving out those of
        payments made through ``except_routes``."""
        held = [payments.c.route.not_in(except_routes)] if except_routes else []
        return await self._refunds(
            sa.text(f"refunds.{UNRESOLVED}"),  # the payments joined have a status too
            refunds.c.created_at < before,
            *_past(after, refunds.c.created_at, refunds.c.refund_id),
            *held,
            order_by=(refunds.c.created_at, refunds.c.refund_id),
            limit=limit,
        )

    async def _refunds(
        self,
        *where: sa.ColumnElement[bool] | sa.TextClause,
        order_by: tuple[sa.ColumnElement[Any], ...] = (),
        limit: int | None = None,
    ) -> list[Refund]:
        """The refunds ``where`` selects, each read with its payment's currencies."""
        query = _REFUNDS.where(*where).order_by(*order_by).limit(limit)
        async with self._guard(), self._reader.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [refund_from_row(row) for row in rows]

    async def transition_refund(
        self,
        refund: Refund,
        target: RefundStatus,
        code: ResultCode,
        message: str,
        *,
        wallet_refund_id: str | None = None,
        refund_from_amount: Money | None = None,
    ) -> Refund:
        """Move a refund to ``target`` with its event; a failed refund gives its claim back.

        A refund that succeeded is booked at ``refund_from_amount`` in the wallet's
        currency when the wallet said what it gave back, and the payment's running total
        there follows it, so that a last refund still takes exactly what the wallet has
        left.
        """
        check_refund_transition(refund.refund_id, refund.status, target)
        now = _now()
        values: dict[str, Any] = {
            "status": target.value,
            "result_code": code.name,
            "result_message": message,
        }
        if wallet_refund_id is not None:
            values["wallet_refund_id"] = wallet_refund_id
        if target.is_final:
            values["completed_at"] = now
        claimed = refund.refund_from_amount
        if target is RefundStatus.SUCCEEDED and refund_from_amount is not None:
            values["refund_from_amount"] = refund_from_amount.minor
            refund = replace(refund, refund_from_amount=refund_from_amount)
        async with self._transaction() as connection:
            result = await connection.execute(
                refunds.update()
                .where(
                    refunds.c.refund_id == refund.refund_id,
                    refunds.c.status == refund.status.value,
                )
                .values(**values)
            )
            if result.rowcount != 1:
                raise ConcurrentUpdate(refund.refund_id, refund.status)
            if target is RefundStatus.FAILED:
                await connection.execute(
                    payments.update()
                    .where(payments.c.payment_id == refund.payment_id)
                    .values(
                        refunded=payments.c.refunded - refund.amount.minor,
                        refunded_pay_to=payments.c.refunded_pay_to
                        - refund.refund_from_amount.minor,
                        refunded_settlement=payments.c.refunded_settlement
                        - refund.settlement_amount.minor,
                    )
                )
            if refund.refund_from_amount != claimed:
                await connection.execute(
                    payments.update()
                    .where(payments.c.payment_id == refund.payment_id)
                    .values(
                        refunded_pay_to=payments.c.refunded_pay_to
                        + (refund.refund_from_amount.minor - claimed.minor)
                    )
                )
            if target is RefundStatus.SUCCEEDED:
                paid = (
                    (
                        await connection.execute(
                            payments.select().where(payments.c.payment_id == refund.payment_id)
                        )
                    )
                    .mappings()
                    .one()
                )
                lines = refund_postings(refund, payment_from_row(paid))
                await connection.execute(
                    _refund_booking(len(lines)), {"booked_at": now, **booking_parameters(lines)}
                )
            await connection.execute(
                payment_events.insert().values(
                    payment_id=refund.payment_id,
                    refund_id=refund.refund_id,
                    source=refund.status.value,
                    target=target.value,
                    result_code=code.name,
                    at=now,
                )
            )
        return replace(
            refund,
            status=target,
            result_code=code,
            result_message=message,
            wallet_refund_id=wallet_refund_id or refund.wallet_refund_id,
            completed_at=now if target.is_final else None,
        )


#: Where a page of a sweep's query ended: the last row's ordering time and id.
Page = tuple[datetime, str]
Row = TypeVar("Row")


def page_end(rows: Sequence[Row], limit: int, key: Callable[[Row], Page]) -> Page | None:
    """Where the next page starts: after the last of ``rows`` if the page was full, from
    the beginning (None) if it was not. A sweep that asks page after page therefore comes
    round to every row, however many the first pages keep holding."""
    return key(rows[-1]) if len(rows) >= limit else None


def _past(
    after: Page | None, at: sa.Column[Any], key: sa.Column[Any]
) -> list[sa.ColumnElement[bool]]:
    """The rows ordered by ``(at, key)`` after ``after`` (all of them if None)."""
    if after is None:
        return []
    return [
        sa.tuple_(at, key)
        > sa.tuple_(
            sa.bindparam(None, after[0], type_=at.type),
            sa.bindparam(None, after[1], type_=key.type),
        )
    ]


# The pay path's statements are built once and bound by name at each execution: building
# a statement costs more CPU than running it. The names must not be the tables' column
# names, which an INSERT or UPDATE would take as more columns to write.
def _bound(name: str, column: sa.Column[Any]) -> sa.BindParameter[Any]:
    return sa.bindparam(name, type_=column.type)


@functools.cache
def _refund_booking(count: int) -> sa.Insert:
    """A refund's postings, booked at ``:booked_at`` (built once, like the pay path's)."""
    return booking(count, _bound("booked_at", postings.c.booked_at))


# A refund with the currencies of its payment, which its amounts are in.
_REFUNDS = sa.select(
    refunds, payments.c.currency, payments.c.pay_to_currency, payments.c.settlement_currency
).join_from(refunds, payments, refunds.c.payment_id == payments.c.payment_id)

# What a pay asks before it takes a request id: the payment it names, whether the id was
# closed, and whether an order has it. Outer-joined to a one-row select, so the answer has a
# row with or without a payment.
_FIND_REQUEST = sa.select(
    sa.exists()
    .where(
        closed_requests.c.acquirer_id == _bound("acquirer", closed_requests.c.acquirer_id),
        closed_requests.c.payment_request_id
        == _bound("request", closed_requests.c.payment_request_id),
    )
    .label("request_closed"),
    sa.exists()
    .where(
        orders.c.acquirer_id == _bound("acquirer", orders.c.acquirer_id),
        orders.c.payment_request_id == _bound("request", orders.c.payment_request_id),
    )
    .label("request_ordered"),
    payments,
).select_from(
    sa.select(sa.literal(1).label("one"))
    .subquery()
    .outerjoin(
        payments,
        sa.and_(
            payments.c.acquirer_id == _bound("acquirer", payments.c.acquirer_id),
            payments.c.payment_request_id == _bound("request", payments.c.payment_request_id),
        ),
    )
)


@functools.cache
def _creation(columns: tuple[str, ...]) -> sa.Insert:
    """A new payment and its creation event in one statement (PostgreSQL), bound by the
    payment's row with each name prefixed ``new_``."""
    new = {name: _bound(f"new_{name}", payments.c[name]) for name in columns}
    created = payments.insert().values(new).returning(payments.c.payment_id).cte("created")
    return payment_events.insert().from_select(
        ["payment_id", "source", "target", "result_code", "at"],
        sa.select(
            created.c.payment_id,
            sa.null(),
            _bound("new_status", payment_events.c.target),
            _bound("new_result_code", payment_events.c.result_code),
            _bound("new_created_at", payment_events.c.at),
        ),
    )


_T = TypeVar("_T")


def _given(value: _T | None, otherwise: _T) -> _T:
    return otherwise if value is None else value


_MOVE = (
    payments.update()
    .where(
        payments.c.payment_id == _bound("payment", payments.c.payment_id),
        payments.c.status == _bound("source", payments.c.status),
    )
    .values(
        status=_bound("target", payments.c.status),
        result_code=_bound("code", payments.c.result_code),
        result_message=_bound("message", payments.c.result_message),
        wallet_payment_id=sa.func.coalesce(
            _bound("wallet_payment", payments.c.wallet_payment_id), payments.c.wallet_payment_id
        ),
        customer_id=sa.func.coalesce(
            _bound("customer", payments.c.customer_id), payments.c.customer_id
        ),
        pay_to_amount=sa.func.coalesce(
            _bound("pay_to", payments.c.pay_to_amount), payments.c.pay_to_amount
        ),
        updated_at=_bound("now", payments.c.updated_at),
        completed_at=sa.func.coalesce(
            payments.c.completed_at, _bound("completed", payments.c.completed_at)
        ),
    )
    .returning(*payments.c)
)


def _insert(
    table: sa.Table,
    values: Mapping[str, sa.ColumnElement[Any]],
    when: sa.ColumnElement[bool] | None,
) -> sa.Insert:
    """``INSERT INTO table … SELECT values``, only ``when`` it holds (if given)."""
    row = sa.select(*values.values())
    return table.insert().from_select(list(values), row if when is None else row.where(when))


def _written(
    books: int, reverses: bool, notifies: bool, when: sa.ColumnElement[bool] | None
) -> list[sa.Insert]:
    """What a transition writes besides the payment: its event, its postings (``books``
    lines, or the reversal of the payment's) and its outbox row, only ``when`` it moved."""
    now = _bound("now", payment_events.c.at)
    payment = _bound("payment", payment_events.c.payment_id)
    event = {
        "payment_id": payment,
        "source": _bound("source", payment_events.c.source),
        "target": _bound("target", payment_events.c.target),
        "result_code": _bound("code", payment_events.c.result_code),
        "at": now,
    }
    written = [_insert(payment_events, event, when)]
    if books:
        written.append(booking(books, now, when=when))
    if reverses:
        written.append(reversal(payment, now, when=when))
    if notifies:
        outbox = {
            "notification_id": _bound("notification", notifications.c.notification_id),
            "payment_id": payment,
            "acquirer_id": _bound("acquirer", notifications.c.acquirer_id),
            "url": _bound("url", notifications.c.url),
            "body": _bound("body", notifications.c.body),
            "status": sa.literal("PENDING", notifications.c.status.type),
            "attempts": sa.literal(0, notifications.c.attempts.type),
            "next_attempt_at": now,
            "created_at": now,
        }
        written.append(_insert(notifications, outbox, when))
    return written


@functools.cache
def _transition(
    dialect: str, books: int, reverses: bool, notifies: bool
) -> tuple[sa.Executable, ...]:
    """A transition's statements: on PostgreSQL one, whose compare-and-set hands back the
    moved row and whose other parts write only if it moved one; elsewhere the
    compare-and-set and then the rest, for one transaction."""
    if dialect == "postgresql":
        step = _MOVE.cte("moved")
        written = _written(books, reverses, notifies, sa.exists().select_from(step))
        return (sa.select(step).add_cte(*(w.cte() for w in written)),)
    return (_MOVE, *_written(books, reverses, notifies, None))


def _tune_sqlite(engine: AsyncEngine) -> None:
    @sa.event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers run beside the one writer; the busy timeout makes writers queue
        # instead of failing under concurrent requests.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def _share(proposed: Money, total: Money, already: int, final: bool) -> Money:
    """The part of ``total`` a refund takes: the remainder when it is the last one."""
    remaining = total.minor - already
    minor = remaining if final else min(proposed.minor, remaining)
    return Money(total.currency, minor)


async def _record_event(
    connection: AsyncConnection,
    payment_id: str,
    source: PaymentStatus | None,
    target: PaymentStatus,
    payment: Payment,
) -> None:
    await connection.execute(
        payment_events.insert().values(
            payment_id=payment_id,
            source=None if source is None else source.value,
            target=target.value,
            result_code=payment.result_code.name,
            at=payment.created_at,
        )
    )
