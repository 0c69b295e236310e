"""Canonical requests as KakaoPay request bodies, and KakaoPay's timestamps as times."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from connectors import CancelRequest, InquireRequest, PayRequest, RefundRequest
from connectors.kakaopay._wire import CancelBody, OrderBody, ReadyBody

__all__ = [
    "KST",
    "cancel_body",
    "order_body",
    "parse_time",
    "ready_body",
    "refund_body",
    "refund_order_body",
]

#: KakaoPay writes local Korean time without an offset; Korea keeps no summer time.
KST = timezone(timedelta(hours=9), "KST")
_ITEM_NAME_MAX = 100  # KakaoPay's limit on item_name


def parse_time(value: str | None) -> datetime | None:
    """KakaoPay's timestamp as an aware time, or ``None`` if absent or unparseable: a
    malformed time is informational and must not turn a charge into an error."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=KST)


def ready_body(request: PayRequest, cid: str, urls: tuple[str, str, str]) -> ReadyBody:
    approval_url, cancel_url, fail_url = urls
    name = request.order_description.strip() or request.merchant.name
    return ReadyBody(
        cid=cid,
        partner_order_id=request.wallet_request_id,
        partner_user_id=request.payment_code,
        item_name=name[:_ITEM_NAME_MAX],
        quantity=1,
        total_amount=request.pay_to_amount.value,
        # Cross-border purchases abroad carry no Korean VAT split; KakaoPay derives vat.
        tax_free_amount=0,
        approval_url=approval_url,
        cancel_url=cancel_url,
        fail_url=fail_url,
    )


def _payment_keys(tid: str | None, wallet_request_id: str) -> tuple[str | None, str | None]:
    """``(tid, partner_order_id)`` naming the payment: KakaoPay's ``tid`` when an earlier
    answer gave it, else (a ``ready`` whose answer was lost) the ``partner_order_id``,
    Causeway's extension that the real wallet does not offer (see the package docstring)."""
    return (tid, None) if tid else (None, wallet_request_id)


def order_body(request: InquireRequest, cid: str) -> OrderBody:
    tid, order_id = _payment_keys(request.wallet_payment_id, request.wallet_request_id)
    return OrderBody(cid=cid, tid=tid, partner_order_id=order_id)


def refund_order_body(request: RefundRequest, cid: str) -> OrderBody:
    """``order`` for the payment a refund is of: its cancels are listed there."""
    tid, order_id = _payment_keys(request.wallet_payment_id, request.wallet_request_id)
    return OrderBody(cid=cid, tid=tid, partner_order_id=order_id)


def cancel_body(request: CancelRequest, cid: str) -> CancelBody:
    """A full cancel: no ``cancel_amount`` means everything still cancellable."""
    tid, order_id = _payment_keys(request.wallet_payment_id, request.wallet_request_id)
    return CancelBody(cid=cid, tid=tid, partner_order_id=order_id, cancel_tax_free_amount=0)


def refund_body(request: RefundRequest, cid: str) -> CancelBody:
    """A partial (or whole) cancel keyed by ``payload`` = ``refund_request_id``."""
    tid, order_id = _payment_keys(request.wallet_payment_id, request.wallet_request_id)
    return CancelBody(
        cid=cid,
        tid=tid,
        partner_order_id=order_id,
        cancel_amount=request.refund_from_amount.value,
        cancel_tax_free_amount=0,
        payload=request.refund_request_id,
    )
