"""The SNAP BI direct-debit wire format: request bodies, response bodies, codes and statuses.

Field names are the wire's own camelCase, so these models read like the SNAP and DANA docs.
Request bodies are dumped compact (already minified) and without absent optionals.
Response models ignore fields they do not know, because every wallet adds its own, and
accept numbers where strings are due, because a wallet that sends ``2005400`` unquoted must
not turn a charge into a protocol error.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated

from iso4217 import Currency
from pydantic import BaseModel, ConfigDict, Field

from connectors import Amount

__all__ = [
    "CANCEL",
    "PAY",
    "REFUND",
    "STATUS",
    "Api",
    "CancelBody",
    "CancelResponse",
    "PayAdditionalInfo",
    "PayBody",
    "PayResponse",
    "RefundBody",
    "RefundResponse",
    "ResponseCode",
    "StatusBody",
    "StatusResponse",
    "TransactionStatus",
    "WireAmount",
    "WireExchangeRate",
    "WireInternationalOrder",
    "WireOrder",
    "WireResponse",
    "decimal_value",
]


@dataclass(frozen=True, slots=True)
class Api:
    """One SNAP endpoint: its path and its two-digit service code."""

    name: str
    path: str
    service: str


PAY = Api("pay", "/v1.0/debit/payment-host-to-host", "54")
STATUS = Api("status", "/v1.0/debit/status", "55")
CANCEL = Api("cancel", "/v1.0/debit/cancel", "57")
REFUND = Api("refund", "/v1.0/debit/refund", "58")


class TransactionStatus(enum.StrEnum):
    """``latestTransactionStatus`` of a direct-debit status inquiry."""

    SUCCESS = "00"
    INITIATED = "01"
    PAYING = "02"
    PENDING = "03"
    REFUNDED = "04"
    CANCELED = "05"
    FAILED = "06"
    NOT_FOUND = "07"


@dataclass(frozen=True, slots=True)
class ResponseCode:
    """A SNAP ``responseCode``: HTTP status (3 digits), service (2), case (2).

    ``4035414`` is HTTP 403, service 54 (direct-debit payment), case 14 (insufficient funds).
    """

    http: int
    service: str
    case: str

    @classmethod
    def parse(cls, value: str) -> ResponseCode:
        if len(value) != 7 or not value.isascii() or not value.isdigit():
            raise ValueError(f"not a 7-digit SNAP response code: {value!r}")
        return cls(int(value[:3]), value[3:5], value[5:])

    def __str__(self) -> str:
        return f"{self.http}{self.service}{self.case}"


def decimal_value(amount: Amount) -> str:
    """Minor units as SNAP writes them: ``Amount("IDR", 1000000)`` is ``"10000.00"``.

    The exponent comes from ISO 4217 (``iso4217``), never from a hand table.
    """
    try:
        exponent: int | None = Currency(amount.currency).exponent
    except ValueError:
        exponent = None
    if exponent is None or amount.value < 0:
        raise ValueError(f"{amount} cannot be written as a SNAP amount")
    if exponent == 0:
        return str(amount.value)
    whole, fraction = divmod(amount.value, 10**exponent)
    return f"{whole}.{fraction:0{exponent}d}"


class _Request(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_bytes(self) -> bytes:
        """The exact bytes to sign and send: compact JSON, hence already minified."""
        return self.model_dump_json(exclude_none=True).encode()


class WireAmount(_Request):
    value: str
    currency: str


class WireExchangeRate(_Request):
    rate: str
    exchangeRelation: str


class WireInternationalOrder(_Request):
    """DANA's ``internationalOrderInfo``: what the traveller bought, in the merchant's
    currency, and the rate that turned it into ``amount``."""

    originOrderAmount: WireAmount
    exchangeRate: WireExchangeRate | None = None
    totalAmount: WireAmount


class WireOrder(_Request):
    orderTitle: str
    orderMemo: str | None = None
    internationalOrderInfo: WireInternationalOrder


class PayAdditionalInfo(_Request):
    mcc: str
    order: WireOrder


class PayBody(_Request):
    partnerReferenceNo: str
    merchantId: str
    amount: WireAmount
    validUpTo: str | None = None
    additionalInfo: PayAdditionalInfo


class StatusBody(_Request):
    originalPartnerReferenceNo: str
    # The service code of the transaction asked about, not of the inquiry itself.
    serviceCode: str = PAY.service
    merchantId: str


class CancelBody(_Request):
    originalPartnerReferenceNo: str
    merchantId: str


class RefundBody(_Request):
    originalPartnerReferenceNo: str
    originalReferenceNo: str | None = None
    partnerRefundNo: str
    refundAmount: WireAmount
    merchantId: str
    reason: str | None = None


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", coerce_numbers_to_str=True)


class WireResponse(_Response):
    responseCode: Annotated[str, Field(pattern=r"^[0-9]{7}$")]
    responseMessage: str | None = None

    @property
    def code(self) -> ResponseCode:
        return ResponseCode.parse(self.responseCode)

    @property
    def message(self) -> str:
        return f"{self.responseMessage or 'no message'} ({self.responseCode})"


class PayResponse(WireResponse):
    referenceNo: str | None = None
    partnerReferenceNo: str | None = None
    webRedirectUrl: str | None = None
    appRedirectUrl: str | None = None

    def awaits_user(self) -> bool:
        """Whether the wallet sent the traveller somewhere to approve the payment: then a
        success code means "order created", not "charged" (DANA's redirection flow)."""
        return bool(self.webRedirectUrl or self.appRedirectUrl)


class StatusResponse(WireResponse):
    originalPartnerReferenceNo: str | None = None
    originalReferenceNo: str | None = None
    serviceCode: str | None = None
    latestTransactionStatus: str | None = None
    transactionStatusDesc: str | None = None
    originalResponseCode: str | None = None
    originalResponseMessage: str | None = None
    paidTime: str | None = None

    @property
    def status(self) -> TransactionStatus | None:
        """The status, or ``None`` for one outside 00-07 (which maps to pending)."""
        try:
            return TransactionStatus(self.latestTransactionStatus or "")
        except ValueError:
            return None


class CancelResponse(WireResponse):
    originalPartnerReferenceNo: str | None = None
    originalReferenceNo: str | None = None
    cancelTime: str | None = None


class RefundResponse(WireResponse):
    originalPartnerReferenceNo: str | None = None
    partnerRefundNo: str | None = None
    refundNo: str | None = None
    refundTime: str | None = None
