"""Translation between Causeway's canonical types and the Alipay+ MPP wire models.

Results are mapped with ``match`` over :class:`ResultStatus`; a status outside S/F/U is
``None`` and, like ``U``, becomes pending: only an explicit ``S`` is ever a success.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import assert_never

from connectors import (
    Amount,
    CancelRequest,
    CancelResult,
    InquireRequest,
    PaymentResult,
    PayRequest,
    QuoteTerms,
    RefundRequest,
    RefundResult,
)
from connectors._time import aware_time
from connectors.alipayplus._wire import (
    CancelResponse,
    InquiryResponse,
    PayBody,
    PaymentRef,
    PaymentStatus,
    PayResponse,
    RefundBody,
    RefundResponse,
    ResultStatus,
    WireAddress,
    WireAmount,
    WireMerchant,
    WireOrder,
    WirePaymentFactor,
    WirePaymentMethod,
    WireQuote,
    WireResult,
    WireStore,
)

__all__ = [
    "cancel_result",
    "inquiry_result",
    "pay_body",
    "pay_result",
    "payment_ref",
    "refund_body",
    "refund_result",
]

#: Failure codes that reject *this request* without saying anything about the payment it
#: names: the payment may well have been charged by an earlier request with the same id, so
#: only an inquiry can tell.
_SILENT_ABOUT_PAYMENT = frozenset({"REPEAT_REQ_INCONSISTENT"})


def _time(value: datetime) -> str:
    # A naive time would be read in the wallet's own zone; the core's clocks are UTC.
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def _amount(amount: Amount) -> WireAmount:
    return WireAmount(currency=amount.currency, value=str(amount.value))


def _quote(quote: QuoteTerms | None) -> WireQuote | None:
    if quote is None:
        return None
    return WireQuote(
        quoteId=quote.quote_id,
        quoteCurrencyPair=f"{quote.base_currency}/{quote.quote_currency}",
        # Fixed-point: str(Decimal) may give "1E+3", which wallets read as garbage.
        quotePrice=format(quote.price, "f"),
        quoteStartTime=_time(quote.start),
        quoteExpiryTime=_time(quote.expiry),
    )


def pay_body(request: PayRequest, psp_id: str) -> PayBody:
    merchant = request.merchant
    store = None
    if merchant.store_id is not None:
        store = WireStore(referenceStoreId=merchant.store_id, storeName=merchant.store_name)
    return PayBody(
        acquirerId=request.acquirer_id,
        pspId=psp_id,
        paymentRequestId=request.wallet_request_id,
        paymentAmount=_amount(request.payment_amount),
        payToAmount=_amount(request.pay_to_amount),
        paymentQuote=_quote(request.quote),
        paymentMethod=WirePaymentMethod(
            paymentMethodType="CONNECT_WALLET", paymentMethodId=request.payment_code
        ),
        order=WireOrder(
            referenceOrderId=request.reference_order_id,
            orderDescription=request.order_description,
            orderAmount=_amount(request.payment_amount),
            merchant=WireMerchant(
                referenceMerchantId=merchant.merchant_id,
                merchantName=merchant.name,
                merchantMCC=merchant.mcc,
                merchantAddress=WireAddress(region=merchant.region),
                store=store,
            ),
        ),
        paymentExpiryTime=None if request.expiry is None else _time(request.expiry),
        paymentFactor=WirePaymentFactor(),
    )


def payment_ref(request: InquireRequest | CancelRequest, psp_id: str) -> PaymentRef:
    return PaymentRef(
        acquirerId=request.acquirer_id, pspId=psp_id, paymentRequestId=request.wallet_request_id
    )


def refund_body(request: RefundRequest, psp_id: str) -> RefundBody:
    return RefundBody(
        acquirerId=request.acquirer_id,
        pspId=psp_id,
        paymentRequestId=request.wallet_request_id,
        paymentId=request.wallet_payment_id,
        refundRequestId=request.refund_request_id,
        refundAmount=_amount(request.refund_amount),
        refundFromAmount=_amount(request.refund_from_amount),
        refundQuote=_quote(request.quote),
        refundReason=request.reason,
    )


def _succeeded(facts: PayResponse) -> PaymentResult:
    return PaymentResult.succeeded(
        wallet_payment_id=facts.paymentId,
        customer_id=facts.customerId,
        paid_at=aware_time(facts.paymentTime),
    )


def _payment(result: WireResult, facts: PayResponse) -> PaymentResult:
    code = result.resultCode
    match result.status:
        case ResultStatus.SUCCESS:
            return _succeeded(facts)
        case ResultStatus.FAILURE if code in _SILENT_ABOUT_PAYMENT:
            return PaymentResult.pending(result.message, wallet_code=code)
        case ResultStatus.FAILURE:
            return PaymentResult.declined(code, result.message, wallet_code=code)
        case ResultStatus.UNKNOWN | None:
            return PaymentResult.pending(result.message, wallet_code=code)
        case unreachable:
            assert_never(unreachable)


def pay_result(body: PayResponse) -> PaymentResult:
    return _payment(body.result, body)


def _from_payment_status(body: InquiryResponse) -> PaymentResult:
    try:
        status: PaymentStatus | None = PaymentStatus(body.paymentStatus or "")
    except ValueError:
        status = None
    match status:
        case PaymentStatus.SUCCESS:
            return _succeeded(body)
        case PaymentStatus.FAIL:
            return PaymentResult.declined("PROCESS_FAIL", "payment failed", wallet_code="FAIL")
        case PaymentStatus.CANCELLED:
            return PaymentResult.declined(
                "ORDER_IS_CLOSED", "payment cancelled", wallet_code="CANCELLED"
            )
        case PaymentStatus.PROCESSING | None:
            return PaymentResult.pending(
                f"payment status {body.paymentStatus!r}", wallet_code=body.paymentStatus
            )
        case unreachable:
            assert_never(unreachable)


def inquiry_result(body: InquiryResponse) -> PaymentResult:
    """``result`` says whether the inquiry worked; ``paymentResult`` is the payment's state."""
    outer = body.result
    match outer.status:
        case ResultStatus.SUCCESS if body.paymentResult is not None:
            return _payment(body.paymentResult, body)
        case ResultStatus.SUCCESS:
            return _from_payment_status(body)
        case ResultStatus.FAILURE if outer.resultCode == "ORDER_NOT_EXIST":
            return PaymentResult.declined(
                "ORDER_NOT_EXIST", outer.message, wallet_code="ORDER_NOT_EXIST"
            )
        case ResultStatus.FAILURE | ResultStatus.UNKNOWN | None:
            # The inquiry itself failed: the payment's state is as unknown as before.
            return PaymentResult.pending(
                f"inquiry failed: {outer.message}", wallet_code=outer.resultCode
            )
        case unreachable:
            assert_never(unreachable)


def cancel_result(body: CancelResponse) -> CancelResult:
    result = body.result
    match result.status:
        case ResultStatus.SUCCESS:
            return CancelResult.succeeded()
        case ResultStatus.FAILURE:
            return CancelResult.declined(result.resultCode, result.message)
        case ResultStatus.UNKNOWN | None:
            return CancelResult.pending(result.message)
        case unreachable:
            assert_never(unreachable)


def refund_result(body: RefundResponse) -> RefundResult:
    result = body.result
    match result.status:
        case ResultStatus.SUCCESS:
            return RefundResult.succeeded(
                wallet_refund_id=body.refundId, refunded_at=aware_time(body.refundTime)
            )
        case ResultStatus.FAILURE:
            return RefundResult.declined(result.resultCode, result.message)
        case ResultStatus.UNKNOWN | None:
            return RefundResult.pending(result.message)
        case unreachable:
            assert_never(unreachable)
