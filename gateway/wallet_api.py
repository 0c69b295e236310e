"""The hub's wallet-facing API, in the Alipay+ wallet (MPP) form.

Wallets on the Alipay+ protocol call the hub, signed with their own keys, for the flows
where the traveller acts in their wallet:

- ``userInitiatedPay``: the traveller scanned a merchant's order code (or confirmed on the
  wallet's cashier page); the hub makes the payment and answers with what to charge, in
  the wallet's currency, and the quote;
- ``notifyPayment``: the wallet reports the result. Reports are applied idempotently:
  a duplicate changes nothing, a success arriving after the payment was cancelled or
  failed is answered by making the wallet reverse it (a cancel wins), and a failure never
  overturns a success.

Wallets on other protocols will reach the hub through their connector's inbound route.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

import connectors
from connectors import RsaVerifier
from gateway import wire
from gateway.coordination import LockBusy
from gateway.engine import PaymentEngine
from gateway.models import Payment
from gateway.orders import Claim, Orders
from gateway.refunds import Refunds
from gateway.results import ResultCode
from gateway.states import PaymentStatus
from gateway.wire import amount_json, compact, quote_json, result_json
from routing import NoRoute, Route, Wallet

__all__ = ["WalletClient", "connector_callback", "notify_payment", "user_initiated_pay"]

log = logging.getLogger("causeway.wallet_api")


@dataclass(frozen=True, slots=True)
class WalletClient:
    """A wallet allowed to call the hub, with the verifier of its signatures."""

    wallet: Wallet
    verifier: RsaVerifier = field(repr=False)


def _claim_json(claim: Claim) -> dict[str, Any]:
    document: dict[str, Any] = {"result": result_json(claim.code, claim.message)}
    payment, order = claim.payment, claim.order
    if payment is None or order is None:
        return document
    merchant = payment.merchant
    document.update(
        compact(
            {
                "acquirerId": payment.acquirer_id,
                "pspId": payment.wallet,
                "paymentRequestId": payment.wallet_request_id,
                "paymentAmount": amount_json(payment.amount),
                "payToAmount": amount_json(payment.pay_to_amount),
                "paymentQuote": quote_json(payment.payment_quote),
                "paymentExpiryTime": order.expires_at.isoformat(),
                "order": {
                    "referenceOrderId": payment.reference_order_id,
                    "orderDescription": payment.order_description,
                    "orderAmount": amount_json(payment.amount),
                    "merchant": compact(
                        {
                            "referenceMerchantId": merchant.merchant_id,
                            "merchantName": merchant.name,
                            "merchantMCC": merchant.mcc,
                            "merchantAddress": {"region": merchant.region},
                        }
                    ),
                },
            }
        )
    )
    return document


async def user_initiated_pay(orders: Orders, client: WalletClient, body: bytes) -> dict[str, Any]:
    request = wire.parse(wire.UserInitiatedPayRequest, body)
    return _claim_json(await orders.claim(client.wallet, request.codeValue))


async def notify_payment(
    engine: PaymentEngine, client: WalletClient, body: bytes
) -> dict[str, Any]:
    request = wire.parse(wire.WalletNotifyPaymentRequest, body)
    payment = await engine.store.find_by_wallet_request(request.paymentRequestId)
    if payment is None:
        return {"result": result_json(ResultCode.ORDER_NOT_EXIST)}
    if payment.wallet != client.wallet.psp_id:
        return {"result": result_json(ResultCode.ACCESS_DENIED, "not this wallet's payment")}
    if request.payToAmount is not None and request.payToAmount.money() != payment.pay_to_amount:
        return {
            "result": result_json(
                ResultCode.PARAM_ILLEGAL, "payToAmount: differs from what the hub asked"
            )
        }
    status = request.paymentResult.resultStatus
    if status == "U":
        return {"result": result_json(ResultCode.SUCCESS)}  # nothing final to apply yet
    try:
        async with engine.payment_lock(payment.acquirer_id, payment.payment_request_id):
            current = await engine.store.find_by_wallet_request(request.paymentRequestId)
            assert current is not None  # payments are never deleted
            if status == "S":
                result = connectors.PaymentResult.succeeded(
                    wallet_payment_id=request.paymentId, customer_id=request.customerId
                )
            else:
                code = request.paymentResult.resultCode
                result = connectors.PaymentResult.declined(
                    code, request.paymentResult.resultMessage or code, wallet_code=code
                )
            await _apply(engine, current, result)
    except LockBusy:
        return {"result": result_json(ResultCode.UNKNOWN_EXCEPTION, "busy; send it again")}
    return {"result": result_json(ResultCode.SUCCESS)}


async def _apply(engine: PaymentEngine, payment: Payment, result: connectors.PaymentResult) -> None:
    match payment.status:
        case PaymentStatus.PENDING | PaymentStatus.UNKNOWN:
            await engine.record_outcome(payment, result)
        case PaymentStatus.CANCELLED | PaymentStatus.FAILED if (
            result.outcome is connectors.Outcome.SUCCEEDED
        ):
            # A cancel wins: the wallet charged a payment we had closed, so it must reverse.
            log.warning(
                "payment %s: wallet reported success after %s; reversing",
                payment.payment_id,
                payment.status,
            )
            await engine.reverse_at_wallet(payment)
        case _:
            # A duplicate, or a failure reported after a success: the first final word stands.
            pass


async def connector_callback(
    engine: PaymentEngine, refunds: Refunds, route_name: str, request: httpx.Request
) -> httpx.Response:
    """A wallet on its own protocol calls back (``POST /wallets/{route}/notify``).

    The route's connector verifies and parses the callback and says how to acknowledge.
    A payment callback is only a hint: the hub asks the wallet (an inquiry, by the ids it
    kept) before recording a result, because not every protocol authenticates its
    callbacks. A refund callback is recorded as it says, since refunds have no inquiry.
    """
    try:
        route = engine.router.route_named(route_name)
    except NoRoute:
        return httpx.Response(404)
    connector = route.connector
    if not isinstance(connector, connectors.NotificationParser):
        return httpx.Response(404)
    try:
        note = connector.parse_notification(request)
    except connectors.WalletProtocolError as exc:
        log.warning("route %s: callback refused: %s", route_name, exc)
        return connector.acknowledge(None)
    if note.payment is not None:
        await _payment_callback(engine, route, note)
    elif note.refund is not None:
        await _refund_callback(engine, refunds, note)
    return connector.acknowledge(note)


async def _payment_callback(
    engine: PaymentEngine, route: Route, note: connectors.WalletNotification
) -> None:
    payment = None
    if note.wallet_request_id:
        payment = await engine.store.find_by_wallet_request(note.wallet_request_id)
    if payment is None and note.wallet_payment_id:
        payment = await engine.store.find_by_wallet_payment_id(route.name, note.wallet_payment_id)
    if payment is None or payment.route != route.name:
        log.warning("route %s: a callback names no payment of this route", route.name)
        return
    assert note.payment is not None
    if note.wallet_payment_id and payment.wallet_payment_id is None:
        await _learn_wallet_id(engine, payment, note.wallet_payment_id)
    try:
        async with engine.payment_lock(payment.acquirer_id, payment.payment_request_id):
            current = await engine.store.find_by_wallet_request(payment.wallet_request_id)
            assert current is not None  # payments are never deleted
            if current.status in (PaymentStatus.PENDING, PaymentStatus.UNKNOWN):
                current = await engine.resolve(current)
            else:
                await _apply(engine, current, note.payment)
            await _rename(engine, current, note)
    except LockBusy:
        log.info("payment %s: busy; the callback is left to the inquiry", payment.payment_id)


async def _learn_wallet_id(engine: PaymentEngine, payment: Payment, wallet_payment_id: str) -> None:
    """Keep the wallet's id a callback names an unresolved payment by, when the pay's
    answer that carried it was lost: without it, a wallet that is asked by its own id only
    (M-Pesa's ``CheckoutRequestID``) cannot be asked at all. Done before the payment's lock
    is taken, so that a callback arriving while the pay still waits for that answer leaves
    the id for recovery's inquiry."""
    if await engine.store.name_wallet_payment(payment, wallet_payment_id):
        log.info("payment %s: its callback gives the wallet's id for it", payment.payment_id)


async def _rename(
    engine: PaymentEngine, payment: Payment, note: connectors.WalletNotification
) -> None:
    """Keep the newer id a callback's success names the payment by, once the payment has
    succeeded (confirmed by the wallet, not by the callback alone).

    M-Pesa's push answers with a ``CheckoutRequestID``, the only id its query takes, and
    its callback names the paid push by its receipt, the only id a reversal takes, while
    its query never gives the receipt. A succeeded payment is not queried again, so from
    then on it is known by the receipt. Only the id the callback is keyed by (or none) is
    replaced, and only once, so a later callback cannot rename it again.
    """
    assert note.payment is not None
    newer = note.payment.wallet_payment_id
    if (
        payment.status is not PaymentStatus.SUCCEEDED
        or note.payment.outcome is not connectors.Outcome.SUCCEEDED
        or not newer
        or newer == payment.wallet_payment_id
        or payment.wallet_payment_id not in (None, note.wallet_payment_id)
    ):
        return
    if await engine.store.rename_wallet_payment(payment, newer):
        log.info("payment %s: the wallet now names it %s", payment.payment_id, newer)


async def _refund_callback(
    engine: PaymentEngine, refunds: Refunds, note: connectors.WalletNotification
) -> None:
    refund = await engine.store.get_refund(
        note.refund_request_id, wallet_refund_id=note.wallet_refund_id
    )
    if refund is None:
        log.warning("a refund callback names no refund")
        return
    payment = await engine.store.get_payment(refund.acquirer_id, refund.payment_id)
    assert payment is not None
    assert note.refund is not None
    try:
        async with engine.payment_lock(payment.acquirer_id, payment.payment_request_id):
            fresh = await engine.store.get_refund(refund.refund_id)
            assert fresh is not None
            await refunds.record_outcome(fresh, payment, note.refund)
    except LockBusy:
        log.info("refund %s: busy; the wallet will call back again", refund.refund_id)
