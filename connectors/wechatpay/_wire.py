"""The WeChat Pay v2 wire format: the fields a hub sends and the fields the wallet answers.

Field names are the wire's own snake_case, so these models read like the WeChat Pay docs.
Every value on the wire is text; amounts are integers of minor units (``total_fee`` of the
merchant's currency ``fee_type``, ``cash_fee`` of the payer's ``cash_fee_type``, CNY) and
``rate`` is the exchange rate of ``fee_type`` to CNY multiplied by 10^8. An empty element is
an absent field. Answer models ignore fields they do not know, because the wallet adds
fields without notice.

Every answer has two levels: ``return_code`` says whether the wallet accepted the request at
all (``FAIL`` means it was refused before any processing, with only ``return_msg``), and
``result_code`` says how the business operation went, with ``err_code`` on ``FAIL``.
"""

from __future__ import annotations

import enum
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "BusinessResult",
    "MicropayBody",
    "MicropayReply",
    "OrderRef",
    "OrderqueryReply",
    "Recall",
    "RefundBody",
    "RefundReply",
    "ReturnCode",
    "ReverseReply",
    "TradeState",
    "WireReply",
    "known",
]

EnumT = TypeVar("EnumT", bound=enum.StrEnum)


def known(kind: type[EnumT], value: str | None) -> EnumT | None:
    """``value`` as a member of ``kind``, or ``None`` for anything the protocol does not
    define (which the translation maps to pending, never to success)."""
    try:
        return kind(value or "")
    except ValueError:
        return None


class ReturnCode(enum.StrEnum):
    """``return_code``: did the wallet take the request in at all."""

    SUCCESS = "SUCCESS"
    FAIL = "FAIL"


class BusinessResult(enum.StrEnum):
    """``result_code``: how the operation itself went."""

    SUCCESS = "SUCCESS"
    FAIL = "FAIL"


class TradeState(enum.StrEnum):
    """``trade_state`` in an ``orderquery`` answer."""

    SUCCESS = "SUCCESS"  # paid
    REFUND = "REFUND"  # paid, then (partly) refunded
    NOTPAY = "NOTPAY"  # not paid yet
    CLOSED = "CLOSED"  # closed unpaid
    REVOKED = "REVOKED"  # reversed (quick pay only)
    USERPAYING = "USERPAYING"  # waiting for the payer's password (quick pay only)
    PAYERROR = "PAYERROR"  # failed, e.g. the bank refused (quick pay only)
    ACCEPT = "ACCEPT"  # accepted, debit pending (domestic docs; harmless to know)


class Recall(enum.StrEnum):
    """``recall`` in a ``reverse`` answer: must the reverse be called again."""

    YES = "Y"
    NO = "N"


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def fields(self) -> dict[str, str]:
        """The business fields to sign and send; absent ones are left out, never empty."""
        return {name: value for name, value in self.model_dump().items() if value is not None}


class MicropayBody(_Body):
    """``/pay/micropay``: charge the payer who showed ``auth_code``."""

    body: str
    attach: str | None = None
    out_trade_no: str
    total_fee: str
    fee_type: str
    spbill_create_ip: str
    auth_code: str = Field(repr=False)


class OrderRef(_Body):
    """``/pay/orderquery`` and ``/secapi/pay/reverse``: the order, by our order number."""

    out_trade_no: str


class RefundBody(_Body):
    """``/secapi/pay/refund``: give back ``refund_fee`` of ``refund_fee_type``."""

    transaction_id: str | None = None
    out_trade_no: str
    out_refund_no: str
    total_fee: str | None = None
    refund_fee: str
    refund_fee_type: str


class WireReply(BaseModel):
    """What every answer carries."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    return_code: str
    return_msg: str | None = None
    appid: str | None = None
    mch_id: str | None = None
    result_code: str | None = None
    err_code: str | None = None
    err_code_des: str | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_absent(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def failure(self) -> str:
        """``err_code: err_code_des``, for messages."""
        return f"{self.err_code or 'FAIL'}: {self.err_code_des or 'no description'}"


class MicropayReply(WireReply):
    out_trade_no: str | None = None
    transaction_id: str | None = None
    openid: str | None = None
    fee_type: str | None = None
    total_fee: int | None = None
    cash_fee_type: str | None = None
    cash_fee: int | None = None
    rate: int | None = None
    time_end: str | None = None


class OrderqueryReply(MicropayReply):
    trade_state: str | None = None
    trade_state_desc: str | None = None


class ReverseReply(WireReply):
    recall: str | None = None


class RefundReply(WireReply):
    out_trade_no: str | None = None
    transaction_id: str | None = None
    out_refund_no: str | None = None
    refund_id: str | None = None
    refund_fee: int | None = None
    cash_fee: int | None = None
    cash_refund_fee_type: str | None = None
    cash_refund_fee: int | None = None
