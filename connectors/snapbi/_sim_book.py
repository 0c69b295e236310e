"""The simulated SNAP wallet's books: accounts, payments, refunds and the ledger.

Each method takes a request body as decoded JSON and returns an :class:`Answer`, applying
the rules DANA documents: a payment is deduplicated by ``partnerReferenceNo`` (a consistent
repeat gets the stored answer, an inconsistent one ``404xx18``), a refund by
``partnerRefundNo``; a cancel reverses an unrefunded charge, and a repeat of a cancelled
payment is told so (``404xx04``), never "successful" again; refunds are capped at what was
charged. Deduplication comes before the business checks, so a repeat is not declined for a
balance its original already spent. An account that ``approves_in_app`` gets an order that
the traveller approves ``approval_seconds`` later (:meth:`WalletBook.settle`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from connectors.snapbi._sim_wire import (
    Answer,
    LedgerEntry,
    SnapError,
    money,
    now,
    ok,
    optional_text,
    text,
)

if TYPE_CHECKING:
    from connectors.snapbi.simulator import SimulatedAccount, SimulatedWallet

__all__ = ["WalletBook"]

_PAY_SERVICE = "54"
_DESCRIPTIONS = {"00": "SUCCESS", "01": "INIT", "04": "REFUNDED", "05": "CANCELLED", "06": "FAILED"}
_NOT_FOUND = Answer(404, "01", "Transaction Not Found")
_INCONSISTENT = Answer(404, "18", "Inconsistent Request")
_BAD_STATUS = Answer(404, "00", "Invalid Transaction Status")


@dataclasses.dataclass(slots=True)
class _Payment:
    amount: int
    account: SimulatedAccount | None = None
    reference_no: str | None = None
    status: str = "06"
    failure: Answer | None = None
    approve_at: float = 0.0  # on the book's clock, while the status is "01"
    paid_time: str | None = None
    charged: int = 0
    refunded: int = 0


class WalletBook:
    """All the state of one simulated wallet. Not thread-safe: the app serialises calls."""

    def __init__(self, wallet: SimulatedWallet, *, clock: Callable[[], float]) -> None:
        self._merchant_id = wallet.merchant_id
        self._currency = wallet.currency
        self._limit = wallet.single_payment_limit
        self._approval_seconds = wallet.approval_seconds
        self._clock = clock
        # Copies: the caller's SimulatedAccount objects stay as configured.
        self._accounts = [dataclasses.replace(account) for account in wallet.accounts]
        self._by_token = {account.customer_token: account for account in self._accounts}
        self._payments: dict[str, _Payment] = {}
        # Request id -> (key fields, answer): what a repeat is compared with and given.
        self._pay_answers: dict[str, tuple[tuple[object, ...], Answer]] = {}
        self._refunds: dict[str, tuple[tuple[object, ...], Answer]] = {}
        self.ledger: list[LedgerEntry] = []
        self.pay_requests = 0
        self.charges = 0

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

    def _merchant(self, body: Mapping[str, Any]) -> None:
        if text(body, "merchantId") != self._merchant_id:
            raise SnapError(404, "08", "Invalid Merchant")

    def _post(
        self,
        kind: Literal["pay", "reverse", "refund"],
        payment: _Payment,
        amount: int,
        reference: str,
        refund_no: str | None = None,
    ) -> None:
        assert payment.account is not None
        payment.account.balance += -amount if kind == "pay" else amount
        entry = LedgerEntry(
            kind, reference, refund_no, payment.account.customer_id, amount, self._currency, now()
        )
        self.ledger.append(entry)

    def _charge(self, payment: _Payment, reference: str) -> None:
        self._post("pay", payment, payment.amount, reference)
        self.charges += 1
        payment.status, payment.charged, payment.paid_time = "00", payment.amount, now()

    def pay(self, body: Mapping[str, Any], customer_token: str | None) -> Answer:
        reference = text(body, "partnerReferenceNo")
        self._merchant(body)
        currency, value = money(body, "amount")
        if customer_token is None:
            raise SnapError(400, "02", "Invalid Mandatory Field Authorization-Customer")
        fingerprint = (currency, value, customer_token)
        known = self._pay_answers.get(reference)
        if known is not None and known[0] != fingerprint:
            return _INCONSISTENT
        if known is not None:
            closed = self._payments[reference].status == "05"
            return Answer(404, "04", "Transaction Cancelled") if closed else known[1]
        payment = _Payment(value)
        answer = self._open(payment, reference, currency, customer_token)
        self._payments[reference] = payment
        self._pay_answers[reference] = (fingerprint, answer)
        return answer

    def _refusal(self, account: SimulatedAccount, currency: str, value: int) -> Answer | None:
        if currency != self._currency:
            return Answer(404, "13", "Invalid Amount")
        if self._limit is not None and value > self._limit:
            return Answer(403, "02", "Exceeds Transaction Amount Limit")
        # An account that approves in the app is checked when the traveller approves.
        if not account.approves_in_app and account.balance < value:
            return Answer(403, "14", "Insufficient Funds")
        return None

    def _open(self, payment: _Payment, reference: str, currency: str, token: str) -> Answer:
        account = self._by_token.get(token)
        if account is None:
            failure = Answer(401, "02", "Invalid Customer Token")
        else:
            refusal = self._refusal(account, currency, payment.amount)
            if refusal is None:
                return self._accept(payment, account, reference)
            failure = refusal
        # Kept for the status inquiry, which reports it as originalResponseCode.
        payment.failure = failure
        return dataclasses.replace(failure, fields={"partnerReferenceNo": reference})

    def _accept(self, payment: _Payment, account: SimulatedAccount, reference: str) -> Answer:
        payment.account = account
        payment.reference_no = f"SNAP{len(self._payments) + 1:012d}"
        facts = {"referenceNo": payment.reference_no, "partnerReferenceNo": reference}
        if account.approves_in_app:
            payment.status = "01"
            payment.approve_at = self._clock() + self._approval_seconds
            facts["webRedirectUrl"] = f"https://wallet.invalid/pay?ref={payment.reference_no}"
        else:
            self._charge(payment, reference)
        return ok(**facts)

    def settle(self) -> None:
        """Let every traveller whose approval is due approve. The app calls this before
        serving anything, which looks from outside like a timer firing on time."""
        moment = self._clock()
        for reference, payment in self._payments.items():
            if payment.status != "01" or payment.approve_at > moment or payment.account is None:
                continue
            if payment.account.balance >= payment.amount:
                self._charge(payment, reference)
            else:
                payment.status = "06"
                payment.failure = Answer(403, "14", "Insufficient Funds")

    def status(self, body: Mapping[str, Any]) -> Answer:
        reference = text(body, "originalPartnerReferenceNo")
        if text(body, "serviceCode") != _PAY_SERVICE:
            raise SnapError(400, "01", "Invalid Field Format serviceCode")
        self._merchant(body)
        payment = self._payments.get(reference)
        if payment is None:
            return _NOT_FOUND
        facts: dict[str, Any] = {
            "originalPartnerReferenceNo": reference,
            "originalReferenceNo": payment.reference_no,
            "serviceCode": _PAY_SERVICE,
            "latestTransactionStatus": payment.status,
            "transactionStatusDesc": _DESCRIPTIONS[payment.status],
            "paidTime": payment.paid_time,
        }
        if payment.status == "06" and payment.failure is not None:
            facts["originalResponseCode"] = payment.failure.code(_PAY_SERVICE)
            facts["originalResponseMessage"] = payment.failure.message
        return ok(**{k: v for k, v in facts.items() if v is not None})

    def cancel(self, body: Mapping[str, Any]) -> Answer:
        reference = text(body, "originalPartnerReferenceNo")
        self._merchant(body)
        payment = self._payments.get(reference)
        if payment is None:
            return _NOT_FOUND
        if payment.refunded > 0:
            return _BAD_STATUS
        if payment.status == "00":
            self._post("reverse", payment, payment.charged, reference)
        # Cancelling is idempotent: a repeat gets the same success and moves nothing.
        payment.status = "05"
        return ok(originalPartnerReferenceNo=reference, cancelTime=now())

    def refund(self, body: Mapping[str, Any]) -> Answer:
        reference = text(body, "originalPartnerReferenceNo")
        refund_no = text(body, "partnerRefundNo")
        self._merchant(body)
        currency, value = money(body, "refundAmount")
        reference_no = optional_text(body, "originalReferenceNo")
        fingerprint = (reference, currency, value)
        known = self._refunds.get(refund_no)
        if known is not None:
            return known[1] if known[0] == fingerprint else _INCONSISTENT
        answer = self._give_back(reference, refund_no, reference_no, currency, value)
        self._refunds[refund_no] = (fingerprint, answer)
        return answer

    def _give_back(
        self, reference: str, refund_no: str, reference_no: str | None, currency: str, value: int
    ) -> Answer:
        payment = self._payments.get(reference)
        if payment is None or reference_no not in (None, payment.reference_no):
            return _NOT_FOUND
        if payment.status not in ("00", "04"):
            return _BAD_STATUS
        if currency != self._currency:
            return Answer(404, "13", "Invalid Amount")
        if payment.refunded + value > payment.charged:
            return Answer(403, "02", "Exceeds Transaction Amount Limit")
        payment.refunded += value
        self._post("refund", payment, value, reference, refund_no)
        if payment.refunded == payment.charged:
            payment.status = "04"
        amount = {"value": f"{value // 100}.{value % 100:02d}", "currency": currency}
        return ok(
            originalPartnerReferenceNo=reference,
            originalReferenceNo=payment.reference_no,
            partnerRefundNo=refund_no,
            refundNo=f"RFD{len(self._refunds) + 1:012d}",
            refundAmount=amount,
            refundTime=now(),
        )
