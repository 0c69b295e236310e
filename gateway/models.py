"""The gateway's records: a payment and its refunds, as the ledger stores them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from connectors import Merchant
from fx import Money, Quote
from gateway.results import ResultCode
from gateway.states import PaymentStatus, RefundStatus

__all__ = ["Notification", "Order", "Payment", "Purchase", "Refund", "mask_code"]


def mask_code(code: str) -> str:
    """A payment code as it may appear in storage, logs and answers: ``••••••••••••••3344``."""
    return "•" * max(len(code) - 4, 4) + code[-4:] if len(code) > 8 else "•" * len(code)


@dataclass(frozen=True, slots=True)
class Purchase:
    """What an acquirer asked to be paid, whichever way the traveller pays it."""

    acquirer_id: str
    payment_request_id: str
    fingerprint: str
    amount: Money
    settlement_currency: str
    merchant: Merchant
    reference_order_id: str
    order_description: str
    notify_url: str | None


@dataclass(frozen=True, slots=True)
class Order:
    """A purchase waiting for the traveller to scan its QR code (or pay at the cashier).

    The payment is made when a wallet claims the order; until then there is no wallet, no
    quote and no charge.
    """

    order_id: str
    purchase: Purchase
    code_value: str
    expires_at: datetime
    created_at: datetime
    wallet: str | None = None  # the wallet the acquirer chose, for cashier payments


@dataclass(frozen=True, slots=True)
class Payment:
    """One payment: what the acquirer asked, what the wallet was told, and where it stands.

    ``amount`` is in the transaction currency, ``pay_to_amount`` in the wallet's and
    ``settlement_amount`` in the acquirer's settlement currency; the quotes that produced
    them are stored with it, so refunds and settlement reuse the same prices.
    """

    payment_id: str
    acquirer_id: str
    payment_request_id: str
    fingerprint: str
    status: PaymentStatus
    result_code: ResultCode
    result_message: str
    wallet: str
    route: str
    wallet_request_id: str
    payment_code_masked: str
    amount: Money
    pay_to_amount: Money
    settlement_amount: Money
    payment_quote: Quote
    settlement_quote: Quote
    merchant: Merchant
    reference_order_id: str
    order_description: str
    notify_url: str | None
    refunded: Money
    wallet_payment_id: str | None
    customer_id: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Refund:
    """A refund of part or all of a succeeded payment, in the payment's three currencies."""

    refund_id: str
    payment_id: str
    acquirer_id: str
    refund_request_id: str
    fingerprint: str
    status: RefundStatus
    result_code: ResultCode
    result_message: str
    amount: Money
    refund_from_amount: Money
    settlement_amount: Money
    reason: str | None
    wallet_refund_id: str | None
    created_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Notification:
    """A merchant notification in the outbox: one per payment that became final."""

    notification_id: str
    payment_id: str
    acquirer_id: str
    url: str
    body: str
    attempts: int
