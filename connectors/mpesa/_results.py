"""Daraja's answers as Causeway results.

Codes are mapped with ``match`` over the wire enums; a code outside them is ``None`` and
becomes pending: only an explicit ``ResultCode`` "0" is ever a success. Daraja's gateway
errors (``errorCode``) reject a request before M-Pesa acts on it, so a known one is a
decline of a pay or a refund, but says nothing about a payment being inquired.
"""

from __future__ import annotations

import enum
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import TypeVar, assert_never

import httpx
from pydantic import BaseModel, ValidationError

from connectors import PaymentResult, RefundResult, WalletProtocolError
from connectors._errors import first_problem
from connectors.mpesa._translate import EAT
from connectors.mpesa._wire import (
    DarajaError,
    ErrorCode,
    ResponseCode,
    ReversalAck,
    ReversalResult,
    ReversalResultCode,
    StkCallback,
    StkPushAck,
    StkResultCode,
)

__all__ = [
    "daraja_time",
    "pay_error",
    "query_error",
    "read",
    "refund_error",
    "reversal_ack",
    "reversal_outcome",
    "stk_callback_outcome",
    "stk_outcome",
    "stk_push_ack",
]

AnswerT = TypeVar("AnswerT", bound=BaseModel)
CodeT = TypeVar("CodeT", bound=enum.StrEnum)


def read(
    connector: str, operation: str, response: httpx.Response, model: type[AnswerT]
) -> AnswerT | DarajaError | None:
    """The answer, Daraja's error body, or ``None`` when the outcome is unknown (5xx)."""
    status = response.status_code
    if status >= 500:
        return None
    try:
        payload = json.loads(response.content)
        if not isinstance(payload, dict):
            raise ValueError("not a JSON object")
        if "errorCode" in payload:
            return DarajaError.model_validate(payload)
        if status != 200:
            raise ValueError(f"HTTP {status} without a Daraja error body")
        return model.model_validate(payload)
    except ValidationError as exc:
        problem = first_problem(exc)
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        problem = str(exc)
    raise WalletProtocolError(
        f"{operation}: malformed answer ({problem})", connector=connector, http_status=status
    )


def daraja_time(value: str | None) -> datetime | None:
    """A ``YYYYMMDDHHMMSS`` (Kenyan time) from M-Pesa, in UTC, or ``None`` when absent or garbled:
    a malformed time is informational and must not turn a charge into an error."""
    if value is None:
        return None
    try:
        local = datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=EAT)
    except ValueError:
        return None
    return local.astimezone(UTC)


def _code(kind: type[CodeT], value: str) -> CodeT | None:
    try:
        return kind(value)
    except ValueError:
        return None


def _said(error: DarajaError) -> str:
    return f"{error.errorCode} {error.errorMessage}".strip()


def stk_push_ack(ack: StkPushAck) -> PaymentResult:
    """Pending whatever the code says: an accepted push is prompting the traveller, and an
    unknown code proves nothing. The ``CheckoutRequestID``, when given, is kept: the query
    needs it."""
    match _code(ResponseCode, ack.ResponseCode):
        case ResponseCode.ACCEPTED:
            pending = PaymentResult.pending(ack.ResponseDescription or "STK push sent")
        case None:
            pending = PaymentResult.pending(
                f"STK push answer {ack.ResponseCode!r}: {ack.ResponseDescription}",
                wallet_code=ack.ResponseCode,
            )
        case unreachable:
            assert_never(unreachable)
    return replace(pending, wallet_payment_id=ack.CheckoutRequestID)


def pay_error(error: DarajaError) -> PaymentResult:
    """A gateway error to an STK push: nobody was prompted, so a known one is a decline."""
    code = error.errorCode
    match _code(ErrorCode, code):
        case ErrorCode.BAD_REQUEST if "PhoneNumber" in error.errorMessage:
            return PaymentResult.declined("USER_NOT_EXIST", _said(error), wallet_code=code)
        case (
            ErrorCode.BAD_REQUEST
            | ErrorCode.INVALID_PAYLOAD
            | ErrorCode.INVALID_AUTHENTICATION
            | ErrorCode.INVALID_GRANT_TYPE
            | ErrorCode.INVALID_ACCESS_TOKEN
        ):
            return PaymentResult.declined("PROCESS_FAIL", _said(error), wallet_code=code)
        case ErrorCode.MPESA_EXPRESS | None:
            # 500.001.1001 covers "being processed" as well as refusals: unknown.
            return PaymentResult.pending(_said(error), wallet_code=code)
        case unreachable:
            assert_never(unreachable)


def query_error(error: DarajaError) -> PaymentResult:
    """A gateway error to a query: only an unknown ``CheckoutRequestID`` says anything
    about the payment (there is none); any other leaves it as unknown as before."""
    if _code(ErrorCode, error.errorCode) is ErrorCode.BAD_REQUEST and (
        "CheckoutRequestID" in error.errorMessage
    ):
        return PaymentResult.declined("ORDER_NOT_EXIST", _said(error), wallet_code=error.errorCode)
    return PaymentResult.pending(f"query failed: {_said(error)}", wallet_code=error.errorCode)


def stk_outcome(
    code: str,
    description: str,
    *,
    wallet_payment_id: str | None,
    customer_id: str | None = None,
    paid_at: datetime | None = None,
) -> PaymentResult:
    """An STK push's ``ResultCode``, from a query or from the callback."""
    message = description or f"ResultCode {code}"
    match _code(StkResultCode, code):
        case StkResultCode.SUCCESS:
            return PaymentResult.succeeded(
                wallet_payment_id=wallet_payment_id, customer_id=customer_id, paid_at=paid_at
            )
        case StkResultCode.INSUFFICIENT_FUNDS:
            return PaymentResult.declined("USER_BALANCE_NOT_ENOUGH", message, wallet_code=code)
        case StkResultCode.ABOVE_MAXIMUM | StkResultCode.DAILY_LIMIT:
            return PaymentResult.declined("PAYMENT_AMOUNT_EXCEED_LIMIT", message, wallet_code=code)
        case (
            StkResultCode.BELOW_MINIMUM
            | StkResultCode.INTERNAL_FAILURE
            | StkResultCode.SYSTEM_BUSY
            | StkResultCode.SUBSCRIBER_LOCKED
            | StkResultCode.EXPIRED
            | StkResultCode.PUSH_FAILED
            | StkResultCode.CANCELLED_BY_USER
            | StkResultCode.UNREACHABLE
            | StkResultCode.WRONG_PIN
            | StkResultCode.PUSH_ERROR
        ):
            return PaymentResult.declined("PROCESS_FAIL", message, wallet_code=code)
        case StkResultCode.PROCESSING | None:
            return PaymentResult.pending(message, wallet_code=code)
        case unreachable:
            assert_never(unreachable)


def stk_callback_outcome(callback: StkCallback) -> PaymentResult:
    """The callback's result; a success names the payment by its M-Pesa receipt (what a
    reversal needs), falling back to the ``CheckoutRequestID``."""
    return stk_outcome(
        callback.ResultCode,
        callback.ResultDesc,
        wallet_payment_id=callback.item("MpesaReceiptNumber") or callback.CheckoutRequestID,
        customer_id=callback.item("PhoneNumber"),
        paid_at=daraja_time(callback.item("TransactionDate")),
    )


def reversal_ack(ack: ReversalAck) -> RefundResult:
    """Accepted is not done: the reversal's result arrives later at ``ResultURL``. The
    pending result carries the ``ConversationID`` that result will name."""
    pending = RefundResult.pending(
        f"reversal answer {ack.ResponseCode!r} ({ack.ResponseDescription}); "
        "the result arrives at ResultURL"
    )
    match _code(ResponseCode, ack.ResponseCode):
        case ResponseCode.ACCEPTED:
            return replace(pending, wallet_refund_id=ack.ConversationID)
        case None:
            return pending
        case unreachable:
            assert_never(unreachable)


def refund_error(error: DarajaError) -> RefundResult:
    """A gateway error to a reversal: nothing was reversed, so a known one is a decline."""
    match _code(ErrorCode, error.errorCode):
        case ErrorCode.BAD_REQUEST if "TransactionID" in error.errorMessage:
            return RefundResult.declined("ORDER_NOT_EXIST", _said(error))
        case (
            ErrorCode.BAD_REQUEST
            | ErrorCode.INVALID_PAYLOAD
            | ErrorCode.INVALID_AUTHENTICATION
            | ErrorCode.INVALID_GRANT_TYPE
            | ErrorCode.INVALID_ACCESS_TOKEN
        ):
            return RefundResult.declined("PROCESS_FAIL", _said(error))
        case ErrorCode.MPESA_EXPRESS | None:
            return RefundResult.pending(_said(error))
        case unreachable:
            assert_never(unreachable)


def reversal_outcome(result: ReversalResult) -> RefundResult:
    """A reversal's asynchronous ``Result``; its ``TransactionID`` is the reversal's own."""
    message = result.ResultDesc or f"ResultCode {result.ResultCode}"
    match _code(ReversalResultCode, result.ResultCode):
        case ReversalResultCode.SUCCESS:
            return RefundResult.succeeded(
                wallet_refund_id=result.TransactionID,
                refunded_at=daraja_time(result.parameter("TransCompletedTime")),
            )
        case ReversalResultCode.ALREADY_REVERSED:
            return RefundResult.declined("REFUND_AMOUNT_EXCEED", message)
        case ReversalResultCode.INVALID_TRANSACTION:
            return RefundResult.declined("ORDER_NOT_EXIST", message)
        case ReversalResultCode.INITIATOR_INVALID:
            return RefundResult.declined("PROCESS_FAIL", message)
        case None:
            return RefundResult.pending(message)
        case unreachable:
            assert_never(unreachable)
