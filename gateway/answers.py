"""What the API answers: a result code, its message and, when there is one, the payment."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.models import Payment
from gateway.results import ResultCode
from gateway.states import PaymentStatus

__all__ = ["Answer", "payment_result"]


@dataclass(frozen=True, slots=True)
class Answer:
    """What the API tells the acquirer: a result code and, when there is one, the payment."""

    code: ResultCode
    message: str
    payment: Payment | None = None

    @classmethod
    def of(cls, code: ResultCode, message: str | None = None) -> Answer:
        return cls(code, message or code.message)


def payment_result(payment: Payment) -> tuple[ResultCode, str]:
    """The result a payment's state stands for, as pay replays and inquiries report it."""
    match payment.status:
        case PaymentStatus.SUCCEEDED:
            return ResultCode.SUCCESS, "Success."
        case PaymentStatus.FAILED:
            return payment.result_code, payment.result_message
        case PaymentStatus.CANCELLED:
            return ResultCode.ORDER_IS_CLOSED, "The payment was cancelled."
        case PaymentStatus.PENDING | PaymentStatus.UNKNOWN:
            return ResultCode.PAYMENT_IN_PROCESS, ResultCode.PAYMENT_IN_PROCESS.message
