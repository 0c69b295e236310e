"""The Alipay+ MPP wire format: what a hub sends to a wallet and what the wallet answers.

Field names are the wire's own camelCase, so these models read like the Alipay+ docs.
Every scalar on the wire is a JSON string and an absent optional field is left out (never
``""``): request bodies are dumped with ``exclude_none``. Response models ignore fields they
do not know, because wallets add their own.
"""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CancelResponse",
    "InquiryResponse",
    "PayBody",
    "PayResponse",
    "PaymentRef",
    "PaymentStatus",
    "RefundBody",
    "RefundResponse",
    "ResultStatus",
    "WireAddress",
    "WireAmount",
    "WireMerchant",
    "WireOrder",
    "WirePaymentFactor",
    "WirePaymentMethod",
    "WireQuote",
    "WireResponse",
    "WireResult",
    "WireStore",
]


class ResultStatus(enum.StrEnum):
    """Alipay+ ``resultStatus``: ``S`` success, ``F`` failure, ``U`` unknown outcome."""

    SUCCESS = "S"
    FAILURE = "F"
    UNKNOWN = "U"


class PaymentStatus(enum.StrEnum):
    """``paymentStatus``, which some Alipay+ wallets (AlipayHK's APS, Antom) put in an
    inquiry answer; read only when ``paymentResult`` is absent."""

    SUCCESS = "SUCCESS"
    FAIL = "FAIL"
    PROCESSING = "PROCESSING"
    CANCELLED = "CANCELLED"


class _Request(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_bytes(self) -> bytes:
        """The exact bytes to sign and send."""
        return self.model_dump_json(exclude_none=True).encode()


class WireAmount(_Request):
    currency: str
    value: str


class WireQuote(_Request):
    quoteId: str
    quoteCurrencyPair: str
    quotePrice: str
    quoteStartTime: str
    quoteExpiryTime: str


class WireAddress(_Request):
    region: str


class WireStore(_Request):
    referenceStoreId: str
    storeName: str | None = None


class WireMerchant(_Request):
    referenceMerchantId: str
    merchantName: str
    merchantMCC: str
    merchantAddress: WireAddress
    store: WireStore | None = None


class WireOrder(_Request):
    referenceOrderId: str
    orderDescription: str
    orderAmount: WireAmount
    merchant: WireMerchant


class WirePaymentMethod(_Request):
    paymentMethodType: str
    paymentMethodId: str = Field(repr=False)


class WirePaymentFactor(_Request):
    isInStorePayment: str = "true"
    inStorePaymentScenario: str = "PaymentCode"


class PayBody(_Request):
    acquirerId: str
    pspId: str
    paymentRequestId: str
    paymentAmount: WireAmount
    payToAmount: WireAmount
    paymentQuote: WireQuote | None = None
    paymentMethod: WirePaymentMethod
    order: WireOrder
    paymentExpiryTime: str | None = None
    paymentFactor: WirePaymentFactor


class PaymentRef(_Request):
    """The body of ``inquiryPayment`` and ``cancelPayment``."""

    acquirerId: str
    pspId: str
    paymentRequestId: str


class RefundBody(_Request):
    acquirerId: str
    pspId: str
    paymentRequestId: str
    paymentId: str | None = None
    refundRequestId: str
    refundAmount: WireAmount
    refundFromAmount: WireAmount
    refundQuote: WireQuote | None = None
    refundReason: str | None = None


class _Response(BaseModel):
    # Wallets that send a number where the spec says string must not turn a charge into a
    # protocol error, hence the coercion.
    model_config = ConfigDict(frozen=True, extra="ignore", coerce_numbers_to_str=True)


class WireResult(_Response):
    resultCode: str
    resultStatus: str
    resultMessage: str | None = None

    @property
    def status(self) -> ResultStatus | None:
        """The status, or ``None`` for a value outside S/F/U (which maps to pending)."""
        try:
            return ResultStatus(self.resultStatus)
        except ValueError:
            return None

    @property
    def message(self) -> str:
        return self.resultMessage or self.resultCode


class WireResponse(_Response):
    result: WireResult

    def claims_success(self) -> bool:
        """Whether any status in the body says S: such a body must be signed."""
        return self.result.status is ResultStatus.SUCCESS


class PayResponse(WireResponse):
    paymentRequestId: str | None = None
    paymentId: str | None = None
    paymentTime: str | None = None
    customerId: str | None = None


class InquiryResponse(PayResponse):
    paymentResult: WireResult | None = None
    paymentStatus: str | None = None

    def claims_success(self) -> bool:
        return (
            super().claims_success()
            or (
                self.paymentResult is not None and self.paymentResult.status is ResultStatus.SUCCESS
            )
            or self.paymentStatus == PaymentStatus.SUCCESS
        )


class CancelResponse(WireResponse):
    pass


class RefundResponse(WireResponse):
    refundRequestId: str | None = None
    refundId: str | None = None
    refundTime: str | None = None
