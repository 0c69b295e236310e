"""Orders the traveller pays from their own wallet: a merchant's QR code, or a cashier.

``pay`` with ``inStorePaymentScenario = "OrderCode"`` (or ``isCashierPayment``) makes an
*order*: the purchase, an EMVCo QR payload naming it, and an expiry. Nothing is charged
and no wallet is chosen yet. When a wallet claims the order (the traveller scanned it, or
confirmed on the wallet's cashier page), the payment is made — quoted into that wallet's
currency, persisted PENDING — and the wallet is told what to charge. The wallet then
reports the result, which settles the payment like any other.

An order can be claimed once: an expired, cancelled or already claimed order is refused
and moves no money.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from fx import numeric_code
from gateway import wire
from gateway.answers import Answer
from gateway.config import AcquirerConfig
from gateway.coordination import LockBusy
from gateway.engine import PaymentEngine, fingerprint, new_id, purchase
from gateway.errors import RequestRejected
from gateway.models import Order, Payment, Purchase
from gateway.results import ResultCode
from gateway.states import PaymentStatus
from gateway.store import DuplicateRequest
from routing import NoRoute, QrError, Wallet, emvco

__all__ = ["QR_GUID", "Claim", "OrderAnswer", "Orders", "order_qr"]

#: The globally unique identifier of Causeway's merchant account template (field 26.00).
QR_GUID = "io.causeway.order"


@dataclass(frozen=True, slots=True)
class OrderAnswer:
    """The answer to an order-making ``pay``: the order, or why there is none."""

    code: ResultCode
    message: str
    order: Order | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """The answer to a wallet claiming an order: the payment it must charge, or why not."""

    code: ResultCode
    message: str
    payment: Payment | None = None
    order: Order | None = None


def order_qr(order_id: str, bought: Purchase, city: str) -> str:
    """The EMVCo merchant-presented payload of an order (dynamic, with its amount)."""
    amount = bought.amount.to_major()
    return emvco.encode(
        [
            ("00", "01"),
            ("01", "12"),
            ("26", [("00", QR_GUID), ("01", order_id)]),
            ("52", bought.merchant.mcc),
            ("53", numeric_code(bought.amount.currency)),
            ("54", _amount_text(amount)),
            ("58", bought.merchant.region),
            ("59", bought.merchant.name[:25]),
            ("60", city[:15]),
            ("62", [("05", order_id)]),
        ]
    )


def _amount_text(amount: Decimal) -> str:
    # Field 54 carries the amount in major units, with the currency's own decimals.
    return f"{amount:f}"


class Orders:
    """Makes orders for acquirers and lets wallets claim them."""

    def __init__(self, engine: PaymentEngine, *, ttl: timedelta) -> None:
        self._engine = engine
        self._ttl = ttl

    async def create(self, acquirer: AcquirerConfig, request: wire.PayRequest) -> OrderAnswer:
        """Make the order an OrderCode or cashier ``pay`` asks for (idempotently)."""
        if int(request.paymentAmount.value) <= 0:
            raise RequestRejected(
                ResultCode.PARAM_ILLEGAL, "paymentAmount.value: must be above zero"
            )
        wallet = self._cashier_wallet(request)
        key_fields = {
            "paymentAmount": request.paymentAmount.model_dump(),
            "orderAmount": request.order.orderAmount.model_dump(),
            "referenceOrderId": request.order.referenceOrderId,
            "referenceMerchantId": request.order.merchant.referenceMerchantId,
            "scenario": request.paymentFactor.inStorePaymentScenario,
            "cashier": request.paymentFactor.isCashierPayment,
            "wallet": None if wallet is None else wallet.psp_id,
        }
        bought = purchase(acquirer, request, fingerprint(key_fields))
        store = self._engine.store
        try:
            async with self._engine.payment_lock(acquirer.client_id, request.paymentRequestId):
                existing = await store.find_order(acquirer.client_id, request.paymentRequestId)
                if existing is not None:
                    if existing.purchase.fingerprint != bought.fingerprint:
                        return OrderAnswer(
                            ResultCode.REPEAT_REQ_INCONSISTENT,
                            ResultCode.REPEAT_REQ_INCONSISTENT.message,
                        )
                    return self.status(existing)
                paid, closed, _ = await store.find_request(
                    acquirer.client_id, request.paymentRequestId
                )
                if paid is not None:
                    return OrderAnswer(
                        ResultCode.REPEAT_REQ_INCONSISTENT, "the request id names a payment"
                    )
                if closed:
                    return OrderAnswer(ResultCode.ORDER_IS_CLOSED, "the order was cancelled")
                now = datetime.now(UTC)
                order_id = new_id("O")
                order = Order(
                    order_id=order_id,
                    purchase=bought,
                    code_value=order_qr(order_id, bought, _city(request)),
                    expires_at=_expiry(request.paymentExpiryTime, now, self._ttl),
                    created_at=now,
                    wallet=None if wallet is None else wallet.psp_id,
                )
                await store.create_order(order)
                return self.status(order)
        except LockBusy:
            return OrderAnswer(ResultCode.PAYMENT_IN_PROCESS, ResultCode.PAYMENT_IN_PROCESS.message)
        except DuplicateRequest:
            return OrderAnswer(ResultCode.PAYMENT_IN_PROCESS, "the order is being made")

    def status(self, order: Order) -> OrderAnswer:
        """An open order is U (waiting for the traveller); an expired one is closed."""
        if datetime.now(UTC) >= order.expires_at:
            return OrderAnswer(ResultCode.ORDER_IS_CLOSED, "the order has expired", order)
        return OrderAnswer(
            ResultCode.PAYMENT_IN_PROCESS, "Waiting for the traveller to pay.", order
        )

    def _cashier_wallet(self, request: wire.PayRequest) -> Wallet | None:
        if request.paymentFactor.isCashierPayment != "true":
            return None
        try:
            wallet = self._engine.router.identify(
                method_type=request.paymentMethod.paymentMethodType, payment_code=None
            )
            self._engine.router.select(wallet, allowed_regions=request.allowedPspRegions)
        except NoRoute as exc:
            raise RequestRejected(ResultCode.UNAVAILABLE_PAYMENT_METHOD, str(exc)) from exc
        return wallet

    async def claim(self, wallet: Wallet, code_value: str) -> Claim:
        """A wallet claims the order its traveller scanned: make the payment it charges."""
        try:
            fields = emvco.decode(code_value)
        except QrError as exc:
            return Claim(ResultCode.PARAM_ILLEGAL, f"codeValue: {exc}")
        if fields.get("26.00") != QR_GUID or "26.01" not in fields:
            return Claim(ResultCode.ORDER_NOT_EXIST, "codeValue is not a Causeway order code")
        store = self._engine.store
        order = await store.get_order(fields["26.01"])
        if order is None or order.code_value != code_value:
            return Claim(ResultCode.ORDER_NOT_EXIST, "no such order")
        bought = order.purchase
        try:
            async with self._engine.payment_lock(bought.acquirer_id, bought.payment_request_id):
                return await self._claim_locked(wallet, order)
        except LockBusy:
            return Claim(ResultCode.PAYMENT_IN_PROCESS, "the order is busy; try again")

    async def _claim_locked(self, wallet: Wallet, order: Order) -> Claim:
        store = self._engine.store
        bought = order.purchase
        payment, closed, _ = await store.find_request(bought.acquirer_id, bought.payment_request_id)
        if payment is not None:
            if payment.wallet == wallet.psp_id and payment.status is PaymentStatus.PENDING:
                return Claim(ResultCode.SUCCESS, "Success.", payment, order)  # a retry
            return Claim(ResultCode.ORDER_IS_CLOSED, "the order is already paid or closed")
        if closed:
            return Claim(ResultCode.ORDER_IS_CLOSED, "the order was cancelled")
        if datetime.now(UTC) >= order.expires_at:
            return Claim(ResultCode.ORDER_IS_CLOSED, "the order has expired")
        if order.wallet is not None and order.wallet != wallet.psp_id:
            return Claim(ResultCode.ACCESS_DENIED, "the order is for another wallet's cashier")
        try:
            route = self._engine.router.select(wallet)
            payment = await self._engine.open_payment(bought, wallet, route, code_masked="")
        except NoRoute as exc:
            return Claim(ResultCode.UNAVAILABLE_PAYMENT_METHOD, str(exc))
        return Claim(ResultCode.SUCCESS, "Success.", payment, order)

    async def answer_for(self, acquirer: AcquirerConfig, request_id: str) -> Answer | None:
        """For an inquiry: the state of an order not yet claimed, if ``request_id`` is one."""
        order = await self._engine.store.find_order(acquirer.client_id, request_id)
        if order is None:
            return None
        if await self._engine.store.is_closed(acquirer.client_id, request_id):
            return Answer.of(ResultCode.ORDER_IS_CLOSED, "the order was cancelled")
        status = self.status(order)
        return Answer.of(status.code, status.message)


def _expiry(text: str | None, now: datetime, ttl: timedelta) -> datetime:
    if text is None:
        return now + ttl
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise RequestRejected(
            ResultCode.PARAM_ILLEGAL, "paymentExpiryTime: must be ISO 8601 with an offset"
        )
    if moment <= now:
        raise RequestRejected(ResultCode.PARAM_ILLEGAL, "paymentExpiryTime: is in the past")
    return min(moment, now + timedelta(days=1))


def _city(request: wire.PayRequest) -> str:
    address = request.order.merchant.merchantAddress
    if address is not None and address.city:
        return address.city
    return request.order.merchant.merchantName
