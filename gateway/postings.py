"""Posting rules: how each money movement enters the books as double-entry postings.

Accounts are ``role:participant:kind`` per currency — ``acquirer:SIAM_ACQ:settlement``,
``wallet:KAKAOPAY:settlement``, ``hub:HUB:fx``, ``hub:HUB:fees`` — and an amount is signed
from the account holder's side: positive, the hub owes them; negative, they owe the hub.

A payment of THB 1,250.00 by a KakaoPay traveller to a Siam acquirer settling in THB::

    KRW  wallet:KAKAOPAY:settlement   −pay_to_amount      the wallet owes the hub
    KRW  hub:HUB:fx                   +pay_to_amount
    THB  acquirer:SIAM_ACQ:settlement +settlement_amount  the hub owes the acquirer
    THB  hub:HUB:fx                   −settlement_amount

Each currency sums to zero; the hub's FX account holds its position (and its spread). A
refund posts the same shape negated, at the amounts the payment's own quotes gave it; a
cancel of a succeeded payment inserts the exact negation of the payment's postings. Fees
(interchange, acquirer → wallet; service fee, participant → hub) are posted by clearing,
per transaction item at the batch's frozen rates (see :mod:`gateway.clearing`).

The writers are statements the caller runs with the state change — in its transaction, or
as part of the one statement that makes the change — so a movement is never booked without
its state change, nor the reverse.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from fx import Money
from gateway.models import Payment, Refund
from gateway.schema import clearing_batches, postings

__all__ = [
    "HUB",
    "Account",
    "Entry",
    "Movement",
    "Posting",
    "Role",
    "booking",
    "booking_parameters",
    "fee",
    "line_row",
    "payment_postings",
    "refund_postings",
    "reversal",
]

#: The hub's own participant id in the books.
HUB = "HUB"


class Movement(enum.StrEnum):
    PAYMENT = "PAYMENT"
    REFUND = "REFUND"
    CANCEL = "CANCEL"
    FEES = "FEES"  # a clearing batch's fee postings


class Entry(enum.StrEnum):
    PRINCIPAL = "PRINCIPAL"
    INTERCHANGE = "INTERCHANGE"
    SERVICE_FEE = "SERVICE_FEE"


class Role(enum.StrEnum):
    ACQUIRER = "acquirer"
    WALLET = "wallet"
    HUB = "hub"


class Account(enum.StrEnum):
    SETTLEMENT = "settlement"
    FX = "fx"
    FEES = "fees"


@dataclass(frozen=True, slots=True)
class Posting:
    """One line of a movement: an amount in one currency on one account."""

    movement: Movement
    movement_id: str
    entry: Entry
    role: Role
    participant: str
    account: Account
    currency: str
    amount: int
    counterparty: str | None = None
    payment_id: str | None = None
    refund_id: str | None = None
    #: On a participant's principal posting: the request id it knows the movement by, and
    #: the movement's amount in the transaction currency (its clearing file's columns).
    request_id: str | None = None
    transaction: Money | None = None

    @property
    def account_name(self) -> str:
        return f"{self.role}:{self.participant}:{self.account}"


def fee(amount: int, bps: int) -> int:
    """``amount × bps / 10 000`` in minor units, rounded half-up (ties away from zero).

    Symmetric about zero, so the fee on a refund or cancel is exactly the negation of the
    fee on the same amount paid. Clearing computes the same thing in SQL.
    """
    magnitude = (abs(amount) * bps + 5_000) // 10_000
    return -magnitude if amount < 0 else magnitude


def _principal(
    movement: Movement,
    movement_id: str,
    payment: Payment,
    *,
    wallet_amount: int,
    acquirer_amount: int,
    requests: tuple[str, str],
    transaction: Money,
    refund_id: str | None = None,
) -> list[Posting]:
    """A movement's four lines; ``requests`` are the ids the wallet and the acquirer know
    it by, ``transaction`` its amount in the transaction currency."""
    wallet_ccy = payment.pay_to_amount.currency
    settle_ccy = payment.settlement_amount.currency
    wallet_request, acquirer_request = requests

    def line(
        role: Role, who: str, account: Account, ccy: str, amount: int, other: str | None
    ) -> Posting:
        request = {Role.WALLET: wallet_request, Role.ACQUIRER: acquirer_request}.get(role)
        return Posting(
            movement,
            movement_id,
            Entry.PRINCIPAL,
            role,
            who,
            account,
            ccy,
            amount,
            other,
            payment.payment_id,
            refund_id,
            request,
            transaction if request is not None else None,
        )

    return [
        line(
            Role.WALLET,
            payment.wallet,
            Account.SETTLEMENT,
            wallet_ccy,
            wallet_amount,
            payment.acquirer_id,
        ),
        line(Role.HUB, HUB, Account.FX, wallet_ccy, -wallet_amount, None),
        line(
            Role.ACQUIRER,
            payment.acquirer_id,
            Account.SETTLEMENT,
            settle_ccy,
            acquirer_amount,
            payment.wallet,
        ),
        line(Role.HUB, HUB, Account.FX, settle_ccy, -acquirer_amount, None),
    ]


def payment_postings(payment: Payment) -> list[Posting]:
    """The postings of a payment that succeeded."""
    return _principal(
        Movement.PAYMENT,
        payment.payment_id,
        payment,
        wallet_amount=-payment.pay_to_amount.minor,
        acquirer_amount=payment.settlement_amount.minor,
        requests=(payment.wallet_request_id, payment.payment_request_id),
        transaction=payment.amount,
    )


def refund_postings(refund: Refund, payment: Payment) -> list[Posting]:
    """The postings of a refund that succeeded: the payment's, negated, at its amounts."""
    return _principal(
        Movement.REFUND,
        refund.refund_id,
        payment,
        wallet_amount=refund.refund_from_amount.minor,
        acquirer_amount=-refund.settlement_amount.minor,
        # The wallet knows a refund by the id the hub sent it.
        requests=(refund.refund_id, refund.refund_request_id),
        transaction=refund.amount,
        refund_id=refund.refund_id,
    )


#: What a movement's statements write: the id is generated, and clearing sets the batch.
_COLUMNS = [c.name for c in postings.columns if c.name not in ("posting_id", "batch_id")]
_LINE = [name for name in _COLUMNS if name not in ("booked_at", "late")]


def _late(booked_at: sa.ColumnElement[datetime]) -> sa.Exists:
    """Whether ``booked_at`` falls in a batch that is already closed, asked by the statement
    that writes the postings.

    PostgreSQL takes a statement's table locks (``ROW EXCLUSIVE`` on postings for an insert)
    before the snapshot the statement reads with, and clearing closes a batch under a
    ``SHARE`` lock on postings: so a close either waits for this posting and sees it, or
    this statement sees the close — never neither. On SQLite writers are serialised by the
    database itself.
    """
    return sa.exists().where(
        clearing_batches.c.starts_at <= booked_at, clearing_batches.c.ends_at > booked_at
    )


def booking(
    count: int,
    booked_at: sa.ColumnElement[datetime],
    *,
    when: sa.ColumnElement[bool] | None = None,
) -> sa.Insert:
    """The insert of a movement's ``count`` postings as one ``INSERT … SELECT``, each line
    marked late by the statement itself, and only ``when`` that holds (if given).

    The lines are bound by name, from :func:`booking_parameters`: the statement can be built
    once and run for every movement of that many lines.
    """
    lines = sa.union_all(
        *[
            sa.select(
                *[
                    sa.bindparam(f"line{i}_{name}", type_=postings.c[name].type).label(name)
                    for name in _LINE
                ]
            )
            for i in range(count)
        ]
    ).subquery("lines")
    # Whether the movement is late is asked once, not once a line.
    rows = sa.select(*lines.c, booked_at, _late(booked_at))
    return postings.insert().from_select(_COLUMNS, rows if when is None else rows.where(when))


def booking_parameters(lines: list[Posting]) -> dict[str, Any]:
    """The values :func:`booking` binds for ``lines``.

    Raises ``AssertionError`` if they do not sum to zero per currency: that is a bug in a
    posting rule, and nothing of the movement may be written.
    """
    totals: dict[str, int] = {}
    for posting in lines:
        totals[posting.currency] = totals.get(posting.currency, 0) + posting.amount
    assert not any(totals.values()), f"unbalanced postings: {totals}"
    parameters: dict[str, Any] = {}
    for i, posting in enumerate(lines):
        row = line_row(posting)
        parameters.update({f"line{i}_{name}": row[name] for name in _LINE})
    return parameters


def line_row(posting: Posting) -> dict[str, Any]:
    """The columns of ``posting``'s row that the posting itself decides (not its id, time,
    batch or lateness)."""
    transaction = posting.transaction
    return {
        "movement": posting.movement.value,
        "movement_id": posting.movement_id,
        "entry": posting.entry.value,
        "payment_id": posting.payment_id,
        "refund_id": posting.refund_id,
        "role": posting.role.value,
        "participant": posting.participant,
        "account": posting.account.value,
        "counterparty": posting.counterparty,
        "currency": posting.currency,
        "amount": posting.amount,
        "request_id": posting.request_id,
        "transaction_currency": transaction.currency if transaction else None,
        "transaction_amount": transaction.minor if transaction else None,
    }


def reversal(
    payment_id: sa.ColumnElement[str],
    booked_at: sa.ColumnElement[datetime],
    *,
    when: sa.ColumnElement[bool] | None = None,
) -> sa.Insert:
    """A cancel's postings: the exact negation of the payment's (none if it had none), as
    one statement like :func:`booking`."""
    source = sa.select(
        sa.literal(Movement.CANCEL.value),
        postings.c.movement_id,
        postings.c.entry,
        postings.c.payment_id,
        postings.c.refund_id,
        postings.c.role,
        postings.c.participant,
        postings.c.account,
        postings.c.counterparty,
        postings.c.currency,
        -postings.c.amount,
        postings.c.request_id,
        postings.c.transaction_currency,
        postings.c.transaction_amount,
        booked_at,
        _late(booked_at),
    ).where(postings.c.payment_id == payment_id, postings.c.movement == Movement.PAYMENT.value)
    return postings.insert().from_select(_COLUMNS, source if when is None else source.where(when))
