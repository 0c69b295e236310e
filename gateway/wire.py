"""The acquiring API's wire format (Alipay+ acquirer side): request models and answers.

Every scalar on the wire is a JSON string, so the models take ``StrictStr`` and a JSON
number where a string belongs is ``PARAM_ILLEGAL``. Unknown fields are ignored, as the
Alipay+ API grows fields over time. :func:`parse` turns the first validation error into a
message naming the field, e.g. ``paymentAmount.value: must be a positive integer``.

A body is strict JSON in UTF-8: no byte-order mark, no ``NaN`` or ``Infinity``, no member
named twice (two parsers could each read a different one), no string holding NUL or a lone
surrogate (neither can be stored). :mod:`gateway.openapi` publishes these models as the
API's OpenAPI document, so a constraint written here is documented there.
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr, ValidationError

from fx import Money, Quote, is_currency
from gateway.errors import RequestRejected
from gateway.results import ResultCode

__all__ = [
    "MAX_BODY_BYTES",
    "CancelPaymentRequest",
    "ConsultPaymentRequest",
    "InquiryPaymentRequest",
    "PayRequest",
    "RefundRequest",
    "UserInitiatedPayRequest",
    "WalletNotifyPaymentRequest",
    "amount_json",
    "compact",
    "parse",
    "quote_json",
    "result_json",
]

#: The largest request body accepted; an Alipay+ pay request is a few kilobytes.
MAX_BODY_BYTES = 64 * 1024

_DIGITS = re.compile(r"0|[1-9][0-9]{0,17}")


def _currency(value: str) -> str:
    if not is_currency(value):
        raise ValueError(f"{value!r} is not an ISO 4217 currency")
    return value


def _minor_units(value: str) -> str:
    if not _DIGITS.fullmatch(value):
        raise ValueError(
            "must be a non-negative integer in minor units, as a string without leading zeros"
        )
    return value


# The validators say more than a JSON schema can; the schema states what it can of them.
Currency = Annotated[
    StrictStr,
    AfterValidator(_currency),
    Field(
        description="ISO 4217 alphabetic code of a currency with a minor unit",
        json_schema_extra={"pattern": "^[A-Z]{3}$", "examples": ["THB", "JPY", "USD"]},
    ),
]
MinorUnits = Annotated[
    StrictStr,
    AfterValidator(_minor_units),
    Field(
        description='integer minor units (JPY 1200 is "1200", USD 12.00 is "1200")',
        json_schema_extra={"pattern": "^(0|[1-9][0-9]{0,17})$", "examples": ["125000"]},
    ),
]
Id64 = Annotated[StrictStr, Field(min_length=1, max_length=64)]
Region = Annotated[StrictStr, Field(pattern=r"^[A-Z]{2}$")]
NotifyUrl = Annotated[StrictStr, Field(pattern=r"^https?://\S+$", max_length=2048)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WireAmount(_Model):
    currency: Currency
    value: MinorUnits

    def money(self) -> Money:
        return Money(self.currency, int(self.value))


class Address(_Model):
    region: Region | None = None
    city: Annotated[StrictStr, Field(max_length=64)] | None = None


class Store(_Model):
    referenceStoreId: Id64
    storeName: Annotated[StrictStr, Field(max_length=256)] | None = None
    storeMCC: StrictStr | None = None


class Merchant(_Model):
    referenceMerchantId: Id64
    merchantMCC: Annotated[StrictStr, Field(pattern=r"^[0-9]{4}$")]
    merchantName: Annotated[StrictStr, Field(min_length=1, max_length=256)]
    merchantAddress: Address | None = None
    store: Store | None = None


class Order(_Model):
    referenceOrderId: Id64
    orderDescription: Annotated[StrictStr, Field(min_length=1, max_length=256)]
    orderAmount: WireAmount
    merchant: Merchant


class PaymentMethod(_Model):
    paymentMethodType: Annotated[
        StrictStr, Field(min_length=1, max_length=64, examples=["CONNECT_WALLET", "GCASH"])
    ]
    paymentMethodId: Annotated[StrictStr, Field(min_length=1, max_length=128)] | None = Field(
        None, description="the user-presented payment code", examples=["281002000000000013"]
    )


class PaymentFactor(_Model):
    isInStorePayment: StrictStr | None = Field(None, examples=["true"])
    isCashierPayment: StrictStr | None = Field(None, examples=["false", "true"])
    inStorePaymentScenario: StrictStr | None = Field(None, examples=["PaymentCode", "OrderCode"])
    presentmentMode: StrictStr | None = None


class SettlementStrategy(_Model):
    settlementCurrency: Currency | None = None


class PayRequest(_Model):
    paymentRequestId: Id64
    order: Order
    paymentAmount: WireAmount
    paymentMethod: PaymentMethod
    paymentFactor: PaymentFactor
    settlementStrategy: SettlementStrategy | None = None
    paymentExpiryTime: StrictStr | None = None
    paymentNotifyUrl: (
        Annotated[StrictStr, Field(pattern=r"^https?://\S+$", max_length=2048)] | None
    ) = None
    allowedPspRegions: list[Region] | None = None
    userRegion: Region | None = None


class InquiryPaymentRequest(_Model):
    paymentRequestId: Id64 | None = None
    paymentId: Id64 | None = None


class CancelPaymentRequest(_Model):
    paymentRequestId: Id64 | None = None
    paymentId: Id64 | None = None


class RefundRequest(_Model):
    refundRequestId: Id64
    paymentRequestId: Id64 | None = None
    paymentId: Id64 | None = None
    refundAmount: WireAmount
    refundReason: Annotated[StrictStr, Field(max_length=256)] | None = None


class UserInitiatedPayRequest(_Model):
    """A wallet claims the order its traveller scanned (Alipay+ MPP → hub)."""

    codeValue: Annotated[StrictStr, Field(min_length=1, max_length=512)]
    customerId: Id64 | None = None


class WalletResult(_Model):
    resultStatus: Annotated[StrictStr, Field(pattern=r"^[SFU]$")]
    resultCode: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    resultMessage: Annotated[StrictStr, Field(max_length=256)] | None = None


class WalletNotifyPaymentRequest(_Model):
    """A wallet reports the result of a payment it charged (Alipay+ MPP → hub)."""

    paymentRequestId: Id64
    paymentResult: WalletResult
    paymentId: Id64 | None = None
    customerId: Id64 | None = None
    payToAmount: WireAmount | None = None


class ConsultPaymentRequest(_Model):
    paymentAmount: WireAmount
    paymentFactor: PaymentFactor | None = None
    settlementStrategy: SettlementStrategy | None = None
    allowedPspRegions: list[Region] | None = None
    userRegion: Region | None = None


Model = TypeVar("Model", bound=BaseModel)

# Postgres text cannot hold NUL, and no encoding can hold a lone surrogate.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class _BadJson(ValueError):
    """Raised while decoding when the text is JSON Python reads but the wire does not allow."""


def _no_constants(name: str) -> Any:
    raise _BadJson(f"{name} is not a JSON value")


def _number(text: str) -> Any:
    # No scalar on the wire is a number; an unknown member may be one, but not a huge one.
    if len(text) > 32:
        raise _BadJson("a number has more than 32 characters")
    number = float(text) if any(c in text for c in ".eE") else int(text)
    if not math.isfinite(number):
        raise _BadJson(f"{text} is out of range")
    return number


def _members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) < len(pairs):
        names = [name for name, _ in pairs]
        twice = next(name for name in names if names.count(name) > 1)
        raise _BadJson(f"the member {twice!r} appears twice")
    return document


def _load(body: bytes) -> Any:
    """``body`` as strict JSON, or ``RequestRejected(PARAM_ILLEGAL)`` saying what is wrong."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestRejected(ResultCode.PARAM_ILLEGAL, "the body is not UTF-8") from exc
    if text.startswith("\ufeff"):
        raise RequestRejected(ResultCode.PARAM_ILLEGAL, "the body starts with a byte-order mark")
    try:
        document = json.loads(
            text,
            parse_constant=_no_constants,
            parse_float=_number,
            parse_int=_number,
            object_pairs_hook=_members,
        )
    except _BadJson as exc:
        raise RequestRejected(ResultCode.PARAM_ILLEGAL, f"the body is not valid: {exc}") from exc
    except ValueError as exc:
        raise RequestRejected(ResultCode.PARAM_ILLEGAL, "the body is not valid JSON") from exc
    except RecursionError as exc:
        raise RequestRejected(ResultCode.PARAM_ILLEGAL, "the body is nested too deeply") from exc
    # A NUL or a lone surrogate can only come in as a \u escape: strict JSON refuses a raw
    # control character and UTF-8 a raw surrogate. Most bodies have no escape to look for.
    pending = [document] if "\\u" in text else []
    while pending:  # not recursive: the depth is the sender's choice
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str) and _UNSTORABLE.search(value):
            raise RequestRejected(
                ResultCode.PARAM_ILLEGAL, "the body has a string with NUL or a lone surrogate"
            )
    return document


def parse(model: type[Model], body: bytes) -> Model:
    """Validate ``body`` as ``model`` or raise ``RequestRejected(PARAM_ILLEGAL)`` naming
    the first field that is wrong."""
    document = _load(body)
    if not isinstance(document, dict):
        raise RequestRejected(ResultCode.PARAM_ILLEGAL, "the body must be a JSON object")
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "body"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "is required"
        elif error["type"].startswith("string_type"):
            message = "must be a JSON string"
        raise RequestRejected(ResultCode.PARAM_ILLEGAL, f"{field}: {message}") from exc


def result_json(code: ResultCode, message: str | None = None) -> dict[str, str]:
    return {
        "resultCode": code.name,
        "resultStatus": code.status.value,
        "resultMessage": message or code.message,
    }


def amount_json(money: Money) -> dict[str, str]:
    return {"currency": money.currency, "value": str(money.minor)}


def quote_json(quote: Quote) -> dict[str, str]:
    return {
        "quoteId": quote.quote_id,
        "quoteCurrencyPair": quote.pair,
        "quotePrice": str(quote.price),
        "quoteStartTime": quote.start.isoformat(),
        "quoteExpiryTime": quote.expiry.isoformat(),
        "baseCurrency": quote.base,
    }


def compact(document: dict[str, Any]) -> dict[str, Any]:
    """Drop ``None`` members: an optional field is left out, never sent as null or ""."""
    return {key: value for key, value in document.items() if value is not None}
