"""Answers in the Alipay+ acquirer wire format, from the engine's records.

Every scalar is a string; optional members are left out rather than sent empty.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.answers import Answer, payment_result
from gateway.models import Order, Payment
from gateway.orders import OrderAnswer
from gateway.refunds import RefundAnswer
from gateway.results import ResultCode
from gateway.states import PaymentStatus
from gateway.wire import amount_json, compact, quote_json, result_json
from routing import ConsultOption, Router

__all__ = ["cancel", "consult", "inquiry", "order", "order_inquiry", "pay", "refund"]


def _payment_fields(payment: Payment, router: Router) -> dict[str, Any]:
    wallet = router.wallet(payment.wallet)
    paid = payment.status is PaymentStatus.SUCCEEDED
    return compact(
        {
            "acquirerId": payment.acquirer_id,
            "pspId": wallet.psp_id,
            "walletBrandName": wallet.name,
            "paymentRequestId": payment.payment_request_id,
            "paymentId": payment.payment_id,
            "paymentAmount": amount_json(payment.amount),
            "payToAmount": amount_json(payment.pay_to_amount),
            "paymentQuote": quote_json(payment.payment_quote),
            "settlementAmount": amount_json(payment.settlement_amount),
            "settlementQuote": quote_json(payment.settlement_quote),
            "customerId": payment.customer_id,
            "paymentTime": payment.completed_at.isoformat()
            if paid and payment.completed_at
            else None,
        }
    )


def pay(answer: Answer, router: Router) -> dict[str, Any]:
    document: dict[str, Any] = {"result": result_json(answer.code, answer.message)}
    if answer.payment is not None and answer.code is not ResultCode.REPEAT_REQ_INCONSISTENT:
        document.update(_payment_fields(answer.payment, router))
    return document


def inquiry(payment: Payment, router: Router) -> dict[str, Any]:
    return {
        "result": result_json(ResultCode.SUCCESS),
        "paymentResult": result_json(*payment_result(payment)),
        "paymentStatus": payment.status.value,
        **_payment_fields(payment, router),
        "refundedAmount": amount_json(payment.refunded),
    }


def cancel(answer: Answer, router: Router) -> dict[str, Any]:
    document: dict[str, Any] = {"result": result_json(answer.code, answer.message)}
    if answer.payment is not None:
        wallet = router.wallet(answer.payment.wallet)
        document.update(
            acquirerId=answer.payment.acquirer_id,
            pspId=wallet.psp_id,
            paymentId=answer.payment.payment_id,
            paymentRequestId=answer.payment.payment_request_id,
        )
    return document


def refund(answer: RefundAnswer, router: Router) -> dict[str, Any]:
    document: dict[str, Any] = {"result": result_json(answer.code, answer.message)}
    r, payment = answer.refund, answer.payment
    if r is None or payment is None or answer.code is ResultCode.REPEAT_REQ_INCONSISTENT:
        return document
    document.update(
        compact(
            {
                "acquirerId": payment.acquirer_id,
                "pspId": router.wallet(payment.wallet).psp_id,
                "paymentId": payment.payment_id,
                "refundRequestId": r.refund_request_id,
                "refundId": r.refund_id,
                "refundAmount": amount_json(r.amount),
                "refundFromAmount": amount_json(r.refund_from_amount),
                "settlementAmount": amount_json(r.settlement_amount),
                "settlementQuote": quote_json(payment.settlement_quote),
                "refundTime": r.completed_at.isoformat() if r.completed_at else None,
            }
        )
    )
    return document


def consult(options: list[ConsultOption]) -> dict[str, Any]:
    return {
        "result": result_json(ResultCode.SUCCESS),
        "paymentOptions": [
            compact(
                {
                    "paymentMethodType": option.wallet.psp_id,
                    "paymentMethodCategory": "WALLET",
                    "walletName": option.wallet.name,
                    "walletRegion": option.wallet.region,
                    "walletCurrency": option.wallet.currency,
                    "enabled": "true" if option.enabled else "false",
                    "disableReason": option.disable_reason,
                }
            )
            for option in options
        ],
    }


def order(answer: OrderAnswer, cashier_url: Callable[[Order], str | None]) -> dict[str, Any]:
    """The answer to an order-making ``pay``: the QR code to show, or the cashier to visit."""
    document: dict[str, Any] = {"result": result_json(answer.code, answer.message)}
    made = answer.order
    if made is None or answer.code is ResultCode.REPEAT_REQ_INCONSISTENT:
        return document
    document["paymentRequestId"] = made.purchase.payment_request_id
    document["paymentAmount"] = amount_json(made.purchase.amount)
    document["paymentExpiryTime"] = made.expires_at.isoformat()
    url = cashier_url(made)
    if url is not None:
        document["paymentUrl"] = url
    else:
        document["orderCodeForm"] = {
            "codeDetails": [
                {"codeValueType": "ORDER_CODE", "displayType": "TEXT", "codeValue": made.code_value}
            ],
            "expireTime": made.expires_at.isoformat(),
        }
    return document


def order_inquiry(answer: Answer, payment_request_id: str) -> dict[str, Any]:
    """An inquiry about an order no wallet has claimed yet."""
    return {
        "result": result_json(ResultCode.SUCCESS),
        "paymentResult": result_json(answer.code, answer.message),
        "paymentStatus": "WAITING" if answer.code.status.value == "U" else "CLOSED",
        "paymentRequestId": payment_request_id,
    }
