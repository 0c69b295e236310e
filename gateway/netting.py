"""Netting: a closed batch's postings, summed per participant and currency, then netted
multilaterally so each company makes or receives one transfer per currency.

The sums are one ``GROUP BY`` in the database over the batch's postings; only their result
— a row per account and currency — comes back to Python. The hub's FX and fee accounts are
reported beside the companies; together they sum to zero in every currency, because every
movement's postings do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import holidays
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.clearing import ClearingBatch, members
from gateway.postings import Account, Entry, Movement, Role
from gateway.schema import postings

__all__ = [
    "AccountTotals",
    "HubPosition",
    "NetPosition",
    "Settlement",
    "account_totals",
    "net",
    "value_date",
]


@dataclass(frozen=True, slots=True)
class AccountTotals:
    """One account's gross and net in one currency, from its holder's side."""

    role: Role
    participant: str
    account: Account
    currency: str
    items: int  # principal postings: payments, refunds and cancels
    payments: int
    refunds: int
    cancels: int
    fees: int
    net: int


@dataclass(frozen=True, slots=True)
class NetPosition:
    """What one company receives (+) from or pays (−) to the hub in one currency."""

    company: str
    currency: str
    members: tuple[str, ...]
    items: int
    payments: int
    refunds: int
    cancels: int
    fees: int
    net: int
    value_date: date

    @property
    def direction(self) -> str:
        return "RECEIVE" if self.net > 0 else "PAY" if self.net < 0 else "NONE"


@dataclass(frozen=True, slots=True)
class HubPosition:
    """The hub's own position in one currency: its FX book and its fee income."""

    currency: str
    fx: int
    fees: int


@dataclass(frozen=True, slots=True)
class Settlement:
    """A batch's settlement: every account's totals, the companies' net positions and the
    hub's, in a stable order (currency, then company)."""

    batch: ClearingBatch
    accounts: tuple[AccountTotals, ...]
    positions: tuple[NetPosition, ...]
    hub: tuple[HubPosition, ...]

    def imbalance(self) -> dict[str, int]:
        """Per currency, what the positions and the hub's add up to (zero when the books
        balance; anything else is a bug)."""
        totals: dict[str, int] = {}
        for p in self.positions:
            totals[p.currency] = totals.get(p.currency, 0) + p.net
        for h in self.hub:
            totals[h.currency] = totals.get(h.currency, 0) + h.fx + h.fees
        return {ccy: total for ccy, total in totals.items() if total}


# Which total a principal posting's amount adds to, by its movement.
_COLUMNS = {Movement.PAYMENT: "payments", Movement.REFUND: "refunds", Movement.CANCEL: "cancels"}


async def account_totals(connection: AsyncConnection, batch: ClearingBatch) -> list[AccountTotals]:
    """Every account's totals in ``batch``: one aggregate query in the database.

    It counts and sums per account and kind of posting (entry and movement) — plain
    ``count(*)`` and ``sum(amount)``, cheaper per row than a conditional sum per column —
    and the few rows it returns are folded into each account's totals here.
    """
    keys = (
        postings.c.role,
        postings.c.participant,
        postings.c.account,
        postings.c.currency,
        postings.c.entry,
        postings.c.movement,
    )
    query = (
        sa.select(*keys, sa.func.count(), sa.func.sum(postings.c.amount))
        .where(members(batch))
        .group_by(*keys)
    )
    totals: dict[tuple[str, str, str, str], Counter[str]] = {}
    rows = await connection.execute(query)
    for role, participant, account, currency, entry, movement, count, amount in rows:
        sums = totals.setdefault((role, participant, account, currency), Counter())
        sums["net"] += int(amount)
        if entry != Entry.PRINCIPAL.value:
            sums["fees"] += int(amount)
            continue
        sums["items"] += int(count)
        column = _COLUMNS.get(Movement(movement))
        if column is not None:
            sums[column] += int(amount)
    return [
        AccountTotals(
            Role(role),
            participant,
            Account(account),
            currency,
            items=sums["items"],
            payments=sums["payments"],
            refunds=sums["refunds"],
            cancels=sums["cancels"],
            fees=sums["fees"],
            net=sums["net"],
        )
        # By currency, then role, participant and account.
        for (role, participant, account, currency), sums in sorted(
            totals.items(), key=lambda item: (item[0][3], item[0][0], item[0][1], item[0][2])
        )
    ]


@cache
def _holidays(country: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, years=[year, year + 1])


def value_date(day: date, cycle_days: int, calendar: str) -> date:
    """``day`` plus ``cycle_days`` working days: weekends and ``calendar``'s public holidays
    (a country code of the ``holidays`` library) do not count. T+0 on a day off rolls to
    the next working day."""

    def working(d: date) -> bool:
        return d.weekday() < 5 and d not in _holidays(calendar, d.year)

    current, left = day, cycle_days
    while left > 0 or not working(current):
        current += timedelta(days=1)
        if working(current):
            left -= 1
    return current


def net(
    batch: ClearingBatch,
    accounts: Iterable[AccountTotals],
    company_of: Callable[[str], str],
    value_date_of: Callable[[str, tuple[str, ...]], date],
) -> Settlement:
    """Net ``accounts`` multilaterally: one position per company and currency, and the
    hub's own beside them. ``value_date_of(company, members)`` gives a position's value
    date."""
    accounts = tuple(accounts)
    grouped: dict[tuple[str, str], list[AccountTotals]] = {}
    hub: dict[str, list[int]] = {}
    for a in accounts:
        if a.role is Role.HUB:
            book = hub.setdefault(a.currency, [0, 0])
            book[0 if a.account is Account.FX else 1] += a.net
        else:
            grouped.setdefault((company_of(a.participant), a.currency), []).append(a)
    positions = []
    for (company, currency), parts in sorted(grouped.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        names = tuple(sorted({p.participant for p in parts}))
        positions.append(
            NetPosition(
                company=company,
                currency=currency,
                members=names,
                items=sum(p.items for p in parts),
                payments=sum(p.payments for p in parts),
                refunds=sum(p.refunds for p in parts),
                cancels=sum(p.cancels for p in parts),
                fees=sum(p.fees for p in parts),
                net=sum(p.net for p in parts),
                value_date=value_date_of(company, names),
            )
        )
    hub_positions = tuple(HubPosition(ccy, fx, fees) for ccy, (fx, fees) in sorted(hub.items()))
    return Settlement(batch, accounts, tuple(positions), hub_positions)
