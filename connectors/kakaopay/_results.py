"""KakaoPay's answers as Causeway's results.

Statuses are mapped with ``match`` over :class:`PaymentStatus`; a status KakaoPay does not
define is ``None`` and, like the in-progress ones, becomes pending: only
``SUCCESS_PAYMENT`` (or its partly refunded form) is ever a success.
"""

from __future__ import annotations

from typing import assert_never

from connectors import CancelResult, PaymentResult, RefundLookup, RefundResult
from connectors.kakaopay._translate import parse_time
from connectors.kakaopay._wire import (
    ApprovalFailure,
    CancelResponse,
    ErrorBody,
    ErrorCode,
    MethodResult,
    OrderResponse,
    PaymentStatus,
    ReadyResponse,
)

__all__ = ["cancel_result", "inquiry_result", "pay_result", "refund_absence", "refund_result"]


def _approval_failure(extras: MethodResult | None, fallback: str, message: str) -> PaymentResult:
    code = extras.method_result_code if extras is not None else None
    wallet_code = code or fallback
    match ApprovalFailure.read(code):
        case ApprovalFailure.INSUFFICIENT_BALANCE:
            return PaymentResult.declined("USER_BALANCE_NOT_ENOUGH", message, wallet_code=code)
        case ApprovalFailure.EXCEED_LIMIT:
            return PaymentResult.declined("PAYMENT_AMOUNT_EXCEED_LIMIT", message, wallet_code=code)
        case ApprovalFailure.USER_NOT_FOUND:
            return PaymentResult.declined("USER_NOT_EXIST", message, wallet_code=code)
        case ApprovalFailure.USER_LOCKED | None:
            return PaymentResult.declined("PROCESS_FAIL", message, wallet_code=wallet_code)
        case unreachable:
            assert_never(unreachable)


def pay_result(answer: ReadyResponse | ErrorBody) -> PaymentResult:
    """``ready`` only opens the payment: success is pending until the traveller approves."""
    if isinstance(answer, ReadyResponse):
        # The tid is what order and cancel name the payment by: the core keeps it.
        return PaymentResult.pending(
            "waiting for the traveller to approve in KakaoPay",
            wallet_code=PaymentStatus.READY.value,
            wallet_payment_id=answer.tid,
        )
    match answer.code:
        case ErrorCode.INCONSISTENT_ORDER:
            # This partner_order_id was used before: that payment may well be charged.
            return PaymentResult.pending(answer.message, wallet_code=answer.wallet_code)
        case ErrorCode.INVALID_STATUS:
            return PaymentResult.declined(
                "ORDER_IS_CLOSED", answer.message, wallet_code=answer.wallet_code
            )
        case ErrorCode.APPROVAL_FAILED:
            return _approval_failure(answer.extras, answer.wallet_code, answer.message)
        case (
            ErrorCode.INVALID_PARAMETER
            | ErrorCode.UNAUTHORIZED
            | ErrorCode.ORDER_NOT_FOUND
            | ErrorCode.CANCEL_AMOUNT_EXCEEDED
            | None
        ):
            # ready refused: no payment exists under this id, so nothing can be charged.
            return PaymentResult.declined(
                "PROCESS_FAIL", answer.message, wallet_code=answer.wallet_code
            )
        case unreachable:
            assert_never(unreachable)


def inquiry_result(answer: OrderResponse | ErrorBody) -> PaymentResult:
    if isinstance(answer, ErrorBody):
        if answer.code is ErrorCode.ORDER_NOT_FOUND:
            return PaymentResult.declined(
                "ORDER_NOT_EXIST", answer.message, wallet_code=answer.wallet_code
            )
        # The inquiry itself failed: the payment's state is as unknown as before.
        return PaymentResult.pending(
            f"inquiry failed: {answer.message}", wallet_code=answer.wallet_code
        )
    status = answer.status
    match PaymentStatus.read(status):
        case PaymentStatus.SUCCESS_PAYMENT | PaymentStatus.PART_CANCEL_PAYMENT:
            return PaymentResult.succeeded(
                wallet_payment_id=answer.tid, paid_at=parse_time(answer.approved_at)
            )
        case PaymentStatus.CANCEL_PAYMENT:
            return PaymentResult.declined(
                "ORDER_IS_CLOSED", "payment cancelled", wallet_code=status
            )
        case PaymentStatus.FAIL_PAYMENT:
            extras = answer.extras
            reason = extras.method_result_message if extras is not None else None
            return _approval_failure(extras, status, reason or "approval failed")
        case PaymentStatus.FAIL_AUTH_PASSWORD | PaymentStatus.QUIT_PAYMENT:
            return PaymentResult.declined(
                "PROCESS_FAIL", f"the traveller did not approve ({status})", wallet_code=status
            )
        case (
            PaymentStatus.READY
            | PaymentStatus.SEND_TMS
            | PaymentStatus.OPEN_PAYMENT
            | PaymentStatus.SELECT_METHOD
            | PaymentStatus.ARS_WAITING
            | PaymentStatus.AUTH_PASSWORD
            | PaymentStatus.ISSUED_SID
            | None
        ):
            # With the tid: an inquiry by partner_order_id (a ready whose answer was lost)
            # is how the core learns it, and asks by it from then on.
            return PaymentResult.pending(
                f"payment status {status!r}", wallet_code=status, wallet_payment_id=answer.tid
            )
        case unreachable:
            assert_never(unreachable)


def cancel_result(answer: CancelResponse | ErrorBody) -> CancelResult:
    if isinstance(answer, ErrorBody):
        match answer.code:
            case ErrorCode.ORDER_NOT_FOUND:
                # Nothing under this id, and the hub never approves it now: never charged.
                return CancelResult.succeeded()
            case ErrorCode.INVALID_STATUS:
                return CancelResult.declined("ORDER_STATUS_INVALID", answer.message)
            case _:
                return CancelResult.declined("PROCESS_FAIL", answer.message)
    match PaymentStatus.read(answer.status):
        case (
            PaymentStatus.CANCEL_PAYMENT
            | PaymentStatus.FAIL_PAYMENT
            | PaymentStatus.FAIL_AUTH_PASSWORD
            | PaymentStatus.QUIT_PAYMENT
        ):
            # Cancelled, or failed before any money moved: either way never charged now.
            return CancelResult.succeeded()
        case (
            PaymentStatus.SUCCESS_PAYMENT
            | PaymentStatus.PART_CANCEL_PAYMENT
            | PaymentStatus.READY
            | PaymentStatus.SEND_TMS
            | PaymentStatus.OPEN_PAYMENT
            | PaymentStatus.SELECT_METHOD
            | PaymentStatus.ARS_WAITING
            | PaymentStatus.AUTH_PASSWORD
            | PaymentStatus.ISSUED_SID
            | None
        ):
            return CancelResult.pending(f"payment status {answer.status!r} after cancel")
        case unreachable:
            assert_never(unreachable)


def refund_result(answer: CancelResponse | ErrorBody) -> RefundResult:
    if isinstance(answer, ErrorBody):
        match answer.code:
            case ErrorCode.CANCEL_AMOUNT_EXCEEDED:
                return RefundResult.declined("REFUND_AMOUNT_EXCEED", answer.message)
            case ErrorCode.ORDER_NOT_FOUND:
                return RefundResult.declined("ORDER_NOT_EXIST", answer.message)
            case ErrorCode.INVALID_STATUS:
                return RefundResult.declined("ORDER_STATUS_INVALID", answer.message)
            case ErrorCode.INCONSISTENT_ORDER:
                return RefundResult.declined("REPEAT_REQ_INCONSISTENT", answer.message)
            case _:
                return RefundResult.declined("PROCESS_FAIL", answer.message)
    match PaymentStatus.read(answer.status):
        case PaymentStatus.PART_CANCEL_PAYMENT | PaymentStatus.CANCEL_PAYMENT:
            return RefundResult.succeeded(
                wallet_refund_id=answer.aid, refunded_at=parse_time(answer.canceled_at)
            )
        case (
            PaymentStatus.SUCCESS_PAYMENT
            | PaymentStatus.READY
            | PaymentStatus.SEND_TMS
            | PaymentStatus.OPEN_PAYMENT
            | PaymentStatus.SELECT_METHOD
            | PaymentStatus.ARS_WAITING
            | PaymentStatus.AUTH_PASSWORD
            | PaymentStatus.ISSUED_SID
            | PaymentStatus.FAIL_AUTH_PASSWORD
            | PaymentStatus.QUIT_PAYMENT
            | PaymentStatus.FAIL_PAYMENT
            | None
        ):
            return RefundResult.pending(f"payment status {answer.status!r} after refund")
        case unreachable:
            assert_never(unreachable)


def refund_absence(answer: OrderResponse, payload: str) -> RefundLookup:
    """What an ``order`` answer listing no cancel with ``payload`` says of that refund.

    Only a payment that was charged has its cancels listed in full: there, the refund is
    absent. In any other status (one not yet approved, or one KakaoPay does not define)
    the list is no evidence that a refund never happened, so the answer does not tell.
    """
    status = answer.status
    match PaymentStatus.read(status):
        case (
            PaymentStatus.SUCCESS_PAYMENT
            | PaymentStatus.PART_CANCEL_PAYMENT
            | PaymentStatus.CANCEL_PAYMENT
        ):
            return RefundLookup.absent(f"no cancel of {answer.tid} carries payload {payload!r}")
        case (
            PaymentStatus.READY
            | PaymentStatus.SEND_TMS
            | PaymentStatus.OPEN_PAYMENT
            | PaymentStatus.SELECT_METHOD
            | PaymentStatus.ARS_WAITING
            | PaymentStatus.AUTH_PASSWORD
            | PaymentStatus.ISSUED_SID
            | PaymentStatus.FAIL_AUTH_PASSWORD
            | PaymentStatus.QUIT_PAYMENT
            | PaymentStatus.FAIL_PAYMENT
            | None
        ):
            return RefundLookup.unknown(f"payment status {status!r}: its cancels prove nothing")
        case unreachable:
            assert_never(unreachable)
