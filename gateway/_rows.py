"""How the ledger's records map to table rows and back (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, overload

from connectors import Merchant
from fx import Money, quote_from_dict, quote_to_dict
from gateway.models import Order, Payment, Purchase, Refund
from gateway.results import ResultCode
from gateway.states import PaymentStatus, RefundStatus

__all__ = [
    "order_from_row",
    "order_row",
    "payment_from_row",
    "payment_row",
    "refund_from_row",
    "refund_row",
]


@overload
def _utc(value: datetime) -> datetime: ...
@overload
def _utc(value: None) -> None: ...
def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything we write is UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def payment_row(p: Payment) -> dict[str, Any]:
    return {
        "payment_id": p.payment_id,
        "acquirer_id": p.acquirer_id,
        "payment_request_id": p.payment_request_id,
        "fingerprint": p.fingerprint,
        "status": p.status.value,
        "result_code": p.result_code.name,
        "result_message": p.result_message,
        "wallet": p.wallet,
        "route": p.route,
        "wallet_request_id": p.wallet_request_id,
        "payment_code_masked": p.payment_code_masked,
        "currency": p.amount.currency,
        "amount": p.amount.minor,
        "pay_to_currency": p.pay_to_amount.currency,
        "pay_to_amount": p.pay_to_amount.minor,
        "settlement_currency": p.settlement_amount.currency,
        "settlement_amount": p.settlement_amount.minor,
        "payment_quote": quote_to_dict(p.payment_quote),
        "settlement_quote": quote_to_dict(p.settlement_quote),
        "merchant": _merchant_json(p.merchant),
        "reference_order_id": p.reference_order_id,
        "order_description": p.order_description,
        "notify_url": p.notify_url,
        "wallet_payment_id": p.wallet_payment_id,
        "customer_id": p.customer_id,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        "completed_at": p.completed_at,
    }


def payment_from_row(row: Mapping[Any, Any]) -> Payment:
    merchant = row["merchant"]
    return Payment(
        payment_id=row["payment_id"],
        acquirer_id=row["acquirer_id"],
        payment_request_id=row["payment_request_id"],
        fingerprint=row["fingerprint"],
        status=PaymentStatus(row["status"]),
        result_code=ResultCode[row["result_code"]],
        result_message=row["result_message"],
        wallet=row["wallet"],
        route=row["route"],
        wallet_request_id=row["wallet_request_id"],
        payment_code_masked=row["payment_code_masked"],
        amount=Money(row["currency"], row["amount"]),
        pay_to_amount=Money(row["pay_to_currency"], row["pay_to_amount"]),
        settlement_amount=Money(row["settlement_currency"], row["settlement_amount"]),
        payment_quote=quote_from_dict(row["payment_quote"]),
        settlement_quote=quote_from_dict(row["settlement_quote"]),
        merchant=Merchant(**merchant),
        reference_order_id=row["reference_order_id"],
        order_description=row["order_description"],
        notify_url=row["notify_url"],
        refunded=Money(row["currency"], row["refunded"]),
        wallet_payment_id=row["wallet_payment_id"],
        customer_id=row["customer_id"],
        created_at=_utc(row["created_at"]),
        updated_at=_utc(row["updated_at"]),
        completed_at=_utc(row["completed_at"]),
    )


def refund_row(r: Refund) -> dict[str, Any]:
    return {
        "refund_id": r.refund_id,
        "payment_id": r.payment_id,
        "acquirer_id": r.acquirer_id,
        "refund_request_id": r.refund_request_id,
        "fingerprint": r.fingerprint,
        "status": r.status.value,
        "result_code": r.result_code.name,
        "result_message": r.result_message,
        "amount": r.amount.minor,
        "refund_from_amount": r.refund_from_amount.minor,
        "settlement_amount": r.settlement_amount.minor,
        "reason": r.reason,
        "wallet_refund_id": r.wallet_refund_id,
        "created_at": r.created_at,
        "completed_at": r.completed_at,
    }


def refund_from_row(row: Mapping[Any, Any]) -> Refund:
    """A refund from its row and its payment's currencies (``currency``, ``pay_to_currency``
    and ``settlement_currency``)."""
    currency, pay_to_currency = row["currency"], row["pay_to_currency"]
    settlement_currency = row["settlement_currency"]
    return Refund(
        refund_id=row["refund_id"],
        payment_id=row["payment_id"],
        acquirer_id=row["acquirer_id"],
        refund_request_id=row["refund_request_id"],
        fingerprint=row["fingerprint"],
        status=RefundStatus(row["status"]),
        result_code=ResultCode[row["result_code"]],
        result_message=row["result_message"],
        amount=Money(currency, row["amount"]),
        refund_from_amount=Money(pay_to_currency, row["refund_from_amount"]),
        settlement_amount=Money(settlement_currency, row["settlement_amount"]),
        reason=row["reason"],
        wallet_refund_id=row["wallet_refund_id"],
        created_at=_utc(row["created_at"]),
        completed_at=_utc(row["completed_at"]),
    )


def _merchant_json(merchant: Merchant) -> dict[str, Any]:
    return {
        "merchant_id": merchant.merchant_id,
        "name": merchant.name,
        "mcc": merchant.mcc,
        "region": merchant.region,
        "store_id": merchant.store_id,
        "store_name": merchant.store_name,
    }


def order_row(order: Order) -> dict[str, Any]:
    bought = order.purchase
    return {
        "order_id": order.order_id,
        "acquirer_id": bought.acquirer_id,
        "payment_request_id": bought.payment_request_id,
        "fingerprint": bought.fingerprint,
        "currency": bought.amount.currency,
        "amount": bought.amount.minor,
        "settlement_currency": bought.settlement_currency,
        "merchant": _merchant_json(bought.merchant),
        "reference_order_id": bought.reference_order_id,
        "order_description": bought.order_description,
        "notify_url": bought.notify_url,
        "code_value": order.code_value,
        "wallet": order.wallet,
        "expires_at": order.expires_at,
        "created_at": order.created_at,
    }


def order_from_row(row: Mapping[Any, Any]) -> Order:
    return Order(
        order_id=row["order_id"],
        purchase=Purchase(
            acquirer_id=row["acquirer_id"],
            payment_request_id=row["payment_request_id"],
            fingerprint=row["fingerprint"],
            amount=Money(row["currency"], row["amount"]),
            settlement_currency=row["settlement_currency"],
            merchant=Merchant(**row["merchant"]),
            reference_order_id=row["reference_order_id"],
            order_description=row["order_description"],
            notify_url=row["notify_url"],
        ),
        code_value=row["code_value"],
        expires_at=_utc(row["expires_at"]),
        created_at=_utc(row["created_at"]),
        wallet=row["wallet"],
    )
