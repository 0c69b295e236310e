"""Recovery: every payment whose outcome is unknown is driven to a final state.

A payment stays PENDING or UNKNOWN when the wallet timed out, when the gateway died
between persisting it and hearing back, or when a wallet's report was lost. Nobody has to
inquire for it to end: the recovery worker asks the wallet on the Alipay+ schedule — every
3 s for the first minute, then every 30 s — and, at the deadline, cancels at the wallet.
The payment counts as failed (and the merchant is notified) only once the wallet confirms
the cancel; until then it is tried again. Each payment is worked under its lock, taken
without waiting, so several gateway instances never work on the same payment at once.

A refund left PENDING or UNKNOWN (a timeout, or the gateway died while sending it) is
sent again on the same schedule with the same refund id, which the wallet deduplicates —
what the acquirer's own retry would do. A wallet that does not deduplicate refunds is
asked instead, when its connector can ask (:class:`connectors.RefundInquiry`): the refund
is recorded if the wallet has it, and sent again only if the wallet has not and its last
send is long past (:attr:`gateway.engine.PaymentEngine.late_arrival`). Refunds to a wallet
that neither deduplicates nor can be asked are left out of the sweep, for reconciliation. A
cancel whose answer was lost is sent again too: the wallet may have reversed the payment,
and only its answer says. None of these has a deadline: there is nothing left to cancel,
only a wallet to reach.

A payment past its deadline on a wallet that cannot cancel (M-Pesa, Mojaloop) stays
UNKNOWN and is asked about every 30 s, unless the wallet says it has no record of it: then
it is FAILED once no send of it can still arrive, as on any wallet. The warning says so
once, and ``causeway unresolved`` lists it for an operator to settle with the wallet.
Each sweep reads the next page of each kind, coming back to the first after a page that is
not full, so however many stay unresolved, every one is looked at in turn.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TypeVar

from connectors import Operation, RefundInquiry
from gateway.cancels import Cancels
from gateway.coordination import Cache, LocalCache, LockBusy
from gateway.engine import PaymentEngine
from gateway.models import Payment, Refund
from gateway.refunds import Refunds
from gateway.states import PaymentStatus
from gateway.store import Page, page_end

__all__ = ["Recovery", "RecoveryPolicy"]

Row = TypeVar("Row")

log = logging.getLogger("causeway.recovery")


@dataclass(frozen=True, slots=True)
class RecoveryPolicy:
    """When to ask the wallet, and when to give up and cancel."""

    #: Leave a payment alone this long: its own request is still talking to the wallet.
    grace: timedelta = timedelta(seconds=3)
    #: Inquire every ``early_every`` during ``early_for``, then every ``late_every``.
    early_every: timedelta = timedelta(seconds=3)
    early_for: timedelta = timedelta(seconds=60)
    late_every: timedelta = timedelta(seconds=30)
    #: Cancel at the wallet once a payment is this old (an order: once it has expired).
    deadline: timedelta = timedelta(minutes=5)


class Recovery:
    """One pass per call of :meth:`sweep` (the hub calls it every second beside the API;
    tests pass their own clock).

    When each payment was last asked about (each refund or cancel last sent) is kept in
    ``cache`` — Redis in production — so instances take turns on one schedule instead of
    each asking on its own; the entries lapse by themselves.
    """

    def __init__(
        self,
        engine: PaymentEngine,
        policy: RecoveryPolicy = RecoveryPolicy(),
        *,
        cache: Cache | None = None,
        refunds: Refunds | None = None,
        cancels: Cancels | None = None,
        batch: int = 100,
    ) -> None:
        self._engine = engine
        self._cache = cache or LocalCache()
        self._refunds = refunds or Refunds(engine)
        self._cancels = cancels or Cancels(engine)
        self._policy = policy
        self._batch = batch
        # Where each query's last page ended: each sweep takes the next page, so payments
        # that stay unresolved (a wallet that cannot cancel, one that is down) never hold
        # the first page for good and keep newer ones from being asked about.
        self._pages: dict[str, Page | None] = {}

    async def sweep(self, now: datetime | None = None) -> int:
        """One pass over the unresolved payments, refunds and cancels; returns how many
        became final."""
        moment = now or datetime.now(UTC)
        store = self._engine.store
        before = moment - self._policy.grace
        finished = 0
        for payment in await self._page(
            "payments", partial(store.unresolved, before=before), _payment_page
        ):
            if await self._is_due(payment.payment_id, payment.created_at, moment):
                finished += await self._in_turn(
                    payment, payment.payment_id, payment.created_at, moment, self._drive
                )
        # A refund the wallet would not deduplicate, and cannot be asked about, is never
        # sent again (it waits for reconciliation): left out here, so that such refunds,
        # which stay unresolved and the oldest, do not fill every batch and starve the
        # others. One the wallet can be asked about is looked up on each turn.
        held = [
            route.name
            for route in self._engine.router.routes
            if not route.connector.capabilities.refunds_deduplicated
            and not isinstance(route.connector, RefundInquiry)
        ]
        for refund in await self._page(
            "refunds",
            partial(store.unresolved_refunds, before=before, except_routes=held),
            _refund_page,
        ):
            if not await self._is_due(refund.refund_id, refund.created_at, moment):
                continue  # before reading its payment
            paid = await store.get_payment(refund.acquirer_id, refund.payment_id)
            assert paid is not None  # a refund's payment is never deleted
            finished += await self._in_turn(
                paid, refund.refund_id, refund.created_at, moment, partial(self._resend, refund)
            )
        for payment in await self._page(
            "cancels", partial(store.cancels_under_way, before=before), _payment_page
        ):
            if await self._is_due(payment.payment_id, payment.created_at, moment):
                finished += await self._in_turn(
                    payment, payment.payment_id, payment.created_at, moment, self._cancel_again
                )
        return finished

    async def _page(
        self,
        kind: str,
        query: Callable[..., Awaitable[list[Row]]],
        end: Callable[[Row], Page],
    ) -> list[Row]:
        """The next page of ``query``'s rows for ``kind``, remembering where it ended."""
        rows = await query(limit=self._batch, after=self._pages.get(kind))
        self._pages[kind] = page_end(rows, self._batch, end)
        return rows

    async def _in_turn(
        self,
        payment: Payment,
        key: str,
        created_at: datetime,
        now: datetime,
        work: Callable[[Payment, datetime], Awaitable[bool]],
    ) -> bool:
        """Do ``work`` on ``payment``, whose wallet is due to be asked about ``key`` (the
        payment or its refund), under the payment's lock taken without waiting."""
        try:
            async with self._engine.payment_lock(
                payment.acquirer_id, payment.payment_request_id, wait=0
            ):
                # Again under the lock: another instance may just have had its turn.
                if not await self._is_due(key, created_at, now):
                    return False
                ttl = 2 * self._policy.late_every.total_seconds()
                await self._cache.set(f"recovery:{key}", now.isoformat(), ttl=ttl)
                return await work(payment, now)
        except LockBusy:
            return False  # its own request, or another instance, is working on it

    async def _is_due(self, key: str, created_at: datetime, now: datetime) -> bool:
        asked = await self._cache.get(f"recovery:{key}")
        if asked is None:
            return True
        age = now - created_at
        every = (
            self._policy.early_every if age < self._policy.early_for else self._policy.late_every
        )
        return now - datetime.fromisoformat(asked) >= every

    async def _drive(self, payment: Payment, now: datetime) -> bool:
        engine = self._engine
        current = await engine.resolve(payment, now=now)
        if current.status.is_final:
            return True
        # The order, read only past the usual deadline, can only move it later.
        if now < current.created_at + self._policy.deadline or now < await self._deadline(current):
            return False
        route = engine.router.route_named(current.route)
        if not route.can(Operation.CANCEL):
            if await self._cache.get(f"recovery-stuck:{payment.payment_id}") is None:
                log.warning(
                    "payment %s: unresolved at its deadline, and route %s cannot cancel; "
                    "still asking the wallet (causeway unresolved lists it)",
                    payment.payment_id,
                    route.name,
                )
                await self._cache.set(f"recovery-stuck:{payment.payment_id}", "1", ttl=86_400)
            return False
        log.warning("payment %s: unresolved at its deadline; cancelling", payment.payment_id)
        answer = await engine.cancel_at_wallet(current, route, target=PaymentStatus.FAILED)
        return answer.payment is not None and answer.payment.status.is_final

    async def _resend(self, refund: Refund, payment: Payment, now: datetime) -> bool:
        store = self._engine.store
        current = await store.find_refund(refund.acquirer_id, refund.refund_request_id)
        if current is None or current.status.is_final:
            return False  # finished by the acquirer's retry meanwhile
        answer = await self._refunds.resend(current, payment, now=now)
        return answer.refund is not None and answer.refund.status.is_final

    async def _cancel_again(self, payment: Payment, now: datetime) -> bool:
        current, cancelling, _ = await self._engine.store.find_request(
            payment.acquirer_id, payment.payment_request_id
        )
        if current is None or not cancelling:
            return False  # answered meanwhile
        if current.status is not PaymentStatus.SUCCEEDED:
            return False  # cancelled meanwhile
        answer = await self._cancels.send(current)
        return answer.payment is not None and answer.payment.status is PaymentStatus.CANCELLED

    async def _deadline(self, payment: Payment) -> datetime:
        deadline = payment.created_at + self._policy.deadline
        order = await self._engine.store.find_order(payment.acquirer_id, payment.payment_request_id)
        if order is not None:
            # The traveller may pay until the order expires; the wallet then has a grace.
            deadline = max(deadline, order.expires_at + self._policy.early_for)
        return deadline


def _payment_page(payment: Payment) -> Page:
    return payment.updated_at, payment.payment_id


def _refund_page(refund: Refund) -> Page:
    return refund.created_at, refund.refund_id
