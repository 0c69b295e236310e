"""Cancels: until 00:15 (UTC+8) the day after, the wallet reverses the payment.

A cancel wins. One that reaches the gateway before its pay closes the request id, so the
pay is refused when it arrives; one that arrives while the pay is with the wallet waits
for it, then reverses it; an unknown outcome can always be cancelled.

A cancel is recorded before it is sent (the request id is closed), and holds the payment
until the wallet answers it: no refund may start meanwhile, and the recovery worker sends
it again, as often as needed, if its answer is lost. Otherwise a reversal the wallet made
but could not report would leave a payment the ledger says succeeded.

A wallet that cannot close an id it never saw (SNAP BI) answers the cancel of a payment
whose pay never reached it "not found". That is not the acquirer's answer: the payment is
ours, and its pay may still arrive and be charged. So the cancel stays under way, answered
as unknown, until no send can arrive any more (``PaymentEngine.late_arrival``); then it
is CANCELLED with nothing to reverse, whether the acquirer's retry or the recovery worker
finds it so.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone

from connectors import Operation
from gateway import wire
from gateway.answers import Answer
from gateway.config import AcquirerConfig
from gateway.coordination import LockBusy
from gateway.engine import PaymentEngine
from gateway.errors import RequestRejected
from gateway.models import Payment
from gateway.results import ResultCode, ResultStatus
from gateway.states import PaymentStatus

__all__ = ["Cancels"]

#: Alipay+ lets a payment be cancelled until 00:15 (UTC+8) on the day after it was made.
_CANCEL_ZONE = timezone(timedelta(hours=8))
_CANCEL_CUTOFF = time(0, 15)


class Cancels:
    """Cancels payments for acquirers."""

    def __init__(self, engine: PaymentEngine) -> None:
        self._engine = engine

    async def cancel(self, acquirer: AcquirerConfig, request: wire.CancelPaymentRequest) -> Answer:
        try:
            payment = await self._engine.find(acquirer, request.paymentRequestId, request.paymentId)
        except RequestRejected as exc:
            if exc.code is not ResultCode.ORDER_NOT_EXIST or not request.paymentRequestId:
                raise
            return await self._close_unseen(acquirer, request.paymentRequestId)
        if payment.status in (PaymentStatus.FAILED, PaymentStatus.CANCELLED):
            return Answer(ResultCode.SUCCESS, "Success.", payment)
        if payment.status is PaymentStatus.SUCCEEDED and datetime.now(UTC) > _cancel_deadline(
            payment.created_at
        ):
            return Answer.of(ResultCode.CANCEL_WINDOW_EXCEED)
        try:
            async with self._engine.payment_lock(payment.acquirer_id, payment.payment_request_id):
                return await self._cancel_locked(payment)
        except LockBusy:
            return Answer.of(ResultCode.UNKNOWN_EXCEPTION, "the payment is busy; try again")

    async def _close_unseen(self, acquirer: AcquirerConfig, payment_request_id: str) -> Answer:
        """Cancel a payment we have not seen (its pay may still be on its way to us).

        The request id is closed for good, so a pay arriving later is refused: a cancel
        wins, whichever reaches the gateway first.
        """
        try:
            async with self._engine.payment_lock(acquirer.client_id, payment_request_id):
                arrived = await self._engine.store.find_payment(
                    acquirer.client_id, payment_request_id
                )
                if arrived is not None:
                    # The pay arrived while we waited for the lock: cancel it as usual.
                    return await self._cancel_locked(arrived)
                await self._engine.store.close_request(acquirer.client_id, payment_request_id)
        except LockBusy:
            return Answer.of(ResultCode.UNKNOWN_EXCEPTION, "the payment is busy; try again")
        return Answer.of(ResultCode.SUCCESS, "Success.")

    async def _cancel_locked(self, stale: Payment) -> Answer:
        payment = await self._engine.store.find_payment(stale.acquirer_id, stale.payment_request_id)
        assert payment is not None  # payments are never deleted
        if payment.status in (PaymentStatus.FAILED, PaymentStatus.CANCELLED):
            return Answer(ResultCode.SUCCESS, "Success.", payment)
        if payment.refunded.minor:
            return Answer.of(
                ResultCode.ORDER_STATUS_INVALID, "the payment has refunds; it cannot be cancelled"
            )
        return await self.send(payment)

    async def send(self, payment: Payment) -> Answer:
        """Record the cancel, send it, and record the wallet's answer. The caller holds the
        payment's lock; the recovery worker calls this again for a cancel left unanswered."""
        store = self._engine.store
        route = self._engine.router.route_named(payment.route)
        if not route.can(Operation.CANCEL):
            return await self._engine.cancel_at_wallet(payment, route)  # refused; nothing sent
        await store.close_request(payment.acquirer_id, payment.payment_request_id)
        answer = await self._engine.cancel_at_wallet(payment, route)
        if answer.code.status is not ResultStatus.UNKNOWN:
            # Cancelled (the payment's state now says so) or refused for good (it stands,
            # and may be refunded): either way the cancel is no longer under way.
            await store.reopen_request(payment.acquirer_id, payment.payment_request_id)
        return answer


def _cancel_deadline(created_at: datetime) -> datetime:
    local = created_at.astimezone(_CANCEL_ZONE)
    next_day = local.date() + timedelta(days=1)
    return datetime.combine(next_day, _CANCEL_CUTOFF, tzinfo=_CANCEL_ZONE)
