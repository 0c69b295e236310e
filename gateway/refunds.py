"""Refunds: full, partial and several, idempotent by ``refundRequestId``.

A refund claims its amount against the payment *before* the wallet is called, so refunds
can never add up to more than the payment. The amounts in the wallet's and the settlement
currency come from the payment's own quotes (a refund reuses the original price). A wallet
that works out for itself what it gives back in its currency, and says so (WeChat Pay
refunds its share of what it charged, rounded its own way), is booked at what it says: a
refund that succeeded moves what the wallet moved. A refund
whose outcome is unknown is sent again with the same ``refundRequestId`` when the acquirer
retries, as Alipay+ prescribes (there is no refund inquiry in the acquirer API).

A wallet that does not deduplicate refunds (KakaoPay) would pay one sent again twice. If
its connector can ask the wallet (:class:`connectors.RefundInquiry`), a refund whose
outcome is unknown is looked up instead: one the wallet has is recorded as succeeded; one
it provably has not is sent again, but only once its last send is older than
:attr:`gateway.engine.PaymentEngine.late_arrival`, so that no earlier send can still
arrive after the lookup; when the wallet's answer does not tell, the refund stays unknown
for the next try. Without an inquiry such a refund stays unknown, for reconciliation
(``causeway unresolved``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import connectors
from fx import Money
from gateway import wire
from gateway.config import AcquirerConfig
from gateway.coordination import LockBusy
from gateway.engine import (
    PaymentEngine,
    fingerprint,
    in_steps,
    later_of,
    new_id,
    wallet_figure,
)
from gateway.errors import ConcurrentUpdate, RequestRejected
from gateway.models import Payment, Refund
from gateway.results import ResultCode
from gateway.states import PaymentStatus, RefundStatus
from gateway.store import DuplicateRequest, RefundExceedsPayment
from routing import Route

__all__ = ["RefundAnswer", "Refunds"]

log = logging.getLogger("causeway.refunds")


@dataclass(frozen=True, slots=True)
class RefundAnswer:
    code: ResultCode
    message: str
    refund: Refund | None = None
    payment: Payment | None = None


class Refunds:
    """Takes refunds of succeeded payments."""

    def __init__(self, engine: PaymentEngine) -> None:
        self._engine = engine

    async def refund(self, acquirer: AcquirerConfig, request: wire.RefundRequest) -> RefundAnswer:
        amount = request.refundAmount.money()
        if amount.minor <= 0:
            raise RequestRejected(
                ResultCode.PARAM_ILLEGAL, "refundAmount.value: must be above zero"
            )
        store = self._engine.store
        existing = await store.find_refund(acquirer.client_id, request.refundRequestId)
        try:
            payment = await self._engine.find(acquirer, request.paymentRequestId, request.paymentId)
        except RequestRejected:
            if existing is None:
                raise
            # The refund id is taken, by a refund of a payment this request does not name.
            return _inconsistent()
        if amount.currency != payment.amount.currency:
            raise RequestRejected(
                ResultCode.PARAM_ILLEGAL,
                f"refundAmount.currency: must be the payment's currency {payment.amount.currency}",
            )
        digest = fingerprint(
            {"refundAmount": request.refundAmount.model_dump(), "paymentId": payment.payment_id}
        )
        try:
            async with self._engine.payment_lock(payment.acquirer_id, payment.payment_request_id):
                return await self._refund_locked(acquirer, request, payment, digest)
        except LockBusy:
            return RefundAnswer(ResultCode.UNKNOWN_EXCEPTION, "the payment is busy; try again")

    async def _refund_locked(
        self,
        acquirer: AcquirerConfig,
        request: wire.RefundRequest,
        stale: Payment,
        digest: str,
    ) -> RefundAnswer:
        store = self._engine.store
        existing = await store.find_refund(acquirer.client_id, request.refundRequestId)
        if existing is not None:
            if existing.fingerprint != digest:
                return _inconsistent()
            if existing.status.is_final:
                return _answer(existing, stale)
            return await self._send(existing, stale, first=False)
        payment, cancelling, _ = await store.find_request(
            stale.acquirer_id, stale.payment_request_id
        )
        assert payment is not None  # payments are never deleted
        if payment.status is not PaymentStatus.SUCCEEDED:
            return RefundAnswer(
                ResultCode.ORDER_STATUS_INVALID,
                f"only a succeeded payment can be refunded; this one is {payment.status}",
            )
        if cancelling:
            # The wallet may have reversed it already; only its answer to the cancel says.
            return RefundAnswer(
                ResultCode.ORDER_STATUS_INVALID, "the payment is being cancelled; not refunded"
            )
        amount = request.refundAmount.money()
        route = self._engine.router.route_named(payment.route)
        refund_from = in_steps(payment.payment_quote.convert(amount), route)
        remaining = payment.amount - payment.refunded
        if refund_from.is_zero() and amount != remaining:
            # Only the last refund may round to nothing in the wallet's currency: it takes
            # whatever remains there.
            raise RequestRejected(
                ResultCode.PARAM_ILLEGAL,
                f"refundAmount.value: too small to refund in {refund_from.currency}",
            )
        refund = Refund(
            refund_id=new_id("R"),
            payment_id=payment.payment_id,
            acquirer_id=acquirer.client_id,
            refund_request_id=request.refundRequestId,
            fingerprint=digest,
            status=RefundStatus.PENDING,
            result_code=ResultCode.PAYMENT_IN_PROCESS,
            result_message="The refund is being processed.",
            amount=amount,
            refund_from_amount=refund_from,
            settlement_amount=payment.settlement_quote.convert(amount),
            reason=request.refundReason,
            wallet_refund_id=None,
            created_at=datetime.now(UTC),
            completed_at=None,
        )
        try:
            refund = await store.create_refund(refund, payment)
        except RefundExceedsPayment:
            left = payment.amount - payment.refunded
            return RefundAnswer(
                ResultCode.REFUND_AMOUNT_EXCEED,
                f"refundAmount: at most {left.minor} {left.currency} (minor units) is left",
            )
        except DuplicateRequest:
            # Another instance stored this refund id after our lock expired: answer from it.
            stored = await store.find_refund(acquirer.client_id, request.refundRequestId)
            if stored is None or stored.fingerprint != digest:
                return _inconsistent()
            return _answer(stored, payment)
        return await self._send(refund, payment, first=True)

    async def resend(
        self, refund: Refund, payment: Payment, *, now: datetime | None = None
    ) -> RefundAnswer:
        """Send an unresolved refund again, as the acquirer's retry would (the recovery
        worker does this when nobody retries); ``now`` is the recovery's clock."""
        return await self._send(refund, payment, first=False, now=now)

    async def _send(
        self, refund: Refund, payment: Payment, *, first: bool, now: datetime | None = None
    ) -> RefundAnswer:
        """Send (or send again: the wallet deduplicates) the refund and record the answer.

        Only a ``first`` send that never left may fail the refund: a later one failing to
        connect says nothing of an earlier send the wallet may have carried out. A wallet
        that does not deduplicate refunds is never sent one again blindly: it is asked
        first (:meth:`_look_up`), or, when it cannot be asked, left alone.
        """
        route = self._engine.router.route_named(payment.route)
        if not first and not route.connector.capabilities.refunds_deduplicated:
            connector = route.connector
            if not isinstance(connector, connectors.RefundInquiry):
                # The wallet would take it as a second refund: leave it for reconciliation.
                return _answer(refund, payment)
            return await self._look_up(refund, payment, route, connector, now)
        return await self._deliver(refund, payment, route, first=first)

    async def _deliver(
        self, refund: Refund, payment: Payment, route: Route, *, first: bool
    ) -> RefundAnswer:
        connector = route.connector
        try:
            result = await self._engine.call(
                route,
                connector.build_refund,
                connector.parse_refund,
                _wallet_request(refund, payment),
            )
        except connectors.WalletUnreachable as exc:
            result = (
                connectors.RefundResult.declined(
                    "PROCESS_FAIL", "the wallet could not be reached; nothing was refunded"
                )
                if first
                else connectors.RefundResult.pending(str(exc))
            )
        except connectors.ConnectorError as exc:
            result = connectors.RefundResult.pending(str(exc))
        return await self.record_outcome(refund, payment, result)

    async def _look_up(
        self,
        refund: Refund,
        payment: Payment,
        route: Route,
        inquiry: connectors.RefundInquiry,
        now: datetime | None,
    ) -> RefundAnswer:
        """Ask the wallet, which would not deduplicate it, whether it has ``refund``: record
        it if it has; send it again if it provably has not and no earlier send can still
        reach it; otherwise leave it unknown for the next try."""
        store = self._engine.store
        last_sent = await store.refund_last_sent(refund)
        # When the wallet is asked, read before the question leaves: its "not there"
        # counts only if every send came long enough before this to have arrived.
        moment = later_of(now)
        try:
            lookup = await self._engine.call(
                route,
                inquiry.build_inquire_refund,
                inquiry.parse_inquire_refund,
                _wallet_request(refund, payment),
            )
        except connectors.WalletProtocolError as exc:
            # The wallet's records name this refund but disagree with it, or cannot be
            # read: an operator's matter, never a success and never a reason to send again.
            log.warning(
                "refund %s: the wallet's record of it is not usable: %s", refund.refund_id, exc
            )
            lookup = connectors.RefundLookup.unknown(str(exc))
        except connectors.ConnectorError as exc:
            lookup = connectors.RefundLookup.unknown(str(exc))
        match lookup.presence:
            case connectors.RefundPresence.FOUND:
                found = connectors.RefundResult.succeeded(
                    wallet_refund_id=lookup.wallet_refund_id, refunded_at=lookup.refunded_at
                )
                return await self.record_outcome(refund, payment, found)
            case connectors.RefundPresence.UNKNOWN:
                return await self.record_outcome(
                    refund, payment, connectors.RefundResult.pending(lookup.message)
                )
            case connectors.RefundPresence.ABSENT:
                pass
        quiet_since = moment - self._engine.late_arrival
        if last_sent >= quiet_since:
            # The last send may still be on its way: "not there" may mean "not there yet".
            return await self.record_outcome(
                refund, payment, connectors.RefundResult.pending(lookup.message)
            )
        if not await store.claim_refund_resend(refund, at=moment, last_sent_before=quiet_since):
            current = await store.find_refund(refund.acquirer_id, refund.refund_request_id)
            return _answer(current or refund, payment)  # another sender came first
        log.info(
            "refund %s: not at the wallet, last sent %s; sending it again",
            refund.refund_id,
            last_sent.isoformat(),
        )
        return await self._deliver(refund, payment, route, first=False)

    async def record_outcome(
        self, refund: Refund, payment: Payment, result: connectors.RefundResult
    ) -> RefundAnswer:
        """Record what the wallet said about ``refund`` (in an answer or a callback)."""
        if refund.status.is_final:
            return _answer(refund, payment)  # the first final word stands
        given_back = _given_back(refund, payment, result)
        if isinstance(given_back, str):
            # A success we cannot book as the wallet tells it: an operator's matter.
            log.error("refund %s: %s", refund.refund_id, given_back)
            result = connectors.RefundResult.pending(given_back)
            given_back = None
        match result.outcome:
            case connectors.Outcome.SUCCEEDED:
                target, code, message = RefundStatus.SUCCEEDED, ResultCode.SUCCESS, "Success."
            case connectors.Outcome.FAILED:
                code = ResultCode.from_wallet(result.code)
                target, message = RefundStatus.FAILED, result.message or code.message
            case connectors.Outcome.PENDING:
                target, code = RefundStatus.UNKNOWN, ResultCode.UNKNOWN_EXCEPTION
                message = "The refund's outcome is unknown; send the same request again."
        if target is refund.status:
            if result.wallet_refund_id and refund.wallet_refund_id is None:
                # Still unknown, but now with the id its result will name (M-Pesa's
                # ConversationID, when the first send's acknowledgement was lost).
                refund = await self._name_at_wallet(refund, result.wallet_refund_id)
            return _answer(refund, payment)
        try:
            stored = await self._engine.store.transition_refund(
                refund,
                target,
                code,
                message,
                wallet_refund_id=result.wallet_refund_id,
                refund_from_amount=given_back,
            )
        except ConcurrentUpdate:
            fresh = await self._engine.store.find_refund(
                refund.acquirer_id, refund.refund_request_id
            )
            stored = fresh or refund
        return _answer(stored, payment)

    async def _name_at_wallet(self, refund: Refund, wallet_refund_id: str) -> Refund:
        try:
            return await self._engine.store.name_wallet_refund(refund, wallet_refund_id)
        except ConcurrentUpdate:
            fresh = await self._engine.store.find_refund(
                refund.acquirer_id, refund.refund_request_id
            )
            return fresh or refund


def _given_back(
    refund: Refund, payment: Payment, result: connectors.RefundResult
) -> Money | str | None:
    """What a wallet that works out its own refunds says it gave back for ``refund``."""
    if result.outcome is not connectors.Outcome.SUCCEEDED:
        return None
    return wallet_figure(
        result.refund_from_amount,
        refund.refund_from_amount,
        least=0,
        most=payment.pay_to_amount.minor,
    )


def _wallet_request(refund: Refund, payment: Payment) -> connectors.RefundRequest:
    """The refund as its wallet is sent it (and asked about it)."""
    q = payment.payment_quote
    return connectors.RefundRequest(
        refund_request_id=refund.refund_id,
        wallet_request_id=payment.wallet_request_id,
        wallet_payment_id=payment.wallet_payment_id,
        acquirer_id=payment.acquirer_id,
        refund_amount=connectors.Amount(refund.amount.currency, refund.amount.minor),
        refund_from_amount=connectors.Amount(
            refund.refund_from_amount.currency, refund.refund_from_amount.minor
        ),
        quote=connectors.QuoteTerms(q.quote_id, q.base, q.quote, q.price, q.start, q.expiry),
        reason=refund.reason,
        payment_amount=connectors.Amount(payment.amount.currency, payment.amount.minor),
    )


def _inconsistent() -> RefundAnswer:
    code = ResultCode.REPEAT_REQ_INCONSISTENT
    return RefundAnswer(code, code.message)


def _answer(refund: Refund, payment: Payment) -> RefundAnswer:
    if refund.status in (RefundStatus.PENDING, RefundStatus.UNKNOWN):
        return RefundAnswer(
            ResultCode.UNKNOWN_EXCEPTION,
            "The refund's outcome is unknown; send the same request again.",
            refund,
            payment,
        )
    return RefundAnswer(refund.result_code, refund.result_message, refund, payment)
