"""The payment engine: pay, inquire and cancel, in the order DESIGN.md gives.

Claim the request id, route, quote, persist ``PENDING``, *then* call the wallet, then
transition with its event. A timeout is an unknown outcome, resolved by inquiry on the same
route, never by charging again. Refunds live in :mod:`gateway.refunds`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

import httpx

import connectors
from fx import AMOUNT_ROUNDING, Direction, FXError, Money
from gateway import wire
from gateway.answers import Answer, payment_result
from gateway.breakers import Breakers
from gateway.config import PAYMENTS_IN_FLIGHT, AcquirerConfig
from gateway.coordination import LockBusy, Locks
from gateway.errors import ConcurrentUpdate, CoordinationUnavailable, RequestRejected
from gateway.metrics import Metrics
from gateway.models import Payment, Purchase, mask_code
from gateway.notifications import notification_body
from gateway.quotes import QuoteBook
from gateway.results import ResultCode
from gateway.states import PaymentStatus
from gateway.store import DuplicateRequest, PaymentUpdate, Store
from routing import (
    ConsultOption,
    NoRoute,
    RetryBudget,
    RetryPolicy,
    Route,
    Router,
    Unsendable,
    Wallet,
)

__all__ = [
    "MAX_MINOR_UNITS",
    "PAYMENTS_IN_FLIGHT",
    "PaymentEngine",
    "fingerprint",
    "in_steps",
    "later_of",
    "new_id",
    "purchase",
    "wallet_figure",
]

log = logging.getLogger("causeway.engine")

_PAYMENT_CODE = re.compile(r"[0-9]{10,64}")
Result = TypeVar("Result")

#: How long a request sent to a wallet may still reach it and be carried out, after the
#: gateway stopped waiting for its answer (one call deadline, ``hub.wallet_timeout_seconds``):
#: a request given up on may still be read, queued and acted on. No wallet is assumed to
#: act on one thirty call deadlines after it was sent (five minutes at the default, the
#: recovery deadline too), long past any HTTP server's or proxy's own timeout; a minute at
#: least, should the deadline be configured short. Until then, a wallet saying it has no
#: such payment or refund may only mean "not yet" (:attr:`PaymentEngine.late_arrival`).
LATE_ARRIVAL_CALL_DEADLINES = 30
LATE_ARRIVAL_AT_LEAST = timedelta(minutes=1)

#: The largest amount the ledger holds, in minor units (a signed 64-bit column).
MAX_MINOR_UNITS = 10**18 - 1


def new_id(prefix: str) -> str:
    """A unique, time-ordered id: ``P20261121063012a1b2c3d4e5f60718``."""
    return f"{prefix}{datetime.now(UTC):%Y%m%d%H%M%S}{secrets.token_hex(8)}"


def fingerprint(fields: Mapping[str, Any]) -> str:
    """A stable digest of a request's key fields, for the idempotency check."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class PaymentEngine:
    """Takes, inquires and cancels payments for acquirers."""

    def __init__(
        self,
        *,
        store: Store,
        router: Router,
        quotes: QuoteBook,
        locks: Locks,
        http: httpx.AsyncClient,
        lock_ttl: float,
        lock_wait: float,
        call_deadline: float,
        retry: RetryPolicy | None = None,
        breakers: Breakers | None = None,
        payments_in_flight: int = PAYMENTS_IN_FLIGHT,
        metrics: Metrics | None = None,
        late_arrival: float | None = None,
    ) -> None:
        self.store = store
        self.router = router
        self.quotes = quotes
        self.locks = locks
        self.http = http
        self.lock_ttl = lock_ttl
        self.lock_wait = lock_wait
        self.call_deadline = call_deadline
        self.retry = retry or RetryPolicy()
        self.breakers = breakers
        self.metrics = metrics or Metrics()
        self._late_arrival = late_arrival
        #: Pays this process takes at once; one more is refused before anything is stored
        #: or sent, so that an overload is answered fast instead of queued until it times out.
        self.payments_in_flight = payments_in_flight
        self._in_flight = 0
        # One per route, made on its first payment; see routing.RetryBudget.
        self.retry_budgets: defaultdict[str, RetryBudget] = defaultdict(RetryBudget)

    @property
    def late_arrival(self) -> timedelta:
        """How long after a request was sent the wallet may still act on it: as
        configured (``[hub] late_arrival_seconds``), else :data:`LATE_ARRIVAL_CALL_DEADLINES`
        call deadlines."""
        if self._late_arrival is not None:
            return timedelta(seconds=self._late_arrival)
        by_deadline = timedelta(seconds=LATE_ARRIVAL_CALL_DEADLINES * self.call_deadline)
        return max(LATE_ARRIVAL_AT_LEAST, by_deadline)

    @property
    def in_flight(self) -> int:
        """Pays this process is taking right now."""
        return self._in_flight

    @property
    def saturated(self) -> bool:
        """Whether this process already takes as many pays as it may: one more is refused."""
        return self._in_flight >= self.payments_in_flight

    def _notification(self, payment: Payment) -> str:
        return notification_body(payment, self.router.wallet(payment.wallet).name)

    def payment_lock(
        self, acquirer_id: str, payment_request_id: str, *, wait: float | None = None
    ) -> AbstractAsyncContextManager[None]:
        """The lock every operation on one payment holds: pay, inquiry, cancel, refund."""
        return self.locks.hold(
            f"payment:{acquirer_id}:{payment_request_id}",
            ttl=self.lock_ttl,
            wait=self.lock_wait if wait is None else wait,
        )

    async def call(
        self,
        route: Route,
        build: Callable[[Any], httpx.Request],
        parse: Callable[[Any, httpx.Response], Result],
        request: Any,
    ) -> Result:
        """Send one request through ``route``'s connector and parse its answer.

        A request the connector cannot build never leaves, so it is reported as
        :class:`routing.Unsendable` — safe to fail, nothing was charged, and not retried.
        """
        try:
            built = build(request)
        except (connectors.WalletTransportError, connectors.WalletProtocolError):
            raise
        except (connectors.ConnectorError, ValueError) as exc:
            raise Unsendable(
                f"the request could not be built: {exc}", connector=route.name
            ) from exc
        operation = build.__name__.removeprefix("build_")  # build_pay → pay
        started = time.perf_counter()
        outcome = "bad_answer"
        try:
            try:
                response = await connectors.exchange(
                    self.http, built, connector=route.name, deadline=self.call_deadline
                )
            except connectors.WalletTransportError as exc:
                outcome = (
                    "unreachable" if isinstance(exc, connectors.WalletUnreachable) else "timeout"
                )
                if self.breakers is not None:
                    await self.breakers.failed(route.name)
                raise
            if self.breakers is not None:
                await self.breakers.succeeded(route.name)
            result = parse(request, response)
            outcome = "answered"
            return result
        finally:
            seconds = time.perf_counter() - started
            self.metrics.wallet_call(route.name, operation, outcome, seconds)

    # -- pay ------------------------------------------------------------------------------

    async def pay(self, acquirer: AcquirerConfig, request: wire.PayRequest) -> Answer:
        code = _check_pay(request)
        if self.saturated:
            # Nothing is stored, locked or sent: the acquirer may retry the same request id.
            return Answer.of(ResultCode.REQUEST_TRAFFIC_EXCEED_LIMIT)
        self._in_flight += 1
        self.metrics.pays_in_flight.inc()
        try:
            return await self._pay(acquirer, request, code)
        finally:
            self._in_flight -= 1
            self.metrics.pays_in_flight.dec()

    async def _pay(self, acquirer: AcquirerConfig, request: wire.PayRequest, code: str) -> Answer:
        key_fields = {
            "paymentAmount": request.paymentAmount.model_dump(),
            "orderAmount": request.order.orderAmount.model_dump(),
            "paymentMethodType": request.paymentMethod.paymentMethodType,
            "scenario": request.paymentFactor.inStorePaymentScenario,
            "settlementCurrency": _settlement_currency(acquirer, request.settlementStrategy),
            "referenceOrderId": request.order.referenceOrderId,
            "referenceMerchantId": request.order.merchant.referenceMerchantId,
            # The code itself is a credential: only its digest goes into the fingerprint.
            "paymentCode": hashlib.sha256(code.encode()).hexdigest(),
        }
        digest = fingerprint(key_fields)
        try:
            async with self.payment_lock(acquirer.client_id, request.paymentRequestId):
                existing, closed, ordered = await self.store.find_request(
                    acquirer.client_id, request.paymentRequestId
                )
                if existing is not None:
                    return _replay(existing, digest)
                if closed:
                    return Answer.of(
                        ResultCode.ORDER_IS_CLOSED, "the payment was cancelled before it arrived"
                    )
                if ordered:  # an order code's traveller pays it, not this request
                    return Answer.of(
                        ResultCode.REPEAT_REQ_INCONSISTENT, "the request id names an order"
                    )
                try:
                    payment, route = await self._open(acquirer, request, code, digest)
                except NoRoute as exc:
                    return Answer.of(ResultCode.UNAVAILABLE_PAYMENT_METHOD, str(exc))
                except FXError as exc:
                    return Answer.of(ResultCode.CURRENCY_NOT_SUPPORT, str(exc))
                return await self._charge(payment, route, code)
        except LockBusy:
            return Answer.of(ResultCode.PAYMENT_IN_PROCESS)
        except CoordinationUnavailable:
            # Nothing new starts without its lock; a request already recorded is answered
            # from the ledger as usual.
            stored = await self.store.find_payment(acquirer.client_id, request.paymentRequestId)
            if stored is None:
                raise
            return _replay(stored, digest)
        except DuplicateRequest:
            # Another instance persisted it after our lock expired: answer from its record.
            stored = await self.store.find_payment(acquirer.client_id, request.paymentRequestId)
            return _replay(stored, digest) if stored else Answer.of(ResultCode.PAYMENT_IN_PROCESS)

    async def _open(
        self, acquirer: AcquirerConfig, request: wire.PayRequest, code: str, digest: str
    ) -> tuple[Payment, Route]:
        """Route, quote and persist the payment as PENDING: nothing has left yet."""
        wallet = self.router.identify(
            method_type=request.paymentMethod.paymentMethodType, payment_code=code
        )
        route = await self._closed_breaker(
            wallet, self.router.select(wallet, allowed_regions=request.allowedPspRegions)
        )
        payment = await self.open_payment(
            purchase(acquirer, request, digest), wallet, route, mask_code(code)
        )
        return payment, route

    async def _closed_breaker(self, wallet: Wallet, chosen: Route) -> Route:
        """The first of ``wallet``'s routes whose breaker is closed, so that the payment is
        recorded on the route it will go through; ``chosen`` if every breaker is open."""
        if self.breakers is not None:
            for route in self.router.candidates(wallet):
                if not await self.breakers.is_open(route.name):
                    return route
        return chosen

    async def open_payment(
        self, bought: Purchase, wallet: Wallet, route: Route, code_masked: str
    ) -> Payment:
        """Quote ``bought`` into the wallet's and the settlement currency and persist it
        as a PENDING payment to ``wallet`` through ``route``."""
        amount = bought.amount
        payment_quote = await self.quotes.quote(amount.currency, wallet.currency, Direction.COLLECT)
        settlement_quote = await self.quotes.quote(
            amount.currency, bought.settlement_currency, Direction.PAY_OUT
        )
        pay_to_amount = in_steps(payment_quote.convert(amount), route)
        settlement_amount = settlement_quote.convert(amount)
        if max(pay_to_amount.minor, settlement_amount.minor) > MAX_MINOR_UNITS:
            raise RequestRejected(
                ResultCode.PARAM_ILLEGAL, "paymentAmount.value: too large once converted"
            )
        now = datetime.now(UTC)
        payment_id = new_id("P")
        payment = Payment(
            payment_id=payment_id,
            acquirer_id=bought.acquirer_id,
            payment_request_id=bought.payment_request_id,
            fingerprint=bought.fingerprint,
            status=PaymentStatus.PENDING,
            result_code=ResultCode.PAYMENT_IN_PROCESS,
            result_message=ResultCode.PAYMENT_IN_PROCESS.message,
            wallet=wallet.psp_id,
            route=route.name,
            wallet_request_id=payment_id,
            payment_code_masked=code_masked,
            amount=amount,
            pay_to_amount=pay_to_amount,
            settlement_amount=settlement_amount,
            payment_quote=payment_quote,
            settlement_quote=settlement_quote,
            merchant=bought.merchant,
            reference_order_id=bought.reference_order_id,
            order_description=bought.order_description,
            notify_url=bought.notify_url,
            refunded=Money(amount.currency, 0),
            wallet_payment_id=None,
            customer_id=None,
            created_at=now,
            updated_at=now,
            completed_at=None,
        )
        await self.store.create_payment(payment)
        return payment

    async def _charge(self, payment: Payment, route: Route, code: str) -> Answer:
        q = payment.payment_quote
        request = connectors.PayRequest(
            wallet_request_id=payment.wallet_request_id,
            acquirer_id=payment.acquirer_id,
            payment_code=code,
            payment_amount=_amount(payment.amount),
            pay_to_amount=_amount(payment.pay_to_amount),
            quote=connectors.QuoteTerms(q.quote_id, q.base, q.quote, q.price, q.start, q.expiry),
            merchant=payment.merchant,
            order_description=payment.order_description,
            reference_order_id=payment.reference_order_id,
        )
        wallet = self.router.wallet(payment.wallet)
        backups = [r for r in self.router.candidates(wallet) if r.name != route.name]
        for candidate in [route, *backups]:
            if self.breakers is not None and await self.breakers.is_open(candidate.name):
                continue  # its wallet keeps failing: nothing is sent there for now
            if candidate is not route:
                # Every earlier route provably never received the request: failing over
                # cannot charge twice. Later inquiries follow the payment to this route.
                payment = await self.store.reroute(payment, candidate.name)
            try:
                result = await self.retry.call(
                    partial(self._pay_through, candidate, request),
                    budget=self.retry_budgets[candidate.name],
                )
            except connectors.WalletUnreachable:
                continue
            except (connectors.WalletTransportError, connectors.WalletProtocolError) as exc:
                return await self.record_outcome(
                    payment, connectors.PaymentResult.pending(str(exc))
                )
            return await self.record_outcome(payment, result)
        # No route could even connect: the wallet cannot have charged, so failing is safe.
        return await self.record_outcome(
            payment,
            connectors.PaymentResult.declined(
                "PROCESS_FAIL", "the wallet could not be reached; nothing was charged"
            ),
        )

    async def _pay_through(
        self, route: Route, request: connectors.PayRequest
    ) -> connectors.PaymentResult:
        return await self.call(route, route.connector.build_pay, route.connector.parse_pay, request)

    async def record_outcome(self, payment: Payment, result: connectors.PaymentResult) -> Answer:
        """Record what the wallet said about ``payment`` and answer accordingly."""
        charged = _charged(payment, result)
        if isinstance(charged, str):
            # A charge we cannot book as the wallet tells it: an operator's matter.
            log.error("payment %s: %s", payment.payment_id, charged)
            result = connectors.PaymentResult.pending(charged)
            charged = None
        match result.outcome:
            case connectors.Outcome.SUCCEEDED:
                target, code, message = PaymentStatus.SUCCEEDED, ResultCode.SUCCESS, "Success."
            case connectors.Outcome.FAILED:
                code = ResultCode.from_wallet(result.code)
                target, message = PaymentStatus.FAILED, result.message or code.message
            case connectors.Outcome.PENDING:
                target, code = PaymentStatus.UNKNOWN, ResultCode.PAYMENT_IN_PROCESS
                message = code.message
        if target is payment.status:
            return _answer(payment)
        update = PaymentUpdate(
            code, message, result.wallet_payment_id, result.customer_id, pay_to_amount=charged
        )
        current = payment
        while True:
            try:
                moved = await self.store.transition_payment(
                    current, target, update, notification=self._notification
                )
                return _answer(moved)
            except ConcurrentUpdate:
                fresh = await self.store.find_payment(
                    payment.acquirer_id, payment.payment_request_id
                )
                assert fresh is not None  # payments are never deleted
            if fresh.status.is_final or fresh.status is target:
                # Someone recorded a final outcome first; theirs stands. A late success
                # against a closed payment is left to the wallet's reversal of the cancel.
                log.warning(
                    "payment %s: wallet said %s after it became %s",
                    payment.payment_id,
                    target,
                    fresh.status,
                )
                return _answer(fresh)
            current = fresh

    # -- inquire --------------------------------------------------------------------------

    async def find(
        self, acquirer: AcquirerConfig, request_id: str | None, payment_id: str | None
    ) -> Payment:
        if request_id:
            payment = await self.store.find_payment(acquirer.client_id, request_id)
            if payment is not None and payment_id and payment.payment_id != payment_id:
                raise RequestRejected(
                    ResultCode.PARAM_ILLEGAL, "paymentId and paymentRequestId name other payments"
                )
        elif payment_id:
            payment = await self.store.get_payment(acquirer.client_id, payment_id)
        else:
            raise RequestRejected(
                ResultCode.PARAM_ILLEGAL, "paymentRequestId or paymentId is required"
            )
        if payment is None:
            raise RequestRejected(ResultCode.ORDER_NOT_EXIST)
        return payment

    async def inquire(
        self, acquirer: AcquirerConfig, request: wire.InquiryPaymentRequest
    ) -> Payment:
        """The payment's state; a payment still unknown is first asked of its wallet."""
        payment = await self.find(acquirer, request.paymentRequestId, request.paymentId)
        if payment.status not in (PaymentStatus.UNKNOWN, PaymentStatus.PENDING):
            return payment
        try:
            async with self.payment_lock(payment.acquirer_id, payment.payment_request_id, wait=0):
                return await self.resolve(payment)
        except LockBusy:
            return payment  # a pay or an inquiry is talking to the wallet right now
        except CoordinationUnavailable:
            return payment  # the recovery worker asks the wallet once Redis is back

    async def resolve(self, payment: Payment, *, now: datetime | None = None) -> Payment:
        """Ask the wallet about a payment whose outcome is unknown, and record the answer
        (``now``: the recovery's clock, which its tests move on)."""
        current = await self.store.find_payment(payment.acquirer_id, payment.payment_request_id)
        if current is None or current.status not in (PaymentStatus.UNKNOWN, PaymentStatus.PENDING):
            return current or payment
        order = await self.store.find_order(current.acquirer_id, current.payment_request_id)
        if order is not None and datetime.now(UTC) < order.expires_at:
            # The traveller is paying in their wallet, which reports the result; until the
            # order expires, a wallet that has not heard of it yet is no reason to close it.
            return current
        route = self.router.route_named(current.route)
        request = connectors.InquireRequest(
            current.wallet_request_id, current.acquirer_id, current.wallet_payment_id
        )
        try:
            result = await self.call(
                route, route.connector.build_inquire, route.connector.parse_inquire, request
            )
        except connectors.ConnectorError:
            return current
        if result.outcome is connectors.Outcome.FAILED and result.code == "ORDER_NOT_EXIST":
            # The wallet has not seen the pay (or not yet): close the request id there, so
            # a late arrival cannot charge, and count the payment closed only once the
            # wallet confirms the cancel, or once no send of it can arrive any more. A
            # wallet that cannot cancel (Mojaloop) has nothing to close: only the second.
            if route.can(connectors.Operation.CANCEL):
                closed = await self.cancel_at_wallet(
                    current, route, target=PaymentStatus.FAILED, now=now
                )
            else:
                closed = await self._never_arrived(current, now)
            return closed.payment or current
        answer = await self.record_outcome(current, result)
        return answer.payment or current

    async def _never_arrived(self, payment: Payment, now: datetime | None) -> Answer:
        """Close a payment its wallet has no record of and cannot close either (SNAP BI
        answers "not found" to the cancel of an id it never saw, where Alipay+ closes it).

        Until :attr:`late_arrival` has passed since the pay was sent, it may still arrive
        and be charged: the payment stays as it is, and the cancel is answered as unknown,
        to be sent again. After that, no send of it can arrive any more, so it never will
        be charged: it is closed with nothing to reverse. It is CANCELLED if the acquirer
        asked for the cancel (its request id is closed: the cancel is under way, whether
        the acquirer or the recovery worker sends it now), else FAILED, and the merchant
        is notified as of any failure.
        """
        if later_of(now) < payment.created_at + self.late_arrival:
            return Answer.of(
                ResultCode.UNKNOWN_EXCEPTION,
                "the wallet has not seen the payment yet; send the same cancel again",
            )
        if await self.store.is_closed(payment.acquirer_id, payment.payment_request_id):
            target, closing = PaymentStatus.CANCELLED, "cancelled"
        else:
            target, closing = PaymentStatus.FAILED, "closed"
        log.warning(
            "payment %s: the wallet has no record of it %s after it was sent; making it %s",
            payment.payment_id,
            self.late_arrival,
            target,
        )
        update = PaymentUpdate(
            ResultCode.ORDER_IS_CLOSED, f"The payment was {closing}: the wallet never received it."
        )
        try:
            stored = await self.store.transition_payment(
                payment, target, update, notification=self._notification
            )
        except ConcurrentUpdate:
            fresh = await self.store.find_payment(payment.acquirer_id, payment.payment_request_id)
            assert fresh is not None  # payments are never deleted
            if fresh.status not in (PaymentStatus.FAILED, PaymentStatus.CANCELLED):
                # A late success was recorded first: it is cancelled as any other, by
                # sending the cancel again (the wallet reverses it).
                return Answer.of(
                    ResultCode.UNKNOWN_EXCEPTION,
                    "the wallet has just reported the payment; send the same cancel again",
                )
            stored = fresh
        return Answer(ResultCode.SUCCESS, "Success.", stored)

    # -- cancel ---------------------------------------------------------------------------

    async def reverse_at_wallet(self, payment: Payment) -> connectors.CancelResult:
        """Make the wallet undo a charge the ledger already counts as not made; the
        payment's record does not move (it is final)."""
        route = self.router.route_named(payment.route)
        request = connectors.CancelRequest(
            payment.wallet_request_id, payment.acquirer_id, payment.wallet_payment_id
        )
        try:
            return await self.call(
                route, route.connector.build_cancel, route.connector.parse_cancel, request
            )
        except connectors.ConnectorError as exc:
            log.error(
                "payment %s: the wallet's reversal is unconfirmed: %s", payment.payment_id, exc
            )
            return connectors.CancelResult.pending(str(exc))

    async def cancel_at_wallet(
        self,
        payment: Payment,
        route: Route,
        *,
        target: PaymentStatus = PaymentStatus.CANCELLED,
        now: datetime | None = None,
    ) -> Answer:
        """Cancel at the wallet (reversing any charge) and record it once confirmed.

        A cancel the acquirer asked for makes the payment ``CANCELLED`` (its answer tells
        the acquirer). One the gateway makes to close a payment it could not complete — at
        the recovery deadline, or because the wallet never saw it — makes it ``FAILED``,
        which the merchant is notified of like any other failure.

        A wallet that answers "not found" to the cancel of a payment whose outcome we do
        not know has not seen its pay, or not yet: see :meth:`_never_arrived` (``now``:
        the recovery's clock, as for :meth:`resolve`). "Not found" for a payment the
        wallet said it charged stays the wallet's refusal.

        A route that cannot cancel is answered so at once, as a final refusal: nothing is
        sent, and the payment stands as it is.
        """
        if not route.can(connectors.Operation.CANCEL):
            return Answer.of(
                ResultCode.ORDER_STATUS_INVALID, f"{payment.wallet} cannot cancel a payment"
            )
        request = connectors.CancelRequest(
            payment.wallet_request_id, payment.acquirer_id, payment.wallet_payment_id
        )
        try:
            result = await self.call(
                route, route.connector.build_cancel, route.connector.parse_cancel, request
            )
        except connectors.ConnectorError:
            return Answer.of(ResultCode.UNKNOWN_EXCEPTION, "the wallet did not confirm the cancel")
        match result.outcome:
            case connectors.Outcome.SUCCEEDED:
                message = (
                    "The payment was cancelled."
                    if target is PaymentStatus.CANCELLED
                    else "The payment was closed: the wallet did not complete it in time."
                )
                stored = await self.store.transition_payment(
                    payment,
                    target,
                    PaymentUpdate(ResultCode.ORDER_IS_CLOSED, message),
                    notification=self._notification,
                )
                return Answer(ResultCode.SUCCESS, "Success.", stored)
            case connectors.Outcome.FAILED if (
                result.code == "ORDER_NOT_EXIST" and not payment.status.is_final
            ):
                return await self._never_arrived(payment, now)
            case connectors.Outcome.FAILED:
                return Answer.of(ResultCode.from_wallet(result.code), result.message)
            case connectors.Outcome.PENDING:
                return Answer.of(ResultCode.UNKNOWN_EXCEPTION, result.message)

    # -- consult --------------------------------------------------------------------------

    async def consult(self, request: wire.ConsultPaymentRequest) -> list[ConsultOption]:
        """Every wallet, and whether it can take a payment of this currency and region."""
        currency = request.paymentAmount.currency
        options = []
        for option in self.router.consult(
            allowed_regions=request.allowedPspRegions, user_region=request.userRegion
        ):
            if option.enabled and not await self._quotable(currency, option.wallet.currency):
                option = ConsultOption(option.wallet, False, "CURRENCY_NOT_SUPPORT")
            options.append(option)
        return options

    async def _quotable(self, base: str, quote: str) -> bool:
        try:
            await self.quotes.quote(base, quote, Direction.COLLECT)
        except FXError:
            return False
        return True


def _check_pay(request: wire.PayRequest) -> str:
    """The payment code, once the request is known to be a user-presented payment."""
    scenario = request.paymentFactor.inStorePaymentScenario
    if scenario != "PaymentCode":
        raise RequestRejected(
            ResultCode.PARAM_ILLEGAL,
            f"paymentFactor.inStorePaymentScenario: {scenario!r} is not supported; "
            "use PaymentCode, OrderCode, or isCashierPayment",
        )
    code = request.paymentMethod.paymentMethodId
    if not code or not _PAYMENT_CODE.fullmatch(code):
        raise RequestRejected(
            ResultCode.PARAM_ILLEGAL,
            "paymentMethod.paymentMethodId: the payment code is required, as 10 to 64 digits",
        )
    amount, order_amount = request.paymentAmount, request.order.orderAmount
    if int(amount.value) > int(order_amount.value):
        raise RequestRejected(
            ResultCode.PARAM_ILLEGAL, "paymentAmount.value: must not exceed order.orderAmount"
        )
    if int(amount.value) <= 0:
        raise RequestRejected(ResultCode.PARAM_ILLEGAL, "paymentAmount.value: must be above zero")
    if order_amount.currency != amount.currency:
        raise RequestRejected(
            ResultCode.PARAM_ILLEGAL,
            "order.orderAmount.currency: must be the paymentAmount's currency",
        )
    return code


def in_steps(amount: Money, route: Route) -> Money:
    """``amount`` rounded to what the wallet can move (M-Pesa: whole shillings).

    Half up, like every conversion: the wallet is charged the nearest amount it can take.
    """
    step = route.connector.capabilities.amount_step
    if step == 1:
        return amount
    steps = (Decimal(amount.minor) / step).quantize(Decimal(1), rounding=AMOUNT_ROUNDING)
    return Money(amount.currency, int(steps) * step)


def purchase(acquirer: AcquirerConfig, request: wire.PayRequest, digest: str) -> Purchase:
    """The purchase a pay request describes."""
    merchant = request.order.merchant
    region = merchant.merchantAddress.region if merchant.merchantAddress else None
    return Purchase(
        acquirer_id=acquirer.client_id,
        payment_request_id=request.paymentRequestId,
        fingerprint=digest,
        amount=request.paymentAmount.money(),
        settlement_currency=_settlement_currency(acquirer, request.settlementStrategy),
        merchant=connectors.Merchant(
            merchant_id=merchant.referenceMerchantId,
            name=merchant.merchantName,
            mcc=merchant.merchantMCC,
            region=region or acquirer.region,
            store_id=merchant.store.referenceStoreId if merchant.store else None,
            store_name=merchant.store.storeName if merchant.store else None,
        ),
        reference_order_id=request.order.referenceOrderId,
        order_description=request.order.orderDescription,
        notify_url=request.paymentNotifyUrl,
    )


def _settlement_currency(acquirer: AcquirerConfig, strategy: wire.SettlementStrategy | None) -> str:
    if strategy is not None and strategy.settlementCurrency:
        return strategy.settlementCurrency
    return acquirer.settlement_currency


def _amount(money: Money) -> connectors.Amount:
    return connectors.Amount(money.currency, money.minor)


def _replay(payment: Payment, digest: str) -> Answer:
    if payment.fingerprint != digest:
        return Answer.of(ResultCode.REPEAT_REQ_INCONSISTENT)
    return _answer(payment)


def later_of(now: datetime | None) -> datetime:
    """The later of the caller's clock (``now``: recovery's, which its tests move on) and
    the real one: a send counts as unable to arrive only once both say so."""
    return max(now or datetime.now(UTC), datetime.now(UTC))


def wallet_figure(
    said: connectors.Amount | None, ours: Money, *, least: int, most: int
) -> Money | str | None:
    """An amount a wallet says it moved, to book in place of ``ours``, the one it was sent
    (``None``: it did not say), or why it cannot be booked: it is in another currency, or
    not within ``least`` and ``most`` minor units."""
    if said is None:
        return None
    if said.currency != ours.currency or not least <= said.value <= most:
        return f"the wallet says it moved {said} where it was sent {ours.minor} {ours.currency}"
    return Money(said.currency, said.value)


def _charged(payment: Payment, result: connectors.PaymentResult) -> Money | str | None:
    """What a wallet that converts at its own rate says it charged for ``payment``."""
    if result.outcome is not connectors.Outcome.SUCCEEDED:
        return None
    return wallet_figure(result.pay_to_amount, payment.pay_to_amount, least=1, most=MAX_MINOR_UNITS)


def _answer(payment: Payment) -> Answer:
    """The pay answer a payment's record stands for."""
    code, message = payment_result(payment)
    return Answer(code, message, payment)
