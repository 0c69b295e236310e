"""The simulated scheme's books: the wallet's accounts, the switch's transfers, the ledger.

One object plays the wallet's DFSP and its adapter, the account lookup service, the payee
DFSP (which quotes a fee and fulfils) and the switch (which reserves, commits or aborts and
answers ``GET /transfers``). A transfer goes through the adapter's steps in order and fails
at the first that refuses it, with the FSPIOP error that step would give: ``from.fspId`` is
not this DFSP (3202); the payer is not the wallet's customer (3204); the currency is not the
wallet's (4103); a refund names no committed payment (3208); payee lookup, or for a refund
the ``ALIAS`` party naming its payment (3204); a refund does not reverse the payment (3100);
the payee fee eats the amount (5103); a payment above the single limit, or a refund above
what is left to refund (4200); then the prepare, where a low payer balance aborts the
transfer (4001): the only refusal the switch keeps a record of.

A transferId seen before gets the first answer again when the request is the same, and
3106 when it is not; declines are remembered too (the stock adapter would run a declined
transfer again, since it keeps nothing).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from connectors.mojaloop._sim_json import (
    ORIGINAL,
    UUID,
    BadRequest,
    TransferAsk,
    error_answer,
    extensions,
    fulfilment_pair,
    now,
    quote,
    read_transfer,
)

if TYPE_CHECKING:
    from connectors.mojaloop.simulator import SimulatedAccount

__all__ = ["LedgerEntry", "SchemeBook"]


Answer = tuple[int, dict[str, Any]]


@dataclasses.dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One committed transfer; ``amount`` is what the payer sent, ``fee`` what the payee
    DFSP kept of it. A refund names the transfer of the payment it gives back
    (``original_transfer_id``; ``None`` for a payment)."""

    kind: Literal["pay", "refund"]
    transfer_id: str
    home_transaction_id: str
    original_transfer_id: str | None
    payer: str
    payee: str
    amount: int
    fee: int
    currency: str
    time: str

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(slots=True)
class _Record:
    """A transfer as the switch knows it: prepared, then committed or aborted."""

    kind: Literal["pay", "refund"]
    state: Literal["COMMITTED", "ABORTED"]
    payer: SimulatedAccount
    payee: SimulatedAccount
    amount: int
    completed: str
    fulfilment: str | None
    refunded: int = 0

    def fulfil_body(self) -> dict[str, Any]:
        body = {"completedTimestamp": self.completed, "transferState": self.state}
        return body | ({"fulfilment": self.fulfilment} if self.fulfilment else {})


class _Refusal(Exception):
    def __init__(self, code: str, detail: str | None = None) -> None:
        super().__init__(code)
        self.code, self.detail = code, detail


class SchemeBook:
    """All the state of one simulated scheme. Not thread-safe: the app serialises calls."""

    def __init__(
        self,
        *,
        dfsp_id: str,
        currency: str,
        exponent: int,
        accounts: Iterable[SimulatedAccount],
        single_payment_limit: int | None,
        payee_fee: int,
        secret: bytes,
    ) -> None:
        self._dfsp_id, self._currency, self._exponent = dfsp_id, currency, exponent
        self._limit, self._fee, self._secret = single_payment_limit, payee_fee, secret
        # Copies: the caller's SimulatedAccount objects stay as configured.
        self._accounts = [dataclasses.replace(account) for account in accounts]
        self._by_party = {(a.id_type, a.id_value): a for a in self._accounts}
        self._records: dict[str, _Record] = {}
        self._seen: dict[str, tuple[TransferAsk, Answer]] = {}
        self.ledger: list[LedgerEntry] = []
        self.charges = 0

    def accounts_json(self) -> list[dict[str, Any]]:
        return [
            {"name": a.name, "id_type": a.id_type, "balance": a.balance, "currency": self._currency}
            for a in self._accounts
        ]

    @staticmethod
    def is_refund(body: Mapping[str, Any]) -> bool:
        """Whether ``body`` asks for a refund (it names the payment it gives back)."""
        try:
            return ORIGINAL in extensions(body, "quoteRequestExtensions")
        except BadRequest:
            return False

    def post_transfer(self, body: Mapping[str, Any]) -> Answer:
        """``POST /transfers``; raises :class:`BadRequest` for a body the API refuses."""
        transfer_id, ask, state = read_transfer(body, self._exponent)
        seen = self._seen.get(transfer_id)
        if seen is not None:
            first, answer = seen
            return answer if first == ask else (500, error_answer("3106", state))
        try:
            answer = self._transfer(transfer_id, ask, state)
        except _Refusal as refusal:
            answer = (500, error_answer(refusal.code, state, refusal.detail))
        self._seen[transfer_id] = (ask, answer)
        return answer

    def _transfer(self, transfer_id: str, ask: TransferAsk, state: dict[str, Any]) -> Answer:
        if ask.payer_fsp is not None and ask.payer_fsp != self._dfsp_id:
            raise _Refusal("3202", f"this adapter serves {self._dfsp_id}")
        payer = self._by_party.get(ask.payer)
        if payer is None:
            raise _Refusal("3204", "the payer is not a customer of this wallet")
        if ask.currency != self._currency:
            raise _Refusal("4103", f"the wallet holds {self._currency}")
        paid = self._refunded_payment(ask.original)
        payee = self._payee(ask.payee)
        if payee is None:
            raise _Refusal("3204", "the payee is not known to the scheme")
        if paid is not None and (paid.payer is not payee or paid.payee is not payer):
            raise _Refusal("3100", "a refund must reverse its payment")
        if not ask.skip_lookup:
            info = {"partyIdType": ask.payee[0], "partyIdentifier": ask.payee[1]}
            party_body = {"partyIdInfo": info | {"fspId": self._dfsp_id}, "name": payee.name}
            state["getPartiesResponse"] = {"body": {"party": party_body}, "headers": {}}
        fee = 0 if paid else self._fee
        send = ask.amount if ask.amount_type == "SEND" else ask.amount + fee
        if send - fee <= 0:
            raise _Refusal("5103", "the fee is more than the amount")
        state.update(
            quote(
                currency=ask.currency,
                send=send,
                fee=fee,
                exponent=self._exponent,
                condition=fulfilment_pair(self._secret, transfer_id)[1],
                payee_fsp=self._dfsp_id,
            )
        )
        if paid is None and self._limit is not None and send > self._limit:
            raise _Refusal("4200", "above the single payment limit")
        if paid is not None and paid.refunded + send > paid.amount:
            raise _Refusal("4200", "more than is left to refund")
        kind: Literal["pay", "refund"] = "refund" if paid else "pay"
        if payer.balance < send:
            self._records[transfer_id] = _Record(kind, "ABORTED", payer, payee, send, now(), None)
            raise _Refusal("4001", "the payer's balance is too low")
        payer.balance -= send
        payee.balance += send - fee
        fulfilment = fulfilment_pair(self._secret, transfer_id)[0]
        record = _Record(kind, "COMMITTED", payer, payee, send, now(), fulfilment)
        self._records[transfer_id] = record
        if paid is not None:
            paid.refunded += send
        else:
            self.charges += 1
        self.ledger.append(
            LedgerEntry(
                kind,
                transfer_id,
                ask.home,
                ask.original,
                payer.name,
                payee.name,
                send,
                fee,
                ask.currency,
                now(),
            )
        )
        state["fulfil"] = {"body": record.fulfil_body(), "headers": {}}
        return 200, state | {"currentState": "COMPLETED"}

    def _refunded_payment(self, original: str | None) -> _Record | None:
        if original is None:
            return None
        paid = self._records.get(original)
        if paid is None or paid.kind != "pay" or paid.state != "COMMITTED":
            raise _Refusal("3208", "no committed payment with that originalTransferId")
        return paid

    def _payee(self, id_type_and_value: tuple[str, str]) -> SimulatedAccount | None:
        """The account a party names; the wallet's DFSP reads ``ALIAS`` = a transferId as
        "the customer who paid that transfer"."""
        id_type, id_value = id_type_and_value
        record = self._records.get(id_value) if id_type == "ALIAS" else None
        if record is not None and record.kind == "pay" and record.state == "COMMITTED":
            return record.payer
        return self._by_party.get(id_type_and_value)

    def get_transfer(self, transfer_id: str) -> Answer:
        """``GET /transfers/{transferId}``: the switch's record, or 3208."""
        if not UUID.fullmatch(transfer_id):
            raise BadRequest("transferId must be a UUID")
        state: dict[str, Any] = {"transferId": transfer_id, "direction": "OUTBOUND"}
        record = self._records.get(transfer_id)
        if record is None:
            return 500, error_answer("3208", state)
        fulfil = {"body": record.fulfil_body(), "headers": {}}
        return 200, state | {"currentState": "COMPLETED", "fulfil": fulfil}
