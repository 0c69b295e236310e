"""Netting: for random ledgers, positions sum to zero and equal an independent gross."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fx import Money
from gateway.clearing import ClearingTerms, FeeRates, close_batch
from gateway.netting import Settlement, account_totals, net, value_date
from gateway.postings import fee
from gateway.states import PaymentStatus
from gateway.store import Store
from tests.gateway.test_postings import SUCCESS, pay, quote, refund_ok

TERMS = ClearingTerms(
    "+08:00", FeeRates(50, 20), {"SIAM_ACQ": FeeRates(0, 25), "KAKAOPAY": FeeRates(60, 15)}
)
COMPANIES = {"SIAM_ACQ": "SIAM_GROUP", "TRUEMONEY": "SIAM_GROUP"}
WALLETS = {"KAKAOPAY": ("KRW", "39.1"), "TRUEMONEY": ("THB", "1")}


@dataclass(frozen=True)
class Sale:
    amount: int
    wallet: str
    refunds: tuple[int, ...]  # parts of the amount, in ten-thousandths
    cancelled: bool


sales = st.builds(
    Sale,
    st.integers(1, 5_000_000),
    st.sampled_from(sorted(WALLETS)),
    st.lists(st.integers(1, 5_000), max_size=2).map(tuple),
    st.booleans(),
)


def company(participant: str) -> str:
    return COMPANIES.get(participant, participant)


def expected(ledger: list[Sale]) -> dict[tuple[str, str], int]:
    """Each company's net per currency, computed from the sales, not from the books."""
    nets: dict[tuple[str, str], int] = {}

    def add(who: str, ccy: str, amount: int) -> None:
        nets[(company(who), ccy)] = nets.get((company(who), ccy), 0) + amount

    for sale in ledger:
        ccy, price = WALLETS[sale.wallet]
        q = quote("THB", ccy, price)

        total_w = q.convert(Money("THB", sale.amount)).minor
        moves = [(sale.amount, -total_w)]
        if sale.cancelled:
            moves.append((-sale.amount, total_w))
        else:
            refunded, refunded_w = 0, 0
            for r in refund_amounts(sale):
                refunded += r
                # The last refund takes what remains in the wallet's currency (the store's rule).
                w = (
                    total_w - refunded_w
                    if refunded == sale.amount
                    else q.convert(Money("THB", r)).minor
                )
                refunded_w += w
                moves.append((-r, w))
        for s, minus_w in moves:
            w = -minus_w
            ic = TERMS.of(sale.wallet).interchange_bps
            add("SIAM_ACQ", "THB", s - fee(s, ic) - fee(s, TERMS.of("SIAM_ACQ").service_fee_bps))
            add(sale.wallet, ccy, -w + fee(w, ic) - fee(w, TERMS.of(sale.wallet).service_fee_bps))
    return {k: v for k, v in nets.items()}


def refund_amounts(sale: Sale) -> list[int]:
    left, out = sale.amount, []
    for part in sale.refunds:
        take = min(left, max(1, sale.amount * part // 10_000))
        if take:
            out.append(take)
            left -= take
    return out


async def settle_ledger(folder: Path, ledger: list[Sale]) -> Settlement:
    store = await Store.open(f"sqlite+aiosqlite:///{folder / 'ledger.db'}")
    try:
        for i, sale in enumerate(ledger):
            ccy, price = WALLETS[sale.wallet]
            paid = await pay(
                store,
                f"p{i}",
                sale.amount,
                wallet=sale.wallet,
                wallet_quote=quote("THB", ccy, price),
            )
            if sale.cancelled:
                await store.transition_payment(paid, PaymentStatus.CANCELLED, SUCCESS)
                continue
            for j, part in enumerate(refund_amounts(sale)):
                paid = await store.find_payment("SIAM_ACQ", f"p{i}") or paid
                await refund_ok(store, paid, f"r{i}-{j}", part)
        day = datetime.now(timezone(timedelta(hours=8))).date()
        batch, _ = await close_batch(store.engine, day, TERMS)
        async with store.engine.connect() as connection:
            accounts = await account_totals(connection, batch)
        return net(batch, accounts, company, lambda _c, _m: date(2026, 1, 1))
    finally:
        await store.close()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(sales, max_size=6))
def test_nets_sum_to_zero_and_equal_the_gross_computed_independently(ledger: list[Sale]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        settlement = asyncio.run(settle_ledger(Path(folder), ledger))
        again = asyncio.run(settle_ledger_again(Path(folder), settlement))

    assert settlement.imbalance() == {}
    got = {(p.company, p.currency): p.net for p in settlement.positions}
    want = expected(ledger)
    assert {k: v for k, v in got.items() if v} == {k: v for k, v in want.items() if v}
    assert again == settlement.positions


async def settle_ledger_again(folder: Path, first: Settlement) -> tuple[object, ...]:
    """Net the closed batch a second time: the same positions."""
    store = await Store.open(f"sqlite+aiosqlite:///{folder / 'ledger.db'}")
    try:
        batch, closed_now = await close_batch(store.engine, first.batch.day, TERMS)
        assert not closed_now
        async with store.engine.connect() as connection:
            accounts = await account_totals(connection, batch)
        return net(batch, accounts, company, lambda _c, _m: date(2026, 1, 1)).positions
    finally:
        await store.close()


def test_value_dates_skip_weekends_and_holidays() -> None:
    # Friday 2026-12-24 in Singapore: Christmas (Fri 25th) and the weekend do not count.
    assert value_date(date(2026, 12, 24), 2, "SG") == date(2026, 12, 29)
    assert value_date(date(2026, 12, 26), 0, "SG") == date(2026, 12, 28)  # Saturday, T+0
    assert value_date(date(2026, 11, 23), 1, "SG") == date(2026, 11, 24)
