"""The simulated M-Pesa's books: subscribers, STK pushes, reversals and the ledger.

The book plays both M-Pesa and the traveller's phone. A push is answered at once with its
ids; the phone answers it ``approval_delay`` later (approve, cancel, ignore, wrong PIN, as
the subscriber is set up), and the book settles it lazily, on the next look at it. Every
result M-Pesa would POST to a ``CallBackURL`` or ``ResultURL`` is kept in ``callbacks``,
as ``GET /_sim/callbacks`` lists it (``_sim_wire.callback``), and handed to ``send`` when
the book has one (the app then POSTs it). The same reversal again (its ``Occasion``) moves
nothing: it is acknowledged as the first was, and its result is called back again.

Amounts on the wire are whole shillings; the books keep minor units (cents) like the
other simulators, so the ledger reads the same everywhere.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from connectors.mpesa._sim_wire import (
    BadRequest,
    DarajaFailure,
    callback,
    new_id,
    number,
    reversal_success,
    stk_callback,
    text,
)

if TYPE_CHECKING:
    from connectors.mpesa.simulator import SimulatedAccount

__all__ = ["LedgerEntry", "MpesaBook", "StillProcessing"]

_CENTS = 100
_ANSWERS = {
    "cancel": ("1032", "Request cancelled by user"),
    "ignore": ("1037", "DS timeout user cannot be reached"),
    "wrong_pin": ("2001", "The initiator information is invalid."),
}


class StillProcessing(DarajaFailure):
    """Raised when a query finds the traveller has not answered the prompt yet."""

    def __init__(self) -> None:
        super().__init__("500.001.1001", "The transaction is being processed")


@dataclasses.dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One movement of money on a subscriber's account (``amount`` in cents). A refund
    names the payment by its push's ``account_reference`` and ``receipt``, and carries the
    reversal's ``occasion`` (``None`` for a payment)."""

    kind: Literal["pay", "reverse", "refund"]
    account_reference: str
    receipt: str
    msisdn: str
    amount: int
    currency: str
    time: str
    occasion: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(slots=True)
class _Push:
    merchant_request_id: str
    checkout_request_id: str
    reference: str
    shillings: int
    msisdn: str
    callback_url: str
    received_at: datetime
    due_at: datetime
    result: tuple[str, str] | None = None
    receipt: str | None = None
    reversed: int = 0  # cents


class MpesaBook:
    """All the state of one simulated M-Pesa. Not thread-safe: the app serialises calls."""

    def __init__(
        self,
        *,
        shortcode: str,
        initiator: tuple[str, str],
        accounts: Iterable[SimulatedAccount],
        single_payment_limit: int | None,
        approval_delay: timedelta,
        dedup_window: timedelta,
        send: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.shortcode = shortcode
        self._initiator = initiator  # (Initiator, SecurityCredential)
        self._limit = single_payment_limit
        self._delay = approval_delay
        self._window = dedup_window
        # Copies: the caller's SimulatedAccount objects stay as configured.
        self.accounts = [dataclasses.replace(account) for account in accounts]
        self._by_msisdn = {account.msisdn: account for account in self.accounts}
        self._pushes: dict[str, _Push] = {}
        self._recent: dict[tuple[str, int, str], _Push] = {}
        self._by_receipt: dict[str, _Push] = {}
        # Occasion → the reversal's acknowledgement, and where its result went with what.
        self._reversals: dict[str, tuple[dict[str, Any], str, dict[str, Any]]] = {}
        self._send = send
        self.ledger: list[LedgerEntry] = []
        self.callbacks: list[dict[str, Any]] = []
        self.pay_requests = 0
        self.charges = 0

    def _post(
        self,
        kind: Literal["pay", "refund"],
        push: _Push,
        cents: int,
        now: datetime,
        occasion: str | None = None,
    ) -> None:
        account = self._by_msisdn[push.msisdn]
        account.balance += -cents if kind == "pay" else cents
        entry = LedgerEntry(
            kind,
            push.reference,
            push.receipt or "",
            push.msisdn,
            cents,
            "KES",
            now.isoformat(),
            occasion,
        )
        self.ledger.append(entry)

    def _notify(self, url: str, body: dict[str, Any]) -> None:
        """What M-Pesa POSTs to ``url``: kept, and handed to ``send`` if there is one."""
        self.callbacks.append(callback(url, body))
        if self._send is not None:
            self._send(url, body)

    # --- M-Pesa Express -----------------------------------------------------------------

    def push(self, body: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        """Take an STK push (credentials already checked): the acknowledgement."""
        if text(body, "TransactionType") != "CustomerPayBillOnline":
            raise BadRequest("TransactionType")
        if text(body, "PartyB", numeric=True) != self.shortcode:
            raise BadRequest("PartyB")
        msisdn = text(body, "PhoneNumber", numeric=True)
        if text(body, "PartyA", numeric=True) != msisdn or msisdn not in self._by_msisdn:
            raise BadRequest("PhoneNumber")
        reference = text(body, "AccountReference")
        if len(reference) > 12 or not reference.isalnum():
            raise BadRequest("AccountReference")
        if len(text(body, "TransactionDesc")) > 13:
            raise BadRequest("TransactionDesc")
        shillings, callback_url = number(body, "Amount"), text(body, "CallBackURL")
        key = (reference, shillings, msisdn)
        known = self._recent.get(key)
        if known is not None and now - known.received_at < self._window:
            return self._ack(known)  # the same push again: nobody is prompted twice
        push = _Push(
            new_id("merchant"),
            new_id("checkout"),
            reference,
            shillings,
            msisdn,
            callback_url,
            now,
            now + self._delay,
        )
        self._pushes[push.checkout_request_id] = self._recent[key] = push
        self.settle(now)
        return self._ack(push)

    @staticmethod
    def _ack(push: _Push) -> dict[str, Any]:
        return {
            "MerchantRequestID": push.merchant_request_id,
            "CheckoutRequestID": push.checkout_request_id,
            "ResponseCode": "0",
            "ResponseDescription": "Success. Request accepted for processing",
            "CustomerMessage": "Success. Request accepted for processing",
        }

    def settle(self, now: datetime) -> None:
        """Let every phone whose answer is due answer."""
        for push in self._pushes.values():
            if push.result is None and push.due_at <= now:
                push.result = self._answer(push, now)
                self._callback(push, now)

    def _answer(self, push: _Push, now: datetime) -> tuple[str, str]:
        account = self._by_msisdn[push.msisdn]
        cents = push.shillings * _CENTS
        if account.answer != "approve":
            return _ANSWERS[account.answer]
        if self._limit is not None and cents > self._limit:
            return "3", "More Than Maximum Transaction Value"
        if account.balance < cents:
            return "1", "The balance is insufficient for the transaction."
        push.receipt = new_id("receipt")
        self._by_receipt[push.receipt] = push
        self._post("pay", push, cents, now)
        self.charges += 1
        return "0", "The service request is processed successfully."

    def _callback(self, push: _Push, now: datetime) -> None:
        assert push.result is not None
        code, description = push.result
        paid = None if push.receipt is None else (push.receipt, push.shillings, push.msisdn, now)
        body = stk_callback(
            push.merchant_request_id, push.checkout_request_id, code, description, paid
        )
        self._notify(push.callback_url, body)

    def query(self, body: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        checkout = text(body, "CheckoutRequestID")
        self.settle(now)
        push = self._pushes.get(checkout)
        if push is None:
            raise BadRequest("CheckoutRequestID")
        if push.result is None:
            raise StillProcessing
        code, description = push.result
        return {
            "ResponseCode": "0",
            "ResponseDescription": "The service request has been accepted successsfully",
            "MerchantRequestID": push.merchant_request_id,
            "CheckoutRequestID": checkout,
            "ResultCode": code,
            "ResultDesc": description,
        }

    # --- reversals ----------------------------------------------------------------------

    def reverse(self, body: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        """Take a reversal: the acknowledgement; the result goes to ``ResultURL``."""
        if text(body, "CommandID") != "TransactionReversal":
            raise BadRequest("CommandID")
        if text(body, "RecieverIdentifierType", numeric=True) != "11":
            raise BadRequest("RecieverIdentifierType")
        if text(body, "ReceiverParty", numeric=True) != self.shortcode:
            raise BadRequest("ReceiverParty")
        receipt, shillings = text(body, "TransactionID"), number(body, "Amount")
        result_url, occasion = text(body, "ResultURL"), text(body, "Occasion")
        for required in ("QueueTimeOutURL", "Remarks"):
            text(body, required)
        authorised = (text(body, "Initiator"), text(body, "SecurityCredential")) == (
            self._initiator
        )
        known = self._reversals.get(occasion)
        if known is not None:
            # The same refund again: the first one stands and nothing moves; its result is
            # called back again, as the answer to a repeat is the first answer.
            ack, first_url, first_result = known
            self._notify(first_url, first_result)
            return ack
        ack = {
            "OriginatorConversationID": new_id("originator"),
            "ConversationID": new_id("conversation"),
            "ResponseCode": "0",
            "ResponseDescription": "Accept the service request successfully.",
        }
        result = self._reversal_result(
            receipt, shillings * _CENTS, now, occasion, authorised=authorised
        )
        result |= {k: ack[k] for k in ("OriginatorConversationID", "ConversationID")}
        self._reversals[occasion] = (ack, result_url, {"Result": result})
        self._notify(result_url, {"Result": result})
        return ack

    def _reversal_result(
        self, receipt: str, cents: int, now: datetime, occasion: str, *, authorised: bool
    ) -> dict[str, Any]:
        push = self._by_receipt.get(receipt)
        if not authorised:
            code, description = "2001", "The initiator information is invalid."
        elif push is None:
            code, description = "R000002", "The OriginalTransactionID is invalid."
        elif push.reversed + cents > push.shillings * _CENTS:
            code, description = "R000001", "The transaction has already been reversed."
        else:
            push.reversed += cents
            self._post("refund", push, cents, now, occasion)
            return reversal_success(receipt, cents // _CENTS, now)
        return {"ResultType": 0, "ResultCode": code, "ResultDesc": description}
