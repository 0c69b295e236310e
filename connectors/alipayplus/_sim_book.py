"""The simulated wallet's books: accounts, payments, refunds and the ledger.

Each method takes a request body as decoded JSON and returns the response body, applying
the Alipay+ MPP rules a real wallet applies: dedup by ``paymentRequestId`` and
``refundRequestId`` with a consistency check on the key fields, a cancel that reverses a
charge and closes the id for good (even before the pay arrives), refunds capped at what
was charged. Every final answer is stored and returned again for a consistent repeat.

Malformed bodies raise :class:`BadRequest`, which the app answers with ``PARAM_ILLEGAL``.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from connectors.alipayplus._sim_json import BadRequest, money, now, result, success, text

if TYPE_CHECKING:
    from connectors.alipayplus.simulator import SimulatedAccount

__all__ = ["LedgerEntry", "WalletBook"]


@dataclasses.dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One movement of money on a customer's account."""

    kind: Literal["pay", "reverse", "refund"]
    payment_request_id: str
    refund_request_id: str | None
    customer_id: str
    amount: int
    currency: str
    time: str

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(slots=True)
class _Payment:
    fingerprint: tuple[object, ...]
    response: dict[str, Any]
    account: SimulatedAccount | None = None
    charged: int = 0
    refunded: int = 0
    cancelled: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class _Refund:
    fingerprint: tuple[object, ...]
    response: dict[str, Any]


class WalletBook:
    """All the state of one simulated wallet. Not thread-safe: the app serialises calls."""

    def __init__(
        self,
        *,
        psp_id: str,
        currency: str,
        accounts: Iterable[SimulatedAccount],
        single_payment_limit: int | None,
    ) -> None:
        self._psp_id = psp_id
        self._currency = currency
        self._limit = single_payment_limit
        # Copies: the caller's SimulatedAccount objects stay as configured.
        self._accounts = [dataclasses.replace(account) for account in accounts]
        self._by_code = {account.payment_code: account for account in self._accounts}
        self._by_customer = {account.customer_id: account for account in self._accounts}
        self._payments: dict[str, _Payment] = {}
        # Ids cancelled before any pay arrived: Alipay+ closes them for good, so that a pay
        # delayed in the network cannot charge after the hub gave up on it.
        self._closed: set[str] = set()
        self._refunds: dict[str, _Refund] = {}
        self.ledger: list[LedgerEntry] = []
        self.pay_requests = 0
        self.charges = 0
        self.inquiries: Counter[str] = Counter()  # paymentRequestId → inquiries about it

    def accounts_json(self) -> list[dict[str, Any]]:
        currency = self._currency
        return [
            {
                "customer_id": a.customer_id,
                "name": a.name,
                "balance": a.balance,
                "currency": currency,
            }
            for a in self._accounts
        ]

    def _post(
        self,
        kind: Literal["pay", "reverse", "refund"],
        account: SimulatedAccount,
        amount: int,
        payment_request_id: str,
        refund_request_id: str | None = None,
    ) -> None:
        account.balance += -amount if kind == "pay" else amount
        self.ledger.append(
            LedgerEntry(
                kind,
                payment_request_id,
                refund_request_id,
                account.customer_id,
                amount,
                self._currency,
                now(),
            )
        )

    def pay(self, body: Mapping[str, Any]) -> dict[str, Any]:
        request_id = text(body, "paymentRequestId")
        method = body.get("paymentMethod")
        if not isinstance(method, Mapping):
            raise BadRequest("paymentMethod must be an object")
        code = text(method, "paymentMethodId")
        pay_to = money(body, "payToAmount")
        fingerprint = (money(body, "paymentAmount"), pay_to, code)
        known = self._payments.get(request_id)
        if request_id in self._closed or (known is not None and known.cancelled):
            return result("F", "ORDER_IS_CLOSED", "the payment was cancelled")
        if known is not None:
            if known.fingerprint != fingerprint:
                return result("F", "REPEAT_REQ_INCONSISTENT", "repeat differs from the original")
            return known.response
        payment = self._charge(request_id, pay_to, code, fingerprint)
        self._payments[request_id] = payment
        return payment.response

    def _charge(
        self, request_id: str, pay_to: tuple[str, int], code: str, fingerprint: tuple[object, ...]
    ) -> _Payment:
        currency, value = pay_to
        account = self._by_code.get(code)
        if account is None:
            answer = result("F", "USER_NOT_EXIST", "no user has this payment code")
        elif currency != self._currency:
            answer = result("F", "CURRENCY_NOT_SUPPORT", f"wallet pays in {self._currency}")
        elif self._limit is not None and value > self._limit:
            answer = result("F", "PAYMENT_AMOUNT_EXCEED_LIMIT", "above the single payment limit")
        elif account.balance < value:
            answer = result("F", "USER_BALANCE_NOT_ENOUGH", "balance too low")
        else:
            self._post("pay", account, value, request_id)
            self.charges += 1
            answer = success(
                paymentId=f"{self._psp_id}-PAY-{self.charges:06d}",
                paymentTime=now(),
                customerId=account.customer_id,
                payToAmount={"currency": currency, "value": str(value)},
            )
            return _Payment(fingerprint, answer, account, charged=value)
        return _Payment(fingerprint, answer)

    def charge_claimed(
        self, request_id: str, pay_to: tuple[str, int], customer_id: str
    ) -> dict[str, Any]:
        """The traveller confirmed an order in the app: charge what the hub asked for.

        ``request_id`` is the hub's ``paymentRequestId`` from ``userInitiatedPay``; a
        repeat (the app retrying) returns the first answer and charges nothing more.
        """
        known = self._payments.get(request_id)
        if request_id in self._closed or (known is not None and known.cancelled):
            return result("F", "ORDER_IS_CLOSED", "the payment was cancelled")
        if known is not None:
            return known.response
        account = self._by_customer.get(customer_id)
        code = "" if account is None else account.payment_code
        payment = self._charge(request_id, pay_to, code, ("claimed", pay_to, customer_id))
        self._payments[request_id] = payment
        return payment.response

    def inquire(self, body: Mapping[str, Any]) -> dict[str, Any]:
        request_id = text(body, "paymentRequestId")
        self.inquiries[request_id] += 1
        known = self._payments.get(request_id)
        closed = result("F", "ORDER_IS_CLOSED", "the payment was cancelled")["result"]
        if request_id in self._closed:
            return success(paymentRequestId=request_id, paymentResult=closed)
        if known is None:
            return result("F", "ORDER_NOT_EXIST", "no payment with this paymentRequestId")
        facts = {k: v for k, v in known.response.items() if k != "result"}
        return success(
            paymentRequestId=request_id,
            paymentResult=closed if known.cancelled else known.response["result"],
            **facts,
        )

    def cancel(self, body: Mapping[str, Any]) -> dict[str, Any]:
        request_id = text(body, "paymentRequestId")
        known = self._payments.get(request_id)
        if known is None:
            self._closed.add(request_id)
        elif not known.cancelled:
            known.cancelled = True
            back = known.charged - known.refunded
            if known.account is not None and back > 0:
                self._post("reverse", known.account, back, request_id)
        # Cancelling is idempotent: a repeat gets the same success and moves nothing.
        return success()

    def refund(self, body: Mapping[str, Any]) -> dict[str, Any]:
        payment_request_id = text(body, "paymentRequestId")
        refund_request_id = text(body, "refundRequestId")
        refund_from = money(body, "refundFromAmount")
        fingerprint = (payment_request_id, money(body, "refundAmount"), refund_from)
        known = self._refunds.get(refund_request_id)
        if known is not None:
            if known.fingerprint != fingerprint:
                return result("F", "REPEAT_REQ_INCONSISTENT", "repeat differs from the original")
            return known.response
        answer = self._give_back(
            payment_request_id, refund_request_id, refund_from, body.get("paymentId")
        )
        self._refunds[refund_request_id] = _Refund(fingerprint, answer)
        return answer

    def _give_back(
        self,
        payment_request_id: str,
        refund_request_id: str,
        refund_from: tuple[str, int],
        payment_id: object,
    ) -> dict[str, Any]:
        payment = self._payments.get(payment_request_id)
        if payment is None or (
            payment_id is not None and payment_id != payment.response.get("paymentId")
        ):
            return result("F", "ORDER_NOT_EXIST", "no such payment")
        if payment.cancelled or payment.account is None:
            return result("F", "ORDER_STATUS_INVALID", "the payment was not charged")
        currency, value = refund_from
        if currency != self._currency:
            return result("F", "CURRENCY_NOT_SUPPORT", f"wallet refunds in {self._currency}")
        if payment.refunded + value > payment.charged:
            return result("F", "REFUND_AMOUNT_EXCEED", "more than what is left to refund")
        payment.refunded += value
        self._post("refund", payment.account, value, payment_request_id, refund_request_id)
        return success(
            refundId=f"{self._psp_id}-RFD-{len(self._refunds) + 1:06d}", refundTime=now()
        )
