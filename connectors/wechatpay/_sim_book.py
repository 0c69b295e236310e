"""The simulated wallet's books: accounts, orders, refunds and the ledger.

Each method takes a request's fields and returns the business part of the answer, applying
the rules WeChat Pay documents: an order number (``out_trade_no``) is one order forever (a
repeat answers ``ORDERPAID``, ``USERPAYING`` or the stored decline, a repeat with other
fields ``OUT_TRADE_NO_USED``); ``reverse`` closes an order or gives its money back; refunds
are in the order's currency, capped at what is left, converted to CNY in proportion to what
the payer paid, and deduplicated on ``out_refund_no``.

Two behaviours are assumptions the docs do not spell out: a payment code stays valid (the
real one lasts a minute and serves once), and an order number reversed before its pay
arrived is remembered, so the late pay answers ``ORDERREVERSED`` instead of charging.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from connectors.wechatpay._sim_orders import Order, OrderState, Refunds
from connectors.wechatpay._sim_wire import (
    BadRequest,
    cny_minor,
    failure,
    fee,
    now_cst,
    now_utc,
    rate_field,
    text,
)

if TYPE_CHECKING:
    from connectors.wechatpay.simulator import SimulatedAccount

__all__ = ["LedgerEntry", "WalletBook"]


@dataclasses.dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One movement of money on a payer's account, in fen."""

    kind: Literal["pay", "reverse", "refund"]
    out_trade_no: str
    out_refund_no: str | None
    openid: str
    amount: int
    currency: str
    time: str

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class WalletBook:
    """All the state of one simulated wallet. Not thread-safe: the app serialises calls."""

    def __init__(
        self,
        *,
        accounts: Iterable[SimulatedAccount],
        rates: Mapping[str, Decimal],
        single_payment_limit: int | None,
        password_free_limit: int | None,
        password_seconds: float,
    ) -> None:
        # Copies: the caller's SimulatedAccount objects stay as configured.
        self._accounts = [dataclasses.replace(account) for account in accounts]
        self._by_code = {account.auth_code: account for account in self._accounts}
        self._rates = {"CNY": Decimal(1)} | dict(rates)
        self._limit = single_payment_limit
        self._password_free = password_free_limit
        self._password_seconds = password_seconds
        self._orders: dict[str, Order] = {}
        # Orders waiting for a password, apart: settling must not scan every order.
        self._waiting: list[Order] = []
        self._reversed_unseen: set[str] = set()
        self.refunds = Refunds(self._post)
        self.ledger: list[LedgerEntry] = []
        self.pay_requests = 0
        self.charges = 0

    def accounts_json(self) -> list[dict[str, Any]]:
        return [
            {"openid": a.openid, "name": a.name, "balance": a.balance, "currency": "CNY"}
            for a in self._accounts
        ]

    def _post(
        self,
        kind: Literal["pay", "reverse", "refund"],
        order: Order,
        amount: int,
        out_refund_no: str | None = None,
    ) -> None:
        account = order.account
        assert account is not None  # only charged orders move money
        account.balance += -amount if kind == "pay" else amount
        self.ledger.append(
            LedgerEntry(
                kind, order.out_trade_no, out_refund_no, account.openid, amount, "CNY", now_utc()
            )
        )

    def settle_due(self, now: float) -> None:
        """Let every payer whose password was due by ``now`` type it: the debit happens."""
        still = []
        for order in self._waiting:
            if order.state is not OrderState.USERPAYING:
                continue  # reversed while waiting
            if order.confirm_at <= now:
                self._debit(order)
            else:
                still.append(order)
        self._waiting = still

    def _debit(self, order: Order) -> dict[str, str]:
        account = order.account
        assert account is not None
        if account.balance < order.cash_fee:
            order.state = OrderState.PAYERROR
            order.failure = failure("NOTENOUGH", "the payer's balance is not enough")
            return order.failure
        self.charges += 1
        order.charge(f"4200{self.charges:024d}", now_cst())
        self._post("pay", order, order.cash_fee)
        return {"result_code": "SUCCESS"} | order.facts()

    def micropay(self, fields: Mapping[str, str], now: float) -> dict[str, str]:
        out_trade_no = text(fields, "out_trade_no", longest=32, number=True)
        auth_code = text(fields, "auth_code")
        total_fee, fee_type = fee(fields, "total_fee"), text(fields, "fee_type", longest=3)
        text(fields, "body")
        text(fields, "spbill_create_ip", longest=64)
        if out_trade_no in self._reversed_unseen:
            return failure("ORDERREVERSED", "the order was reversed")
        known = self._orders.get(out_trade_no)
        if known is not None:
            return known.repeat((auth_code, total_fee, fee_type))
        rate = self._rates.get(fee_type)
        if rate is None:
            raise BadRequest(f"fee_type {fee_type} is not supported for this merchant")
        order = Order(
            out_trade_no=out_trade_no,
            fingerprint=(auth_code, total_fee, fee_type),
            account=self._by_code.get(auth_code),
            fee_type=fee_type,
            total_fee=total_fee,
            cash_fee=cny_minor(total_fee, fee_type, rate),
            rate=rate_field(rate),
            attach=fields.get("attach", ""),
        )
        self._orders[out_trade_no] = order
        return self._decide(order, now)

    def _decide(self, order: Order, now: float) -> dict[str, str]:
        if order.account is None:
            order.decline(failure("AUTH_CODE_INVALID", "no payer has this payment code"))
        elif self._limit is not None and order.cash_fee > self._limit:
            order.decline(failure("TRADE_ERROR", "above the single payment limit"))
        elif self._password_free is not None and order.cash_fee > self._password_free:
            order.state = OrderState.USERPAYING
            order.confirm_at = now + self._password_seconds
            self._waiting.append(order)
            return failure("USERPAYING", "waiting for the payer to enter the password")
        else:
            return self._debit(order)
        assert order.failure is not None
        return order.failure

    def orderquery(self, fields: Mapping[str, str]) -> dict[str, str]:
        order = self._orders.get(text(fields, "out_trade_no", longest=32, number=True))
        if order is None:
            return failure("ORDERNOTEXIST", "no order with this out_trade_no")
        return {"result_code": "SUCCESS"} | order.status()

    def reverse(self, fields: Mapping[str, str]) -> dict[str, str]:
        out_trade_no = text(fields, "out_trade_no", longest=32, number=True)
        order = self._orders.get(out_trade_no)
        if order is None:
            self._reversed_unseen.add(out_trade_no)
            return failure("ORDERNOTEXIST", "no order with this out_trade_no")
        if order.state in (OrderState.SUCCESS, OrderState.REFUND):
            back = order.cash_fee - order.refunded_cash
            if back > 0:
                self._post("reverse", order, back)
        order.state = OrderState.REVOKED
        # Reversing is idempotent: a repeat gets the same answer and moves nothing.
        return {"result_code": "SUCCESS", "recall": "N"}

    def refund(self, fields: Mapping[str, str]) -> dict[str, str]:
        order = self._orders.get(text(fields, "out_trade_no", longest=32, number=True))
        return self.refunds.refund(fields, order)
