"""Clearing batches: a day in the zone, closed once; late events land in the open batch."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from gateway.clearing import ClearingTerms, FeeRates, close_batch, window
from gateway.netting import AccountTotals, account_totals
from gateway.postings import Account, Role
from gateway.schema import postings
from gateway.store import Store
from tests.conftest import Backend
from tests.gateway.test_postings import pay

pytestmark = pytest.mark.anyio

ZONE = timezone(timedelta(hours=8))
TERMS = ClearingTerms("+08:00", FeeRates(50, 20), {"SIAM_ACQ": FeeRates(50, 25)})


def today() -> date:
    return datetime.now(ZONE).date()


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    opened = await Store.open(backend.database_url)
    try:
        yield opened
    finally:
        await opened.close()


async def totals(store: Store, day: date) -> dict[tuple[str, str, str], AccountTotals]:
    batch, _ = await close_batch(store.engine, day, TERMS)
    async with store.engine.connect() as connection:
        rows = await account_totals(connection, batch)
    return {(a.participant, a.account.value, a.currency): a for a in rows}


def test_a_batch_is_a_calendar_day_in_utc_plus_8() -> None:
    start, end = window(date(2026, 11, 21), ZONE)
    assert start == datetime(2026, 11, 20, 16, tzinfo=UTC)
    assert end == datetime(2026, 11, 21, 16, tzinfo=UTC)


async def test_closing_books_fees_per_item_and_the_batch_balances(store: Store) -> None:
    await pay(store, "p1", 125_000)

    by = await totals(store, today())

    acquirer, wallet = by[("SIAM_ACQ", "settlement", "THB")], by[("KAKAOPAY", "settlement", "KRW")]
    # Interchange 50 bps and SIAM's service fee 25 bps of THB 1,250.00 (312.5 → 313, half-up).
    assert (acquirer.payments, acquirer.fees, acquirer.net) == (125_000, -625 - 313, 124_062)
    # KRW 48,875: interchange received 244 (244.375), service fee paid 98 (97.75).
    assert (wallet.payments, wallet.fees, wallet.net) == (-48_875, 244 - 98, -48_729)
    for ccy in ("THB", "KRW"):
        assert sum(a.net for a in by.values() if a.currency == ccy) == 0
    hub_fees = by[("HUB", "fees", "THB")]
    assert (hub_fees.role, hub_fees.account, hub_fees.net) == (Role.HUB, Account.FEES, 313)


async def test_closing_is_final_and_idempotent(store: Store) -> None:
    await pay(store, "p1")
    _, closed_now = await close_batch(store.engine, today(), TERMS)
    other_terms = ClearingTerms("+08:00", FeeRates(999, 999))
    again, closed_again = await close_batch(store.engine, today(), other_terms)

    assert (closed_now, closed_again) == (True, False)
    assert again.terms == TERMS  # the rates it was closed with, not today's configuration
    async with store.engine.connect() as connection:
        count = (
            await connection.execute(sa.select(sa.func.count()).select_from(postings))
        ).scalar()
    assert count == 4 + 4 + 4  # principal, interchange (2 + hub's 2), service (2 + hub's 2)


async def test_a_late_event_lands_in_the_open_batch_not_the_closed_one(store: Store) -> None:
    await pay(store, "p1", 10_000)
    await close_batch(store.engine, today(), TERMS)
    await pay(store, "p2", 20_000)  # booked inside today's window, after it closed

    async with store.engine.connect() as connection:
        late = (
            (
                await connection.execute(
                    sa.select(postings.c.late).where(postings.c.movement_id == "P-p2")
                )
            )
            .scalars()
            .all()
        )
    closed = await totals(store, today())
    tomorrow = await totals(store, today() + timedelta(days=1))

    assert set(late) == {True}
    assert closed[("SIAM_ACQ", "settlement", "THB")].payments == 10_000
    assert tomorrow[("SIAM_ACQ", "settlement", "THB")].payments == 20_000
    assert tomorrow[("SIAM_ACQ", "settlement", "THB")].items == 1


async def test_an_empty_batch_closes_with_nothing_in_it(store: Store) -> None:
    assert await totals(store, date(2020, 1, 1)) == {}
