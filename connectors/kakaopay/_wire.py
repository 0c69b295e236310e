"""The KakaoPay online-payment wire format: what the hub sends and what KakaoPay answers.

Field names are KakaoPay's own snake_case, so these models read like its reference. Amounts
are JSON integers in won (KRW has no minor unit). Request bodies leave out absent optional
fields (``exclude_none``); response models ignore fields they do not know, because KakaoPay
adds fields (card details, ``tms_result``...) without notice.

A failure is any HTTP 4xx with ``{"error_code", "error_message", "extras"}`` (the open API)
or ``{"code", "msg", "extras"}`` (the older ``kapi.kakao.com`` API); both are read.
"""

from __future__ import annotations

import enum

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

__all__ = [
    "ApprovalFailure",
    "CancelBody",
    "CancelResponse",
    "ErrorBody",
    "ErrorCode",
    "MethodResult",
    "OrderBody",
    "OrderResponse",
    "PaymentAction",
    "PaymentActionType",
    "PaymentStatus",
    "ReadyBody",
    "ReadyResponse",
    "WireAmount",
]


class PaymentStatus(enum.StrEnum):
    """A payment's ``status`` in ``order`` and ``cancel`` answers."""

    READY = "READY"  # ready was called; the traveller has not started
    SEND_TMS = "SEND_TMS"  # a payment message was sent to the traveller's KakaoTalk
    OPEN_PAYMENT = "OPEN_PAYMENT"  # the traveller opened the payment screen
    SELECT_METHOD = "SELECT_METHOD"  # choosing money or card
    ARS_WAITING = "ARS_WAITING"  # waiting for phone (ARS) authentication
    # (S105: these are status names, not passwords.)
    AUTH_PASSWORD = "AUTH_PASSWORD"  # noqa: S105 - password authentication passed
    ISSUED_SID = "ISSUED_SID"  # a subscription id was issued (subscriptions only)
    SUCCESS_PAYMENT = "SUCCESS_PAYMENT"  # approved: the money moved
    PART_CANCEL_PAYMENT = "PART_CANCEL_PAYMENT"  # approved, then partly cancelled
    CANCEL_PAYMENT = "CANCEL_PAYMENT"  # cancelled in full
    FAIL_AUTH_PASSWORD = "FAIL_AUTH_PASSWORD"  # noqa: S105 - failed password authentication
    QUIT_PAYMENT = "QUIT_PAYMENT"  # the traveller abandoned the payment
    FAIL_PAYMENT = "FAIL_PAYMENT"  # approval failed

    @classmethod
    def read(cls, value: str) -> PaymentStatus | None:
        """The status, or ``None`` for a value KakaoPay does not define (maps to pending)."""
        try:
            return cls(value)
        except ValueError:
            return None


class PaymentActionType(enum.StrEnum):
    """What one entry of ``order``'s ``payment_action_details`` did to the payment."""

    PAYMENT = "PAYMENT"  # the approval: money taken
    CANCEL = "CANCEL"  # a cancel, whole or partial: money given back
    ISSUED_SID = "ISSUED_SID"  # a subscription id issued (subscriptions only)

    @classmethod
    def read(cls, value: str | None) -> PaymentActionType | None:
        try:
            return cls(value or "")
        except ValueError:
            return None


class ErrorCode(enum.IntEnum):
    """The ``error_code`` values this connector tells apart; any other is a plain failure.

    ``APPROVAL_FAILED`` (-780, with ``extras.method_result_code``) is as KakaoPay documents
    it; ``INVALID_PARAMETER`` and ``UNAUTHORIZED`` are Kakao's common codes. The other numbers
    are this package's reading of KakaoPay's -7xx range and are what the simulator answers:
    check them against the current reference before going live.
    """

    INVALID_PARAMETER = -2
    UNAUTHORIZED = -401
    INVALID_STATUS = -702  # the payment's status does not allow the call
    ORDER_NOT_FOUND = -721  # no payment with that tid (or partner_order_id)
    INCONSISTENT_ORDER = -726  # a partner_order_id or payload reused with other details
    APPROVAL_FAILED = -780
    CANCEL_AMOUNT_EXCEEDED = -798  # more than cancel_available_amount

    @classmethod
    def read(cls, value: int) -> ErrorCode | None:
        try:
            return cls(value)
        except ValueError:
            return None


class ApprovalFailure(enum.StrEnum):
    """``extras.method_result_code`` values this connector maps to a specific decline.

    KakaoPay publishes no list: ``USER_LOCKED`` is the one its reference shows; the other
    three are the simulator's names for the declines Causeway distinguishes.
    """

    USER_LOCKED = "USER_LOCKED"  # another payment of the traveller's is in progress
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    EXCEED_LIMIT = "EXCEED_LIMIT"
    USER_NOT_FOUND = "USER_NOT_FOUND"

    @classmethod
    def read(cls, value: str | None) -> ApprovalFailure | None:
        try:
            return cls(value or "")
        except ValueError:
            return None


class _Request(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_bytes(self) -> bytes:
        """The exact bytes to send."""
        return self.model_dump_json(exclude_none=True).encode()


class ReadyBody(_Request):
    cid: str
    partner_order_id: str
    partner_user_id: str = Field(repr=False)
    item_name: str
    quantity: int
    total_amount: int
    tax_free_amount: int
    approval_url: str
    cancel_url: str
    fail_url: str


class OrderBody(_Request):
    """The body of ``order``: KakaoPay names the payment by ``tid``; ``partner_order_id``
    alone is Causeway's extension (see the package docstring)."""

    cid: str
    tid: str | None = None
    partner_order_id: str | None = None


class CancelBody(_Request):
    """The body of ``cancel``, which is both the cancel and the refund."""

    cid: str
    tid: str | None = None
    partner_order_id: str | None = None
    cancel_amount: int | None = None
    cancel_tax_free_amount: int
    payload: str | None = None


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class WireAmount(_Response):
    total: int
    tax_free: int = 0
    vat: int = 0
    point: int = 0
    discount: int = 0
    green_deposit: int = 0


class MethodResult(_Response):
    """``extras``: why the payment method refused."""

    method_result_code: str | None = None
    method_result_message: str | None = None


class ReadyResponse(_Response):
    tid: str = Field(min_length=1)
    next_redirect_app_url: str | None = None
    next_redirect_mobile_url: str | None = None
    next_redirect_pc_url: str | None = None
    android_app_scheme: str | None = None
    ios_app_scheme: str | None = None
    created_at: str | None = None


class PaymentAction(_Response):
    """One entry of ``payment_action_details``: a call that moved the payment's money.

    What is known of it, and from where (checked while building the refund inquiry):
    KakaoPay's developer guide documents ``payload`` as an optional string of up to 200
    characters sent with ``cancel`` and kept with that request, and ``aid`` as the unique
    id of each approve or cancel call (20 characters); the ``cancel`` answer carries that
    ``aid`` and echoes ``payload``. The entry's fields (``aid``, ``approved_at``,
    ``amount``, ``point_amount``, ``discount_amount``, ``payment_action_type`` of
    ``PAYMENT``, ``CANCEL`` or ``ISSUED_SID``, and ``payload``) are as integrations
    built against the live API model the ``order`` answer; the reference page for
    ``order`` itself could not be retrieved to confirm them, so check it before going
    live. Published sample answers leave ``payload`` out of entries sent without one (the
    simulator writes ``""``), and some leave out ``amount``: every field is optional here,
    and the connector never counts an entry missing what it needs as the refund.
    """

    aid: str | None = None
    approved_at: str | None = None
    amount: int | None = None
    payment_action_type: str | None = None
    payload: str | None = None


class OrderResponse(_Response):
    tid: str = Field(min_length=1)
    cid: str | None = None
    status: str
    partner_order_id: str | None = None
    partner_user_id: str | None = Field(None, repr=False)
    payment_method_type: str | None = None
    amount: WireAmount | None = None
    canceled_amount: WireAmount | None = None
    cancel_available_amount: WireAmount | None = None
    created_at: str | None = None
    approved_at: str | None = None
    canceled_at: str | None = None
    #: Why approval failed, on ``FAIL_PAYMENT``: the simulator's extension, carrying what
    #: the -780 answer to ``approve`` would have told a hub that approves by itself.
    extras: MethodResult | None = None
    #: Every approval and cancel of the payment, oldest first; ``None`` when the answer
    #: leaves the list out (then it says nothing of any refund).
    payment_action_details: list[PaymentAction] | None = None


class CancelResponse(_Response):
    aid: str | None = None
    tid: str = Field(min_length=1)
    cid: str | None = None
    status: str
    partner_order_id: str | None = None
    approved_cancel_amount: WireAmount | None = None
    canceled_amount: WireAmount | None = None
    cancel_available_amount: WireAmount | None = None
    canceled_at: str | None = None
    payload: str | None = None


class ErrorBody(_Response):
    error_code: int = Field(validation_alias=AliasChoices("error_code", "code"))
    error_message: str | None = Field(
        default=None, validation_alias=AliasChoices("error_message", "msg")
    )
    extras: MethodResult | None = None

    @property
    def code(self) -> ErrorCode | None:
        return ErrorCode.read(self.error_code)

    @property
    def wallet_code(self) -> str:
        """The most specific code the wallet gave: the method's, else the error code."""
        if self.extras is not None and self.extras.method_result_code:
            return self.extras.method_result_code
        return str(self.error_code)

    @property
    def message(self) -> str:
        if self.extras is not None and self.extras.method_result_message:
            return self.extras.method_result_message
        return self.error_message or f"KakaoPay error {self.error_code}"
