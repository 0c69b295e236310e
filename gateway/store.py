"""The ledger: durable payments, refunds and their events, on SQLite or PostgreSQL.

Every state change is a compare-and-set on the record's current status, written in the
same transaction as its event, so two writers can never both move a payment and no
transition is ever recorded without its event. A transition that moves money (a payment
or refund succeeding, a succeeded payment cancelled) writes its double-entry postings in
that same transaction (:mod:`gateway.postings`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import InterfaceError as SAInterfaceError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from fx import Money
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
from gateway.postings import book, payment_postings, refund_postings, reverse_payment
from gateway.results import ResultCode
from gateway.schema import (
    closed_requests,
    notifications,
    orders,
    payment_events,
    payments,
    refunds,
)
from gateway.states import (
    PaymentStatus,
    RefundStatus,
    check_payment_transition,
    check_refund_transition,
)

__all__ = ["DuplicateRequest", "PaymentUpdate", "RefundExceedsPayment", "Store", "migrate"]

_MIGRATIONS = Path(__file__).parent / "migrations"

#: Connections per gateway process. Two cores of PostgreSQL do their best with a handful of
#: busy connections, and every process's pool must fit the server's ``max_connections``
#: (100 by default) beside the other processes and tools that use it.
POOL_SIZE = 16

# SQLSTATE classes that mean the server could not serve us, not that the statement was
# wrong: 08 connection exception, 53 insufficient resources ("too many clients"), 57 operator
# intervention (shutting down, starting up).
_UNAVAILABLE_STATES = ("08", "53", "57")


class DuplicateRequest(Exception):
    """Raised when a payment or refund with the same acquirer request id already exists."""


class RefundExceedsPayment(Exception):
    """Raised when a refund would take the payment's refunded total above its amount."""


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PaymentUpdate:
    """What a transition changes besides the status."""

    result_code: ResultCode
    result_message: str
    wallet_payment_id: str | None = None
    customer_id: str | None = None


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the head revision (idempotent)."""

    def upgrade(connection: sa.Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        await connection.run_sync(upgrade)


class Store:
    """Reads and writes the ledger. Build it with :meth:`open`; close it with :meth:`close`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        # Reads need no transaction of their own: autocommit spares a BEGIN and a ROLLBACK.
        self._reader = engine.execution_options(isolation_level="AUTOCOMMIT")

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
            if not exc.connection_invalidated and not state.startswith(_UNAVAILABLE_STATES):
                raise
            raise StorageUnavailable(f"the ledger is unavailable: SQLSTATE {state}") from exc

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self._guard(), self._engine.begin() as connection:
            yield connection

    # -- payments -------------------------------------------------------------------------

    async def create_payment(self, payment: Payment) -> None:
        """Insert a new ``PENDING`` payment and its creation event, or raise
        :class:`DuplicateRequest` if the acquirer's request id is taken."""
        insert = payments.insert().values(**payment_row(payment))
        try:
            if self._engine.dialect.name == "postgresql":
                # One statement, so one round trip and atomic without BEGIN and COMMIT: the
                # event is inserted from the row the payment's insert returns.
                created = insert.returning(payments.c.payment_id).cte("created")
                event = payment_events.insert().from_select(
                    ["payment_id", "source", "target", "result_code", "at"],
                    sa.select(
                        created.c.payment_id,
                        sa.null(),
                        sa.literal(payment.status.value),
                        sa.literal(payment.result_code.name),
                        sa.literal(payment.created_at, payment_events.c.at.type),
                    ),
                )
                async with self._guard(), self._reader.connect() as connection:
                    await connection.execute(event)
                return
            async with self._transaction() as connection:
                await connection.execute(insert)
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

    async def unresolved(self, *, before: datetime, limit: int) -> list[Payment]:
        """Payments still PENDING or UNKNOWN that last moved before ``before``, oldest first."""
        query = (
            payments.select()
            .where(
                payments.c.status.in_([PaymentStatus.PENDING.value, PaymentStatus.UNKNOWN.value]),
                payments.c.updated_at < before,
            )
            .order_by(payments.c.updated_at)
            .limit(limit)
        )
        async with self._guard(), self._reader.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [payment_from_row(row) for row in rows]

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
            query = refunds.select().where(refunds.c.refund_id == refund_id)
        elif wallet_refund_id is not None:
            query = refunds.select().where(refunds.c.wallet_refund_id == wallet_refund_id)
        else:
            return None
        async with self._guard(), self._reader.connect() as connection:
            row = (await connection.execute(query)).mappings().first()
        if row is None:
            return None
        return refund_from_row(row, *await self._currencies(str(row["payment_id"])))

    async def close_request(self, acquirer_id: str, payment_request_id: str) -> None:
        """Record that a pay with this request id must never be taken (idempotent)."""
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

    async def is_closed(self, acquirer_id: str, payment_request_id: str) -> bool:
        query = sa.select(closed_requests.c.closed_at).where(
            closed_requests.c.acquirer_id == acquirer_id,
            closed_requests.c.payment_request_id == payment_request_id,
        )
        async with self._guard(), self._reader.connect() as connection:
            return (await connection.execute(query)).first() is not None

    async def find_request(
        self, acquirer_id: str, payment_request_id: str
    ) -> tuple[Payment | None, bool]:
        """The payment an acquirer's request id names, and whether the id is closed, in
        one query (what a pay asks before it takes the id)."""
        closed = (
            sa.exists()
            .where(
                closed_requests.c.acquirer_id == acquirer_id,
                closed_requests.c.payment_request_id == payment_request_id,
            )
            .label("request_closed")
        )
        # Outer-joined to a one-row select, so the answer has a row with or without a payment.
        one = sa.select(sa.literal(1).label("one")).subquery()
        query = sa.select(closed, payments).select_from(
            one.outerjoin(
                payments,
                sa.and_(
                    payments.c.acquirer_id == acquirer_id,
                    payments.c.payment_request_id == payment_request_id,
                ),
            )
        )
        async with self._guard(), self._reader.connect() as connection:
            row = (await connection.execute(query)).mappings().one()
        payment = None if row["payment_id"] is None else payment_from_row(row)
        return payment, bool(row["request_closed"])

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
        values: dict[str, Any] = {
            "status": target.value,
            "updated_at": now,
            "result_code": update.result_code.name,
            "result_message": update.result_message,
        }
        if update.wallet_payment_id is not None:
            values["wallet_payment_id"] = update.wallet_payment_id
        if update.customer_id is not None:
            values["customer_id"] = update.customer_id
        if target.is_final and payment.completed_at is None:
            values["completed_at"] = now
        async with self._transaction() as connection:
            # One round trip: the compare-and-set hands back the moved row.
            row = (
                (
                    await connection.execute(
                        payments.update()
                        .where(
                            payments.c.payment_id == payment.payment_id,
                            payments.c.status == payment.status.value,
                        )
                        .values(**values)
                        .returning(*payments.c)
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                raise ConcurrentUpdate(payment.payment_id, payment.status)
            await connection.execute(
                payment_events.insert().values(
                    payment_id=payment.payment_id,
                    source=payment.status.value,
                    target=target.value,
                    result_code=update.result_code.name,
                    at=now,
                )
            )
            moved = payment_from_row(row)
            # The money moves with the state, in this transaction: a success books the
            # payment, a cancel after success books its exact reversal.
            if target is PaymentStatus.SUCCEEDED:
                await book(connection, payment_postings(moved), now)
            elif payment.status is PaymentStatus.SUCCEEDED and target is PaymentStatus.CANCELLED:
                await reverse_payment(connection, payment.payment_id, now)
            if (
                notification is not None
                and moved.notify_url
                and target in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED)
            ):
                await connection.execute(
                    notifications.insert().values(
                        notification_id=f"N{moved.payment_id}",
                        payment_id=moved.payment_id,
                        acquirer_id=moved.acquirer_id,
                        url=moved.notify_url,
                        body=notification(moved),
                        status="PENDING",
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
        return moved

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
        query = refunds.select().where(
            refunds.c.acquirer_id == acquirer_id,
            refunds.c.refund_request_id == refund_request_id,
        )
        async with self._guard(), self._reader.connect() as connection:
            row = (await connection.execute(query)).mappings().first()
        if row is None:
            return None
        currencies = await self._currencies(str(row["payment_id"]))
        return refund_from_row(row, *currencies)

    async def _currencies(self, payment_id: str) -> tuple[str, str, str]:
        query = sa.select(
            payments.c.currency, payments.c.pay_to_currency, payments.c.settlement_currency
        ).where(payments.c.payment_id == payment_id)
        async with self._guard(), self._reader.connect() as connection:
            row = (await connection.execute(query)).one()
        return row.currency, row.pay_to_currency, row.settlement_currency

    async def transition_refund(
        self,
        refund: Refund,
        target: RefundStatus,
        code: ResultCode,
        message: str,
        *,
        wallet_refund_id: str | None = None,
    ) -> Refund:
        """Move a refund to ``target`` with its event; a failed refund gives its claim back."""
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
                await book(connection, refund_postings(refund, payment_from_row(paid)), now)
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
