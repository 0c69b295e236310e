"""The simulated KakaoPay's books: accounts, payments, cancels and the ledger.

Each operation takes a request body as decoded JSON and returns ``(HTTP status, body)``,
applying the rules the package docstring states: ``order`` and ``cancel`` finding the
payment by ``tid`` (or ``partner_order_id`` without one), ``ready`` deduplicated by
``partner_order_id``, the traveller approving by themself once ``approve_at`` has come,
``cancel`` without an amount reversing everything, ``cancel`` with one refunding that much
(deduplicated by ``payload``, unless built not to, as the real wallet), and a
``partner_order_id`` cancelled before its ``ready`` closed for good. Bad bodies raise
:class:`WalletError`, answered as KakaoPay's error body.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from connectors.kakaopay._sim_records import (
    LedgerEntry,
    Payment,
    cancel_view,
    order_view,
    ready_view,
    record_movement,
)
from connectors.kakaopay._sim_wire import (
    CANCEL_AMOUNT_EXCEEDED,
    INCONSISTENT_ORDER,
    INVALID_PARAMETER,
    INVALID_STATUS,
    ORDER_NOT_FOUND,
    Answer,
    WalletError,
    integer,
    now,
    optional_text,
    text,
)

if TYPE_CHECKING:
    from connectors.kakaopay.simulator import SimulatedAccount

__all__ = ["WalletBook"]

_CHARGED = ("SUCCESS_PAYMENT", "PART_CANCEL_PAYMENT")


class WalletBook:
    """All the state of one simulated KakaoPay. Not thread-safe: the app serialises calls."""

    def __init__(
        self,
        *,
        cid: str,
        accounts: Iterable[SimulatedAccount],
        single_payment_limit: int | None,
        approval_delay_seconds: float,
        clock: Callable[[], float],
        refunds_deduplicated: bool = True,
    ) -> None:
        self._cid = cid
        self._deduplicate = refunds_deduplicated
        self._limit = single_payment_limit
        self._delay = approval_delay_seconds
        self._clock = clock
        # Copies: the caller's SimulatedAccount objects stay as configured.
        self._accounts = [dataclasses.replace(account) for account in accounts]
        self._by_user = {account.user_id: account for account in self._accounts}
        self._by_order: dict[str, Payment] = {}
        self._by_tid: dict[str, Payment] = {}
        self._closed: set[str] = set()
        self._serial = 9_000_000_000_000_000_000  # 19 digits after "T" or "A", as KakaoPay's
        self.ledger: list[LedgerEntry] = []
        self.pay_requests = 0
        self.charges = 0

    def accounts_json(self) -> list[dict[str, Any]]:
        return [
            {"account_id": a.account_id, "name": a.name, "balance": a.balance, "currency": "KRW"}
            for a in self._accounts
        ]

    def settle(self) -> None:
        """Let every traveller whose approval is due approve (or fail to)."""
        moment = self._clock()
        for payment in self._by_tid.values():
            if payment.status == "READY" and payment.approve_at <= moment:
                self._approve(payment)

    def _next_id(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}{self._serial}"

    def _check_cid(self, body: Mapping[str, Any]) -> None:
        if text(body, "cid", limit=10) != self._cid:
            raise WalletError(INVALID_PARAMETER, "cid is not this merchant's")

    def ready(self, body: Mapping[str, Any]) -> Answer:
        self._check_cid(body)
        order_id = text(body, "partner_order_id")
        user_id = text(body, "partner_user_id")
        item_name = text(body, "item_name")
        quantity = integer(body, "quantity", minimum=1)
        total = integer(body, "total_amount", minimum=1)
        tax_free = integer(body, "tax_free_amount")
        if tax_free > total:
            raise WalletError(INVALID_PARAMETER, "tax_free_amount exceeds total_amount")
        for key in ("approval_url", "cancel_url", "fail_url"):
            text(body, key, limit=255)
        known = self._by_order.get(order_id)
        if known is not None:
            if (known.user_id, known.total, known.tax_free) != (user_id, total, tax_free):
                raise WalletError(INCONSISTENT_ORDER, "partner_order_id was used for another order")
            return 200, ready_view(known)
        if order_id in self._closed:
            raise WalletError(INVALID_STATUS, "partner_order_id was cancelled")
        payment = Payment(
            self._next_id("T"),
            self._cid,
            order_id,
            user_id,
            item_name,
            quantity,
            total,
            tax_free,
            created_at=now(),
            approve_at=self._clock() + self._delay,
        )
        self._by_order[order_id] = self._by_tid[payment.tid] = payment
        self.settle()
        return 200, ready_view(payment)

    def _approve(self, payment: Payment) -> None:
        """The simulated traveller approves on KakaoPay's page, and KakaoPay charges."""
        account = self._by_user.get(payment.user_id)
        if account is None:
            self._fail(payment, "USER_NOT_FOUND", "no KakaoPay user with this id")
        elif self._limit is not None and payment.total > self._limit:
            self._fail(payment, "EXCEED_LIMIT", "above the single payment limit")
        elif account.balance < payment.total:
            self._fail(payment, "INSUFFICIENT_BALANCE", "KakaoPay Money balance too low")
        else:
            payment.account = account
            payment.status = "SUCCESS_PAYMENT"
            payment.approved_at = now()
            self._post("pay", payment, payment.total)
            self.charges += 1

    def _fail(self, payment: Payment, code: str, message: str) -> None:
        payment.status = "FAIL_PAYMENT"
        payment.failure = {"method_result_code": code, "method_result_message": message}

    def _post(
        self,
        kind: Literal["pay", "reverse", "refund"],
        payment: Payment,
        value: int,
        payload: str | None = None,
    ) -> str:
        account = payment.account
        assert account is not None  # only approved payments move money
        account.balance += -value if kind == "pay" else value
        entry = record_movement(payment, kind, self._next_id("A"), value, payload)
        self.ledger.append(entry)
        return entry.aid

    def _find(self, body: Mapping[str, Any]) -> Payment:
        """The payment ``body`` names: by ``tid``, as KakaoPay requires (a
        ``partner_order_id`` sent too must be the tid's); by ``partner_order_id`` alone, the
        extension for a hub that never learnt the tid."""
        self._check_cid(body)
        tid = optional_text(body, "tid", limit=20)
        order_id = optional_text(body, "partner_order_id", limit=100)
        if tid is not None:
            payment = self._by_tid.get(tid)
            if payment is None or (order_id is not None and payment.order_id != order_id):
                raise WalletError(ORDER_NOT_FOUND, "TID is not valid")
            return payment
        if order_id is None:
            raise WalletError(INVALID_PARAMETER, "tid is required")
        payment = self._by_order.get(order_id)
        if payment is None:
            raise WalletError(ORDER_NOT_FOUND, "no payment with this partner_order_id")
        return payment

    def order(self, body: Mapping[str, Any]) -> Answer:
        self.settle()
        return 200, order_view(self._find(body))

    def cancel(self, body: Mapping[str, Any]) -> Answer:
        self.settle()
        try:
            payment = self._find(body)
        except WalletError as exc:
            order_id = body.get("partner_order_id")
            whole = body.get("tid") is None and body.get("cancel_amount") is None
            if exc.code == ORDER_NOT_FOUND and whole and order_id:
                # The hub gave up on this id before its ready arrived: never charge it.
                self._closed.add(str(order_id))
            raise
        tax_free = integer(body, "cancel_tax_free_amount")
        payload = optional_text(body, "payload")
        if body.get("cancel_amount") is None:
            return self._cancel_all(payment)
        value = integer(body, "cancel_amount", minimum=1)
        if tax_free > value:
            raise WalletError(INVALID_PARAMETER, "cancel_tax_free_amount exceeds cancel_amount")
        if payload is None or not self._deduplicate:
            return self._refund(payment, value, payload)
        if payload in payment.refunds:
            first, answer = payment.refunds[payload]
            if first != value:
                raise WalletError(INCONSISTENT_ORDER, "payload was used for another amount")
            return answer
        try:
            answer = self._refund(payment, value, payload)
        except WalletError as exc:
            answer = exc.answer()
        payment.refunds[payload] = (value, answer)
        return answer

    def _cancel_all(self, payment: Payment) -> Answer:
        """Everything still held goes back; a payment not yet approved never will be."""
        if payment.status == "READY":
            payment.status, payment.canceled_at = "CANCEL_PAYMENT", now()
            return 200, cancel_view(payment, None, 0, None)
        if payment.status not in _CHARGED:
            # Already cancelled, or failed: nothing is held, and a repeat moves nothing.
            return 200, cancel_view(payment, None, 0, None)
        back = payment.charged - payment.canceled
        aid = self._post("reverse", payment, back)
        payment.canceled += back
        payment.status, payment.canceled_at = "CANCEL_PAYMENT", now()
        return 200, cancel_view(payment, aid, back, None)

    def _refund(self, payment: Payment, value: int, payload: str | None) -> Answer:
        if payment.approved_at is None:
            raise WalletError(INVALID_STATUS, f"a {payment.status} payment cannot be refunded")
        if payment.canceled + value > payment.charged:
            raise WalletError(CANCEL_AMOUNT_EXCEEDED, "more than cancel_available_amount")
        aid = self._post("refund", payment, value, payload)
        payment.canceled += value
        payment.canceled_at = now()
        full = payment.canceled == payment.charged
        payment.status = "CANCEL_PAYMENT" if full else "PART_CANCEL_PAYMENT"
        return 200, cancel_view(payment, aid, value, payload)
