"""Canonical requests and results: the words the core and every connector share.

The core speaks these types; a connector translates them to and from its wallet's wire
format. Amounts are integer minor units of an ISO 4217 currency (``Amount("KRW", 45210)``);
this package does not know exponents, the core's ``fx`` package does.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

__all__ = [
    "Amount",
    "CancelRequest",
    "CancelResult",
    "InquireRequest",
    "Merchant",
    "Outcome",
    "PayRequest",
    "PaymentResult",
    "QuoteTerms",
    "RefundLookup",
    "RefundPresence",
    "RefundRequest",
    "RefundResult",
    "WalletNotification",
]


@dataclass(frozen=True, slots=True)
class Amount:
    """An amount of money in integer minor units: ``Amount("JPY", 1200)`` is ¥1,200."""

    currency: str
    value: int

    def __str__(self) -> str:
        return f"{self.value} {self.currency} (minor units)"


class Outcome(enum.StrEnum):
    """What a wallet said about an operation.

    ``PENDING`` means the wallet has not (or not yet) given a final answer: the core
    resolves it by inquiry, never by assuming success or failure.
    """

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    PENDING = "PENDING"


@dataclass(frozen=True, slots=True)
class QuoteTerms:
    """The locked FX quote a wallet is told about (Alipay+ ``paymentQuote``)."""

    quote_id: str
    base_currency: str
    quote_currency: str
    price: Decimal
    start: datetime
    expiry: datetime


@dataclass(frozen=True, slots=True)
class Merchant:
    """Who is being paid, as the traveller's wallet shows it."""

    merchant_id: str
    name: str
    mcc: str
    region: str
    store_id: str | None = None
    store_name: str | None = None


@dataclass(frozen=True, slots=True)
class PayRequest:
    """Charge the traveller ``pay_to_amount`` in the wallet's currency.

    ``wallet_request_id`` is deterministic for the payment: sending the same request twice
    must never charge twice, because the wallet deduplicates on it.
    """

    wallet_request_id: str
    acquirer_id: str
    payment_code: str = field(repr=False)  # a bearer credential while it is valid
    payment_amount: Amount
    pay_to_amount: Amount
    quote: QuoteTerms | None
    merchant: Merchant
    order_description: str
    reference_order_id: str
    expiry: datetime | None = None


@dataclass(frozen=True, slots=True)
class InquireRequest:
    """Ask the wallet for the state of the payment it knows by ``wallet_request_id``.

    ``wallet_payment_id`` is the wallet's own id for it, when an earlier answer gave one
    (even a pending answer): some protocols can only be asked by that id.
    """

    wallet_request_id: str
    acquirer_id: str
    wallet_payment_id: str | None = None


@dataclass(frozen=True, slots=True)
class CancelRequest:
    """Cancel (and reverse, if it was charged) the payment known by ``wallet_request_id``;
    ``wallet_payment_id`` as for :class:`InquireRequest`."""

    wallet_request_id: str
    acquirer_id: str
    wallet_payment_id: str | None = None


@dataclass(frozen=True, slots=True)
class RefundRequest:
    """Give back ``refund_from_amount`` (wallet currency) of a succeeded payment.

    ``refund_request_id`` is deterministic for the refund, as ``wallet_request_id`` is for
    the payment.
    """

    refund_request_id: str
    wallet_request_id: str
    wallet_payment_id: str | None
    acquirer_id: str
    refund_amount: Amount
    refund_from_amount: Amount
    quote: QuoteTerms | None
    reason: str | None = None
    #: The whole payment being refunded, in its transaction currency (some protocols
    #: require the original amount alongside the refund's).
    payment_amount: Amount | None = None


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """The wallet's answer to a pay or an inquiry.

    Build one with a named constructor::

        PaymentResult.succeeded(wallet_payment_id="2026...", customer_id="K-77")
        PaymentResult.declined("USER_BALANCE_NOT_ENOUGH", "balance too low")
        PaymentResult.pending("wallet is still processing")

    ``code`` is always an Alipay+ result code: a connector maps its wallet's codes to
    those, and keeps the wallet's own in ``wallet_code``.

    ``pay_to_amount`` is what the wallet charged the payer, in the payer's currency, when
    the wallet converts at its own rate and says so (WeChat Pay's ``cash_fee``). ``None``:
    it charged the ``pay_to_amount`` it was sent. The hub books what the wallet charged.
    """

    outcome: Outcome
    code: str
    message: str
    wallet_payment_id: str | None = None
    customer_id: str | None = None
    paid_at: datetime | None = None
    wallet_code: str | None = None
    pay_to_amount: Amount | None = None

    @classmethod
    def succeeded(
        cls,
        *,
        wallet_payment_id: str | None,
        customer_id: str | None = None,
        paid_at: datetime | None = None,
        pay_to_amount: Amount | None = None,
    ) -> PaymentResult:
        return cls(
            Outcome.SUCCEEDED,
            "SUCCESS",
            "Success",
            wallet_payment_id=wallet_payment_id,
            customer_id=customer_id,
            paid_at=paid_at,
            pay_to_amount=pay_to_amount,
        )

    @classmethod
    def declined(cls, code: str, message: str, *, wallet_code: str | None = None) -> PaymentResult:
        return cls(Outcome.FAILED, code, message, wallet_code=wallet_code)

    @classmethod
    def pending(
        cls,
        message: str,
        *,
        wallet_code: str | None = None,
        wallet_payment_id: str | None = None,
    ) -> PaymentResult:
        return cls(
            Outcome.PENDING,
            "PAYMENT_IN_PROCESS",
            message,
            wallet_code=wallet_code,
            wallet_payment_id=wallet_payment_id,
        )


@dataclass(frozen=True, slots=True)
class CancelResult:
    """The wallet's answer to a cancel: ``SUCCEEDED`` means it will never be charged."""

    outcome: Outcome
    code: str
    message: str

    @classmethod
    def succeeded(cls) -> CancelResult:
        return cls(Outcome.SUCCEEDED, "SUCCESS", "Success")

    @classmethod
    def declined(cls, code: str, message: str) -> CancelResult:
        return cls(Outcome.FAILED, code, message)

    @classmethod
    def pending(cls, message: str) -> CancelResult:
        return cls(Outcome.PENDING, "UNKNOWN_EXCEPTION", message)


@dataclass(frozen=True, slots=True)
class RefundResult:
    """The wallet's answer to a refund.

    ``refund_from_amount`` is what the wallet gave back to the payer, in the payer's
    currency, when the wallet works that out itself and says so (WeChat Pay refunds the
    refund's share of what it charged, rounded its own way). ``None``: the wallet gave back
    the ``refund_from_amount`` it was sent. The hub books what the wallet says it moved.
    """

    outcome: Outcome
    code: str
    message: str
    wallet_refund_id: str | None = None
    refunded_at: datetime | None = None
    refund_from_amount: Amount | None = None

    @classmethod
    def succeeded(
        cls,
        *,
        wallet_refund_id: str | None,
        refunded_at: datetime | None = None,
        refund_from_amount: Amount | None = None,
    ) -> RefundResult:
        return cls(
            Outcome.SUCCEEDED,
            "SUCCESS",
            "Success",
            wallet_refund_id=wallet_refund_id,
            refunded_at=refunded_at,
            refund_from_amount=refund_from_amount,
        )

    @classmethod
    def declined(cls, code: str, message: str) -> RefundResult:
        return cls(Outcome.FAILED, code, message)

    @classmethod
    def pending(cls, message: str) -> RefundResult:
        return cls(Outcome.PENDING, "UNKNOWN_EXCEPTION", message)


class RefundPresence(enum.StrEnum):
    """Whether a wallet's records hold a refund, as :class:`RefundLookup` reports it."""

    FOUND = "FOUND"  # the wallet carried the refund out
    ABSENT = "ABSENT"  # the wallet has the payment, and no such refund on it
    UNKNOWN = "UNKNOWN"  # the answer does not tell


@dataclass(frozen=True, slots=True)
class RefundLookup:
    """What a wallet's records say of one refund, when asked by a
    :class:`~connectors.RefundInquiry`.

    Make one with a named constructor::

        RefundLookup.found(wallet_refund_id="A9000000000000000013", refunded_at=when)
        RefundLookup.absent("no cancel of T9000000000000000001 carries this payload")
        RefundLookup.unknown("order answered HTTP 503")

    ``ABSENT`` is what allows the hub to send a refund again to a wallet that would pay it
    twice, so it must be certain: the wallet's answer names the payment and lists every
    refund of it, and none is this one. Anything less certain is ``UNKNOWN``; a record
    that is this refund but disagrees with it (another amount) is not ``FOUND`` either.
    """

    presence: RefundPresence
    message: str
    wallet_refund_id: str | None = None
    refunded_at: datetime | None = None

    @classmethod
    def found(
        cls, *, wallet_refund_id: str | None, refunded_at: datetime | None = None
    ) -> RefundLookup:
        return cls(
            RefundPresence.FOUND,
            "the wallet has the refund",
            wallet_refund_id=wallet_refund_id,
            refunded_at=refunded_at,
        )

    @classmethod
    def absent(cls, message: str) -> RefundLookup:
        return cls(RefundPresence.ABSENT, message)

    @classmethod
    def unknown(cls, message: str) -> RefundLookup:
        return cls(RefundPresence.UNKNOWN, message)


@dataclass(frozen=True, slots=True)
class WalletNotification:
    """What one callback from a wallet says: which payment or refund, and its result.

    The keys say *which* operation, as the hub can find it: ``wallet_request_id`` is our
    id for the payment (:attr:`PayRequest.wallet_request_id`) when the callback names it,
    ``wallet_payment_id`` the wallet's, as an earlier answer gave it
    (:attr:`PaymentResult.wallet_payment_id`: M-Pesa's ``CheckoutRequestID``). A refund's
    callback sets ``refund_request_id`` (ours) and/or ``wallet_refund_id`` (the wallet's, as
    the refund's earlier answer gave it in :attr:`RefundResult.wallet_refund_id`).

    Exactly one of ``payment`` and ``refund`` is set: *what became of it*, by the same rules
    as a ``parse_*`` result. It may carry an id newer than the keys (M-Pesa names a paid
    push by its receipt, which a reversal then needs): the hub finds the operation by the
    keys and keeps what the result says. Make one with a named constructor::

        WalletNotification.for_payment(result, wallet_payment_id="ws_CO_191220191020363925")
        WalletNotification.for_refund(result, wallet_refund_id="AG_20240122_00004e4e9b8b")
    """

    wallet_request_id: str | None
    wallet_payment_id: str | None
    refund_request_id: str | None = None
    wallet_refund_id: str | None = None
    payment: PaymentResult | None = None
    refund: RefundResult | None = None

    def __post_init__(self) -> None:
        # A notification the hub cannot attribute to one operation is a connector's bug,
        # caught where it is made rather than when the hub looks for what it names.
        if (self.payment is None) == (self.refund is None):
            raise ValueError("a notification carries exactly one of payment and refund")
        # An empty id names nothing, as much as a missing one.
        if self.payment is not None:
            if self.refund_request_id or self.wallet_refund_id:
                raise ValueError("a payment's notification names no refund")
            if not (self.wallet_request_id or self.wallet_payment_id):
                raise ValueError(
                    "a payment's notification names it by wallet_request_id or wallet_payment_id"
                )
        elif not (self.refund_request_id or self.wallet_refund_id):
            raise ValueError(
                "a refund's notification names it by refund_request_id or wallet_refund_id"
            )

    @classmethod
    def for_payment(
        cls,
        result: PaymentResult,
        *,
        wallet_request_id: str | None = None,
        wallet_payment_id: str | None = None,
    ) -> WalletNotification:
        """The result of the payment the callback names (by at least one of the ids)."""
        return cls(wallet_request_id, wallet_payment_id, payment=result)

    @classmethod
    def for_refund(
        cls,
        result: RefundResult,
        *,
        refund_request_id: str | None = None,
        wallet_refund_id: str | None = None,
        wallet_request_id: str | None = None,
        wallet_payment_id: str | None = None,
    ) -> WalletNotification:
        """The result of the refund the callback names (by at least one of its ids); the
        payment's ids, when the callback gives them too, are for the record."""
        return cls(
            wallet_request_id,
            wallet_payment_id,
            refund_request_id=refund_request_id,
            wallet_refund_id=wallet_refund_id,
            refund=result,
        )
