"""The Daraja wire format: what the hub sends to M-Pesa and what M-Pesa answers.

Field names are Daraja's own PascalCase (including its ``RecieverIdentifierType``
misspelling), so these models read like Safaricom's documentation. Response models ignore
fields they do not know and accept numbers where Daraja is inconsistent: ``ResultCode`` is a
string in a query answer but a number in a callback.
"""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "REVERSAL_PATH",
    "STK_PUSH_PATH",
    "STK_QUERY_PATH",
    "CallbackItem",
    "DarajaError",
    "ErrorCode",
    "ResponseCode",
    "ReversalAck",
    "ReversalBody",
    "ReversalResult",
    "ReversalResultCode",
    "ReversalResultEnvelope",
    "StkCallback",
    "StkCallbackEnvelope",
    "StkPushAck",
    "StkPushBody",
    "StkQueryAnswer",
    "StkQueryBody",
    "StkResultCode",
    "TokenAnswer",
]


STK_PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
STK_QUERY_PATH = "/mpesa/stkpushquery/v1/query"
REVERSAL_PATH = "/mpesa/reversal/v1/request"


class ResponseCode(enum.StrEnum):
    """``ResponseCode`` of a synchronous answer: only "0" (accepted) is documented."""

    ACCEPTED = "0"


class StkResultCode(enum.StrEnum):
    """``ResultCode`` of an STK push, as a query or the callback reports it."""

    SUCCESS = "0"
    INSUFFICIENT_FUNDS = "1"
    BELOW_MINIMUM = "2"
    ABOVE_MAXIMUM = "3"
    DAILY_LIMIT = "4"
    INTERNAL_FAILURE = "17"
    SYSTEM_BUSY = "26"
    SUBSCRIBER_LOCKED = "1001"
    EXPIRED = "1019"
    PUSH_FAILED = "1025"
    CANCELLED_BY_USER = "1032"
    UNREACHABLE = "1037"
    WRONG_PIN = "2001"
    PROCESSING = "4999"  # the query's "still under processing"
    PUSH_ERROR = "9999"


class ReversalResultCode(enum.StrEnum):
    """``ResultCode`` of a reversal's asynchronous ``Result``."""

    SUCCESS = "0"
    INITIATOR_INVALID = "2001"
    ALREADY_REVERSED = "R000001"
    INVALID_TRANSACTION = "R000002"


class ErrorCode(enum.StrEnum):
    """``errorCode`` of Daraja's gateway errors (the HTTP status is not reliable enough)."""

    BAD_REQUEST = "400.002.02"
    INVALID_PAYLOAD = "400.002.05"
    INVALID_AUTHENTICATION = "400.008.01"
    INVALID_GRANT_TYPE = "400.008.02"
    INVALID_ACCESS_TOKEN = "404.001.03"  # noqa: S105 (an error code, not a credential)
    MPESA_EXPRESS = "500.001.1001"


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


class StkPushBody(_Body):
    BusinessShortCode: str
    Password: str = Field(repr=False)
    Timestamp: str
    TransactionType: str
    Amount: int
    PartyA: str = Field(repr=False)
    PartyB: str
    PhoneNumber: str = Field(repr=False)
    CallBackURL: str
    AccountReference: str
    TransactionDesc: str


class StkQueryBody(_Body):
    BusinessShortCode: str
    Password: str = Field(repr=False)
    Timestamp: str
    CheckoutRequestID: str


class ReversalBody(_Body):
    Initiator: str
    SecurityCredential: str = Field(repr=False)
    CommandID: str = "TransactionReversal"
    TransactionID: str
    Amount: int
    ReceiverParty: str
    RecieverIdentifierType: str = "11"
    ResultURL: str
    QueueTimeOutURL: str
    Remarks: str
    Occasion: str


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", coerce_numbers_to_str=True)


class DarajaError(_Answer):
    """The gateway's error body, e.g. ``{"errorCode": "404.001.03", ...}``."""

    requestId: str | None = None
    errorCode: str
    errorMessage: str = ""


class TokenAnswer(_Answer):
    access_token: str = Field(min_length=1, repr=False)
    expires_in: str


class StkPushAck(_Answer):
    MerchantRequestID: str | None = None
    CheckoutRequestID: str | None = None
    ResponseCode: str
    ResponseDescription: str = ""
    CustomerMessage: str | None = None


class StkQueryAnswer(_Answer):
    ResponseCode: str | None = None
    ResponseDescription: str = ""
    MerchantRequestID: str | None = None
    CheckoutRequestID: str | None = None
    ResultCode: str
    ResultDesc: str = ""


class ReversalAck(_Answer):
    OriginatorConversationID: str | None = None
    ConversationID: str | None = None
    ResponseCode: str
    ResponseDescription: str = ""


class CallbackItem(_Answer):
    """One ``{"Name": ..., "Value": ...}`` (or ``Key``/``Value``) pair; ``Balance`` comes
    without a value."""

    Name: str | None = None
    Key: str | None = None
    Value: str | None = None


class _CallbackMetadata(_Answer):
    Item: list[CallbackItem] = []


class StkCallback(_Answer):
    MerchantRequestID: str | None = None
    CheckoutRequestID: str
    ResultCode: str
    ResultDesc: str = ""
    CallbackMetadata: _CallbackMetadata | None = None

    def item(self, name: str) -> str | None:
        items = self.CallbackMetadata.Item if self.CallbackMetadata else []
        return next((item.Value for item in items if item.Name == name), None)


class _StkCallbackBody(_Answer):
    stkCallback: StkCallback


class StkCallbackEnvelope(_Answer):
    """What M-Pesa POSTs to ``CallBackURL``: ``{"Body": {"stkCallback": {...}}}``."""

    Body: _StkCallbackBody


class _ResultParameters(_Answer):
    # Daraja sends a single object instead of a list when there is one parameter.
    ResultParameter: list[CallbackItem] | CallbackItem = []


class ReversalResult(_Answer):
    ResultType: str | None = None
    ResultCode: str
    ResultDesc: str = ""
    OriginatorConversationID: str | None = None
    ConversationID: str | None = None
    TransactionID: str | None = None
    ResultParameters: _ResultParameters | None = None

    def parameter(self, key: str) -> str | None:
        found = self.ResultParameters.ResultParameter if self.ResultParameters else []
        items = found if isinstance(found, list) else [found]
        return next((item.Value for item in items if item.Key == key), None)


class ReversalResultEnvelope(_Answer):
    """What M-Pesa POSTs to ``ResultURL``: ``{"Result": {...}}``."""

    Result: ReversalResult
