"""The result codes a merchant's acquirer can receive, as one enum.

Every answer of the acquiring API carries ``{"resultCode", "resultStatus", "resultMessage"}``.
``S`` is success, ``F`` a final failure of the call, ``U`` an unknown outcome: call again or
inquire. The codes and their statuses are those of the Alipay+ acquirer API; the README's
"Result codes" table lists the same set (a test keeps the two in step).
"""

from __future__ import annotations

import enum

__all__ = ["ResultCode", "ResultStatus"]


class ResultStatus(enum.StrEnum):
    """Whether a call succeeded (S), failed for good (F) or has an unknown outcome (U)."""

    SUCCESS = "S"
    FAILURE = "F"
    UNKNOWN = "U"


class ResultCode(enum.Enum):
    """Every ``resultCode`` the acquiring API answers with, and its status."""

    SUCCESS = (ResultStatus.SUCCESS, "Success.")
    ACCEPT = (ResultStatus.UNKNOWN, "The request was accepted; the result follows.")
    PAYMENT_IN_PROCESS = (ResultStatus.UNKNOWN, "The payment is being processed.")
    UNKNOWN_EXCEPTION = (ResultStatus.UNKNOWN, "The outcome is unknown; inquire or try again.")
    REQUEST_TRAFFIC_EXCEED_LIMIT = (ResultStatus.UNKNOWN, "Too many requests; try again.")
    PROCESS_FAIL = (ResultStatus.FAILURE, "The request could not be processed.")
    PARAM_ILLEGAL = (ResultStatus.FAILURE, "A request parameter is invalid.")
    INVALID_API = (ResultStatus.FAILURE, "No such API.")
    METHOD_NOT_SUPPORTED = (ResultStatus.FAILURE, "Only POST is supported.")
    MEDIA_TYPE_NOT_ACCEPTABLE = (ResultStatus.FAILURE, "The body must be JSON.")
    INVALID_CLIENT = (ResultStatus.FAILURE, "The client is not known.")
    INVALID_SIGNATURE = (ResultStatus.FAILURE, "The signature is missing or invalid.")
    REQUEST_TIME_EXCEED = (ResultStatus.FAILURE, "Request-Time is outside the allowed window.")
    ACCESS_DENIED = (ResultStatus.FAILURE, "The client may not use this API.")
    REPEAT_REQ_INCONSISTENT = (
        ResultStatus.FAILURE,
        "The request id was used before with different key fields.",
    )
    ORDER_NOT_EXIST = (ResultStatus.FAILURE, "No payment matches the request.")
    ORDER_IS_CLOSED = (ResultStatus.FAILURE, "The payment is closed or cancelled.")
    ORDER_STATUS_INVALID = (ResultStatus.FAILURE, "The payment's state does not allow this.")
    CANCEL_WINDOW_EXCEED = (ResultStatus.FAILURE, "The cancel window has passed; refund instead.")
    REFUND_AMOUNT_EXCEED = (ResultStatus.FAILURE, "Refunds would exceed the payment amount.")
    CURRENCY_NOT_SUPPORT = (ResultStatus.FAILURE, "The currency is not supported.")
    UNAVAILABLE_PAYMENT_METHOD = (ResultStatus.FAILURE, "No wallet can take this payment.")
    USER_NOT_EXIST = (ResultStatus.FAILURE, "The wallet does not know the user.")
    USER_BALANCE_NOT_ENOUGH = (ResultStatus.FAILURE, "The user's balance is not enough.")
    PAYMENT_AMOUNT_EXCEED_LIMIT = (ResultStatus.FAILURE, "The amount exceeds the wallet's limit.")
    USER_AMOUNT_EXCEED_LIMIT = (ResultStatus.FAILURE, "The user's cumulative limit is reached.")
    RISK_REJECT = (ResultStatus.FAILURE, "The wallet declined the payment for risk.")
    USER_STATUS_ABNORMAL = (ResultStatus.FAILURE, "The user's wallet account cannot pay.")
    INVALID_CODE = (ResultStatus.FAILURE, "The payment code is invalid or expired.")

    @property
    def status(self) -> ResultStatus:
        return self.value[0]

    @property
    def message(self) -> str:
        return self.value[1]

    @classmethod
    def from_wallet(cls, code: str) -> ResultCode:
        """The merchant-facing code for a wallet decline code (``PROCESS_FAIL`` if unknown)."""
        try:
            member = cls[code]
        except KeyError:
            return cls.PROCESS_FAIL
        # A wallet's decline is a final failure whatever it calls it, and a complaint about
        # the parameters *we* sent is ours, not the merchant's.
        if member.status is not ResultStatus.FAILURE or member in _NOT_FROM_WALLETS:
            return cls.PROCESS_FAIL
        return member


_NOT_FROM_WALLETS = frozenset(
    {
        ResultCode.PARAM_ILLEGAL,
        ResultCode.INVALID_API,
        ResultCode.METHOD_NOT_SUPPORTED,
        ResultCode.MEDIA_TYPE_NOT_ACCEPTABLE,
        ResultCode.INVALID_CLIENT,
        ResultCode.INVALID_SIGNATURE,
        ResultCode.REQUEST_TIME_EXCEED,
        ResultCode.ACCESS_DENIED,
        ResultCode.REPEAT_REQ_INCONSISTENT,
    }
)
