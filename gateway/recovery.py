"""Recovery: every payment whose outcome is unknown is driven to a final state.

A payment stays PENDING or UNKNOWN when the wallet timed out, when the gateway died
between persisting it and hearing back, or when a wallet's report was lost. Nobody has to
inquire for it to end: the recovery worker asks the wallet on the Alipay+ schedule — every
3 s for the first minute, then every 30 s — and, at the deadline, cancels at the wallet.
A payment counts as closed only once the wallet confirms the cancel; until then it is
tried again. Each payment is worked under its lock, taken without waiting, so several
gateway instances never work on the same payment at once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gateway.coordination import LockBusy
from gateway.engine import PaymentEngine
from gateway.models import Payment
from gateway.states import PaymentStatus

__all__ = ["Recovery", "RecoveryPolicy"]

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
    """Run :meth:`run` beside the API, or call :meth:`sweep` (tests pass their own clock)."""

    def __init__(
        self,
        engine: PaymentEngine,
        policy: RecoveryPolicy = RecoveryPolicy(),
        *,
        poll_seconds: float = 1.0,
        batch: int = 100,
    ) -> None:
        self._engine = engine
        self._policy = policy
        self._poll_seconds = poll_seconds
        self._batch = batch
        # When each payment was last asked about here; lost on restart, which only means
        # the wallet is asked again sooner.
        self._asked: dict[str, datetime] = {}

    async def run(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("recovery sweep failed; trying again")
            await asyncio.sleep(self._poll_seconds)

    async def sweep(self, now: datetime | None = None) -> int:
        """One pass over the unresolved payments; returns how many became final."""
        moment = now or datetime.now(UTC)
        due = await self._engine.store.unresolved(
            before=moment - self._policy.grace, limit=self._batch
        )
        # Forget payments that are no longer unresolved (finished here, by an inquiry, or
        # by another instance), so the memory of when each was asked stays bounded.
        live = {payment.payment_id for payment in due}
        self._asked = {pid: at for pid, at in self._asked.items() if pid in live}
        finished = 0
        for payment in due:
            if self._is_due(payment, moment) and await self._drive(payment, moment):
                finished += 1
        return finished

    def _is_due(self, payment: Payment, now: datetime) -> bool:
        asked = self._asked.get(payment.payment_id)
        if asked is None:
            return True
        age = now - payment.created_at
        every = (
            self._policy.early_every if age < self._policy.early_for else self._policy.late_every
        )
        return now - asked >= every

    async def _drive(self, payment: Payment, now: datetime) -> bool:
        engine = self._engine
        try:
            async with engine.payment_lock(payment.acquirer_id, payment.payment_request_id, wait=0):
                self._asked[payment.payment_id] = now
                current = await engine.resolve(payment)
                if current.status.is_final:
                    return True
                if now < await self._deadline(current):
                    return False
                log.warning(
                    "payment %s: unresolved at its deadline; cancelling", payment.payment_id
                )
                route = engine.router.route_named(current.route)
                answer = await engine.cancel_at_wallet(current, route)
                return answer.payment is not None and answer.payment.status in (
                    PaymentStatus.CANCELLED,
                    PaymentStatus.FAILED,
                )
        except LockBusy:
            return False  # its own request, or another instance, is working on it

    async def _deadline(self, payment: Payment) -> datetime:
        deadline = payment.created_at + self._policy.deadline
        order = await self._engine.store.find_order(payment.acquirer_id, payment.payment_request_id)
        if order is not None:
            # The traveller may pay until the order expires; the wallet then has a grace.
            deadline = max(deadline, order.expires_at + self._policy.early_for)
        return deadline
