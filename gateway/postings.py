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

The writer runs inside the caller's transaction — the one that moves the payment or refund
— so a movement is never booked without its state change, nor the reverse.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.models import Payment, Refund
from gateway.schema import clearing_batches, postings

__all__ = [
    "HUB",
    "Account",
    "Entry",
    "Movement",
    "Posting",
    "Role",
    "book",
    "fee",
    "payment_postings",
    "refund_postings",
    "reverse_payment",
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
    refund_id: str | None = None,
) -> list[Posting]:
    wallet_ccy = payment.pay_to_amount.currency
    settle_ccy = payment.settlement_amount.currency

    def line(
        role: Role, who: str, account: Account, ccy: str, amount: int, other: str | None
    ) -> Posting:
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
    )


def refund_postings(refund: Refund, payment: Payment) -> list[Posting]:
    """The postings of a refund that succeeded: the payment's, negated, at its amounts."""
    return _principal(
        Movement.REFUND,
        refund.refund_id,
        payment,
        wallet_amount=refund.refund_from_amount.minor,
        acquirer_amount=-refund.settlement_amount.minor,
        refund_id=refund.refund_id,
    )


def _row(posting: Posting, booked_at: datetime, late: bool) -> dict[str, Any]:
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
        "booked_at": booked_at,
        "batch_id": None,
        "late": late,
    }


async def _is_late(connection: AsyncConnection, booked_at: datetime) -> bool:
    """Whether ``booked_at`` falls in a batch that is already closed.

    On PostgreSQL the writer first takes the lock clearing's ``SHARE`` lock waits for, and
    only then reads the batches, so a close either sees this posting or this posting sees
    the close — never neither. On SQLite writers are serialised by the database itself.
    """
    if connection.dialect.name == "postgresql":
        await connection.execute(sa.text("LOCK TABLE postings IN ROW EXCLUSIVE MODE"))
    closed = await connection.execute(
        sa.select(clearing_batches.c.batch_id)
        .where(clearing_batches.c.starts_at <= booked_at, clearing_batches.c.ends_at > booked_at)
        .limit(1)
    )
    return closed.first() is not None


async def book(connection: AsyncConnection, lines: list[Posting], booked_at: datetime) -> None:
    """Insert one movement's postings in the caller's transaction.

    Raises ``AssertionError`` if they do not sum to zero per currency: that is a bug in a
    posting rule, and nothing of the movement may be written.
    """
    totals: dict[str, int] = {}
    for posting in lines:
        totals[posting.currency] = totals.get(posting.currency, 0) + posting.amount
    assert not any(totals.values()), f"unbalanced postings: {totals}"
    if not lines:
        return
    late = await _is_late(connection, booked_at)
    await connection.execute(postings.insert(), [_row(p, booked_at, late) for p in lines])


async def reverse_payment(
    connection: AsyncConnection, payment_id: str, booked_at: datetime
) -> None:
    """Book a cancel: the exact negation of the payment's postings (none if it had none)."""
    late = await _is_late(connection, booked_at)
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
        sa.literal(booked_at, type_=postings.c.booked_at.type),
        sa.literal(None, type_=postings.c.batch_id.type),
        sa.literal(late),
    ).where(postings.c.payment_id == payment_id, postings.c.movement == Movement.PAYMENT.value)
    columns = [c.name for c in postings.columns if c.name != "posting_id"]
    await connection.execute(postings.insert().from_select(columns, source))
