"""Translation between Causeway's canonical types and the SNAP BI wire models.

Results are decided by :func:`~connectors.snapbi._codes.verdict` and, for an inquiry, by
:class:`TransactionStatus`, each with ``match`` and ``assert_never``: only ``200xx00`` (and,
in an inquiry, status ``00`` or ``04``) is ever a success; anything unplaced is pending.
"""

from __future__ import annotations

from typing import assert_never

from connectors import (
    Amount,
    CancelRequest,
    CancelResult,
    InquireRequest,
    PaymentResult,
    PayRequest,
    RefundRequest,
    RefundResult,
)
from connectors._time import aware_time
from connectors.snapbi._codes import (
    Verdict,
    cancel_decline,
    payment_decline,
    refund_decline,
    verdict,
)
from connectors.snapbi._signature import jakarta_time
from connectors.snapbi._wire import (
    CancelBody,
    CancelResponse,
    PayAdditionalInfo,
    PayBody,
    PayResponse,
    RefundBody,
    RefundResponse,
    ResponseCode,
    StatusBody,
    StatusResponse,
    TransactionStatus,
    WireAmount,
    WireExchangeRate,
    WireInternationalOrder,
    WireOrder,
    decimal_value,
)

__all__ = [
    "cancel_body",
    "cancel_result",
    "inquiry_result",
    "pay_body",
    "pay_result",
    "refund_body",
    "refund_result",
    "status_body",
]


def _amount(amount: Amount) -> WireAmount:
    return WireAmount(value=decimal_value(amount), currency=amount.currency)


def pay_body(request: PayRequest, merchant_id: str) -> PayBody:
    quote = request.quote
    rate = None
    if quote is not None:
        # Fixed-point: str(Decimal) may give "1E+2", which no wallet reads as a rate.
        relation = f"{quote.base_currency}/{quote.quote_currency}"
        rate = WireExchangeRate(rate=format(quote.price, "f"), exchangeRelation=relation)
    merchant = request.merchant
    return PayBody(
        partnerReferenceNo=request.wallet_request_id,
        merchantId=merchant_id,
        amount=_amount(request.pay_to_amount),
        validUpTo=None if request.expiry is None else jakarta_time(request.expiry),
        additionalInfo=PayAdditionalInfo(
            mcc=merchant.mcc,
            order=WireOrder(
                orderTitle=request.order_description,
                orderMemo=f"{merchant.name} ({merchant.region})",
                internationalOrderInfo=WireInternationalOrder(
                    originOrderAmount=_amount(request.payment_amount),
                    exchangeRate=rate,
                    totalAmount=_amount(request.pay_to_amount),
                ),
            ),
        ),
    )


def status_body(request: InquireRequest, merchant_id: str) -> StatusBody:
    return StatusBody(originalPartnerReferenceNo=request.wallet_request_id, merchantId=merchant_id)


def cancel_body(request: CancelRequest, merchant_id: str) -> CancelBody:
    return CancelBody(originalPartnerReferenceNo=request.wallet_request_id, merchantId=merchant_id)


def refund_body(request: RefundRequest, merchant_id: str) -> RefundBody:
    return RefundBody(
        originalPartnerReferenceNo=request.wallet_request_id,
        originalReferenceNo=request.wallet_payment_id,
        partnerRefundNo=request.refund_request_id,
        refundAmount=_amount(request.refund_from_amount),
        merchantId=merchant_id,
        reason=request.reason,
    )


def pay_result(body: PayResponse) -> PaymentResult:
    code, wallet_code = body.code, body.responseCode
    match verdict(code):
        case Verdict.SUCCESS if body.awaits_user():
            return PaymentResult.pending(
                "order created; the traveller must approve it in the wallet",
                wallet_code=wallet_code,
            )
        case Verdict.SUCCESS:
            return PaymentResult.succeeded(wallet_payment_id=body.referenceNo)
        case Verdict.DECLINED:
            return PaymentResult.declined(
                payment_decline(code), body.message, wallet_code=wallet_code
            )
        case Verdict.IN_PROGRESS | Verdict.REJECTED | Verdict.UNKNOWN:
            return PaymentResult.pending(body.message, wallet_code=wallet_code)
        case unreachable:
            assert_never(unreachable)


def _failed_payment(body: StatusResponse) -> PaymentResult:
    """Status 06: the payment failed, for the reason its original response code gives."""
    original = body.originalResponseCode
    try:
        code = payment_decline(ResponseCode.parse(original or ""))
    except ValueError:
        code = "PROCESS_FAIL"
    message = body.originalResponseMessage or body.transactionStatusDesc or "payment failed"
    wallet_code = original or TransactionStatus.FAILED.value
    return PaymentResult.declined(code, message, wallet_code=wallet_code)


def _from_status(body: StatusResponse) -> PaymentResult:
    status = body.status
    match status:
        case TransactionStatus.SUCCESS | TransactionStatus.REFUNDED:
            # A refunded payment was charged: refunds are its children, not its undoing.
            return PaymentResult.succeeded(
                wallet_payment_id=body.originalReferenceNo, paid_at=aware_time(body.paidTime)
            )
        case TransactionStatus.FAILED:
            return _failed_payment(body)
        case TransactionStatus.CANCELED:
            return PaymentResult.declined(
                "ORDER_IS_CLOSED", "payment cancelled", wallet_code=status.value
            )
        case TransactionStatus.NOT_FOUND:
            return PaymentResult.declined(
                "ORDER_NOT_EXIST", "payment not found", wallet_code=status.value
            )
        # "Paying" is documented as in process and not final, whatever DANA advises.
        case (
            TransactionStatus.INITIATED
            | TransactionStatus.PAYING
            | TransactionStatus.PENDING
            | None
        ):
            return PaymentResult.pending(
                f"transaction status {body.latestTransactionStatus!r}",
                wallet_code=body.latestTransactionStatus,
            )
        case unreachable:
            assert_never(unreachable)


def inquiry_result(body: StatusResponse) -> PaymentResult:
    """``responseCode`` says whether the inquiry worked; the status, what the payment did."""
    code = body.code
    match verdict(code):
        case Verdict.SUCCESS:
            return _from_status(body)
        case Verdict.DECLINED if (code.http, code.case) == (404, "01"):
            return PaymentResult.declined(
                "ORDER_NOT_EXIST", body.message, wallet_code=body.responseCode
            )
        case Verdict.DECLINED | Verdict.IN_PROGRESS | Verdict.REJECTED | Verdict.UNKNOWN:
            # The inquiry itself failed: the payment is as unknown as it was.
            return PaymentResult.pending(
                f"inquiry failed: {body.message}", wallet_code=body.responseCode
            )
        case unreachable:
            assert_never(unreachable)


def cancel_result(body: CancelResponse) -> CancelResult:
    code = body.code
    match verdict(code):
        case Verdict.SUCCESS:
            return CancelResult.succeeded()
        case Verdict.DECLINED:
            return CancelResult.declined(cancel_decline(code), body.message)
        case Verdict.IN_PROGRESS | Verdict.REJECTED | Verdict.UNKNOWN:
            return CancelResult.pending(body.message)
        case unreachable:
            assert_never(unreachable)


def refund_result(body: RefundResponse) -> RefundResult:
    code = body.code
    match verdict(code):
        case Verdict.SUCCESS:
            return RefundResult.succeeded(
                wallet_refund_id=body.refundNo, refunded_at=aware_time(body.refundTime)
            )
        case Verdict.DECLINED:
            return RefundResult.declined(refund_decline(code), body.message)
        case Verdict.IN_PROGRESS | Verdict.REJECTED | Verdict.UNKNOWN:
            return RefundResult.pending(body.message)
        case unreachable:
            assert_never(unreachable)
