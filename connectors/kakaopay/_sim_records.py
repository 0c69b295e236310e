"""The simulated KakaoPay's records (a payment, a ledger entry) and what it answers about
a payment: ``ready``, ``order`` and ``cancel`` bodies, field for field as KakaoPay's reference
lists them (absent values left out)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Literal

from connectors.kakaopay._sim_wire import Answer, amount, now

if TYPE_CHECKING:
    from connectors.kakaopay.simulator import SimulatedAccount

__all__ = [
    "LedgerEntry",
    "Payment",
    "cancel_view",
    "order_view",
    "ready_view",
    "record_movement",
]


@dataclasses.dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One movement of money on an account."""

    kind: Literal["pay", "reverse", "refund"]
    tid: str
    partner_order_id: str
    aid: str
    payload: str | None
    account_id: str
    amount: int
    currency: str
    time: str

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(slots=True)
class Payment:
    """One ``tid``: what ``ready`` asked for and what became of it."""

    tid: str
    cid: str
    order_id: str
    user_id: str
    item_name: str
    quantity: int
    total: int
    tax_free: int
    created_at: str
    approve_at: float
    status: str = "READY"
    account: SimulatedAccount | None = None
    approved_at: str | None = None
    canceled_at: str | None = None
    canceled: int = 0
    failure: dict[str, str] | None = None
    actions: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    #: Refunds by ``payload``: the amount asked and the answer given, for replays.
    refunds: dict[str, tuple[int, Answer]] = dataclasses.field(default_factory=dict)

    @property
    def charged(self) -> int:
        return self.total if self.approved_at is not None else 0


#: Where the traveller would be sent; ``.test`` so that nothing real is ever reached.
_PAGES = "https://mockup-pg-web.kakao.test/v1"


def _present(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}


def ready_view(payment: Payment) -> dict[str, Any]:
    page = f"{_PAGES}/{payment.tid.lower()}"
    scheme = f"kakaotalk://kakaopay/pg?url={page}/order"
    return {
        "tid": payment.tid,
        "next_redirect_app_url": f"{page}/aInfo",
        "next_redirect_mobile_url": f"{page}/mInfo",
        "next_redirect_pc_url": f"{page}/info",
        "android_app_scheme": scheme,
        "ios_app_scheme": scheme,
        "created_at": payment.created_at,
    }


def _common(payment: Payment) -> dict[str, Any]:
    return {
        "tid": payment.tid,
        "cid": payment.cid,
        "status": payment.status,
        "partner_order_id": payment.order_id,
        "partner_user_id": payment.user_id,
        # The simulated traveller always pays from KakaoPay Money.
        "payment_method_type": "MONEY" if payment.approved_at is not None else None,
        "amount": amount(payment.total, payment.tax_free),
        "canceled_amount": amount(payment.canceled),
        "cancel_available_amount": amount(payment.charged - payment.canceled),
        "item_name": payment.item_name,
        "quantity": payment.quantity,
        "created_at": payment.created_at,
        "approved_at": payment.approved_at,
        "canceled_at": payment.canceled_at,
    }


def order_view(payment: Payment) -> dict[str, Any]:
    return _present(
        _common(payment)
        | {
            "payment_action_details": list(payment.actions),
            # The extension: why the traveller's approval failed (see the package docs).
            "extras": payment.failure,
        }
    )


def cancel_view(
    payment: Payment, aid: str | None, cancelled: int, payload: str | None
) -> dict[str, Any]:
    """The answer to one cancel, which moved ``cancelled`` won (0 for a no-op)."""
    return _present(
        {"aid": aid}
        | _common(payment)
        | {"approved_cancel_amount": amount(cancelled), "payload": payload}
    )


def record_movement(
    payment: Payment,
    kind: Literal["pay", "reverse", "refund"],
    aid: str,
    value: int,
    payload: str | None,
) -> LedgerEntry:
    """Note a movement of ``value`` won in the payment's ``payment_action_details``; the
    ledger entry for it."""
    assert payment.account is not None  # only approved payments move money
    moment = now()
    payment.actions.append(
        {
            "aid": aid,
            "approved_at": moment,
            "amount": value,
            "point_amount": 0,
            "discount_amount": 0,
            "green_deposit": 0,
            "payment_action_type": "PAYMENT" if kind == "pay" else "CANCEL",
            "payload": payload or "",
        }
    )
    return LedgerEntry(
        kind=kind,
        tid=payment.tid,
        partner_order_id=payment.order_id,
        aid=aid,
        payload=payload,
        account_id=payment.account.account_id,
        amount=value,
        currency="KRW",
        time=moment,
    )
