"""The simulated wallet's orders and refunds.

An :class:`Order` is one ``out_trade_no`` with its state (as ``orderquery``'s
``trade_state``) and facts; :class:`Refunds` gives money back out of orders.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Literal, assert_never

from connectors.wechatpay._sim_wire import BadRequest, failure, fee, text

if TYPE_CHECKING:
    from connectors.wechatpay.simulator import SimulatedAccount

__all__ = ["Order", "OrderState", "Refunds"]


class OrderState(enum.StrEnum):
    """The ``trade_state`` values the simulated wallet uses."""

    SUCCESS = "SUCCESS"
    REFUND = "REFUND"
    REVOKED = "REVOKED"
    USERPAYING = "USERPAYING"
    PAYERROR = "PAYERROR"


_DESCRIPTIONS = {
    OrderState.SUCCESS: "payment successful",
    OrderState.REFUND: "refund in progress or done",
    OrderState.REVOKED: "order reversed",
    OrderState.USERPAYING: "waiting for the payer's password",
    OrderState.PAYERROR: "payment failed",
}


@dataclasses.dataclass(slots=True)
class Order:
    """One order number and everything the wallet knows about it."""

    out_trade_no: str
    fingerprint: tuple[str, int, str]  # auth_code, total_fee, fee_type
    account: SimulatedAccount | None
    fee_type: str
    total_fee: int
    cash_fee: int  # fen
    rate: str  # as on the wire: CNY per major unit x 10^8
    attach: str
    state: OrderState = OrderState.PAYERROR
    failure: dict[str, str] | None = None
    confirm_at: float = 0.0
    transaction_id: str = ""
    time_end: str = ""
    refunded_fee: int = 0  # of fee_type
    refunded_cash: int = 0  # fen

    def decline(self, answer: dict[str, str]) -> None:
        self.state, self.failure = OrderState.PAYERROR, answer

    def charge(self, transaction_id: str, time_end: str) -> None:
        self.state = OrderState.SUCCESS
        self.transaction_id, self.time_end = transaction_id, time_end

    def repeat(self, fingerprint: tuple[str, int, str]) -> dict[str, str]:
        """The answer to a second ``micropay`` with this order number."""
        if fingerprint != self.fingerprint:
            return failure("OUT_TRADE_NO_USED", "this out_trade_no was used for another order")
        match self.state:
            case OrderState.SUCCESS | OrderState.REFUND:
                return failure("ORDERPAID", "the order is already paid")
            case OrderState.REVOKED:
                return failure("ORDERREVERSED", "the order was reversed")
            case OrderState.USERPAYING:
                return failure("USERPAYING", "waiting for the payer to enter the password")
            case OrderState.PAYERROR:
                return self.failure or failure("SYSTEMERROR", "the order failed")
            case unreachable:
                assert_never(unreachable)

    def facts(self) -> dict[str, str]:
        """What a paid order's answers show about the payment."""
        assert self.account is not None
        return {
            "openid": self.account.openid,
            "is_subscribe": "N",
            "trade_type": "MICROPAY",
            "bank_type": "OTHERS",
            "fee_type": self.fee_type,
            "total_fee": str(self.total_fee),
            "cash_fee_type": "CNY",
            "cash_fee": str(self.cash_fee),
            "rate": self.rate,
            "transaction_id": self.transaction_id,
            "out_trade_no": self.out_trade_no,
            "attach": self.attach,
            "time_end": self.time_end,
        }

    def status(self) -> dict[str, str]:
        """The order as ``orderquery`` shows it."""
        shown = {"trade_state": self.state.value, "trade_state_desc": _DESCRIPTIONS[self.state]}
        if self.transaction_id:
            return shown | self.facts()
        return shown | {
            "out_trade_no": self.out_trade_no,
            "fee_type": self.fee_type,
            "total_fee": str(self.total_fee),
        }


Post = Callable[[Literal["pay", "reverse", "refund"], Order, int, str | None], None]


class Refunds:
    """Refunds out of paid orders, deduplicated on ``out_refund_no``.

    Only accepted refunds are remembered: WeChat Pay asks for a failed refund to be sent
    again under the same ``out_refund_no``, so a repeat of a failure is judged afresh.
    """

    def __init__(self, post: Post) -> None:
        self._post = post
        self._done: dict[str, tuple[tuple[object, ...], dict[str, str]]] = {}

    def refund(self, fields: Mapping[str, str], order: Order | None) -> dict[str, str]:
        out_refund_no = text(fields, "out_refund_no", longest=64, number=True)
        refund_fee = fee(fields, "refund_fee")
        currency = text(fields, "refund_fee_type", longest=3)
        total = fee(fields, "total_fee") if fields.get("total_fee") else None
        fingerprint = (fields.get("out_trade_no"), refund_fee, currency, total)
        if out_refund_no in self._done:
            earlier, answer = self._done[out_refund_no]
            if earlier != fingerprint:
                return failure("REFUND_FEE_MISMATCH", "a repeat with other amounts")
            return answer
        transaction_id = fields.get("transaction_id")
        if order is None or (transaction_id and transaction_id != order.transaction_id):
            return failure("ORDERNOTEXIST", "no such order")
        if order.state not in (OrderState.SUCCESS, OrderState.REFUND):
            return failure("ERROR", f"an order in state {order.state} cannot be refunded")
        if currency != order.fee_type:
            raise BadRequest("refund_fee_type must be the order's fee_type")
        if total is not None and total != order.total_fee:
            return failure("INVALID_REQUEST", "total_fee differs from the order's")
        left = order.total_fee - order.refunded_fee
        if left == 0:
            return failure("ERROR", "the order is fully refunded")
        if refund_fee > left:
            return failure("INVALID_REQUEST", "the refund exceeds what is left to refund")
        answer = self._give_back(order, out_refund_no, refund_fee, left)
        self._done[out_refund_no] = (fingerprint, answer)
        return answer

    def _give_back(
        self, order: Order, out_refund_no: str, refund_fee: int, left: int
    ) -> dict[str, str]:
        if refund_fee == left:
            # The last refund takes whatever cash is left, so rounding never strands a fen.
            cash = order.cash_fee - order.refunded_cash
        else:
            share = Decimal(order.cash_fee) * refund_fee / order.total_fee
            cash = int(share.to_integral_value(ROUND_HALF_EVEN))
        order.refunded_fee += refund_fee
        order.refunded_cash += cash
        order.state = OrderState.REFUND
        self._post("refund", order, cash, out_refund_no)
        return {
            "result_code": "SUCCESS",
            "transaction_id": order.transaction_id,
            "out_trade_no": order.out_trade_no,
            "out_refund_no": out_refund_no,
            "refund_id": f"5030{len(self._done) + 1:025d}",
            "refund_fee": str(refund_fee),
            "total_fee": str(order.total_fee),
            "fee_type": order.fee_type,
            "cash_fee": str(order.cash_fee),
            "cash_refund_fee": str(cash),
        }
