"""Posting rules: every movement is booked with its state change, and balances per currency."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from connectors import Merchant
from fx import Direction, Money, Quote
from gateway.models import Payment, Refund
from gateway.postings import fee
from gateway.results import ResultCode
from gateway.schema import postings
from gateway.states import PaymentStatus, RefundStatus
from gateway.store import PaymentUpdate, Store
from tests.conftest import Backend

pytestmark = pytest.mark.anyio

SUCCESS = PaymentUpdate(ResultCode.SUCCESS, "Success.")


def quote(base: str, to: str, price: str) -> Quote:
    now = datetime.now(UTC)
    return Quote(
        f"q_{base}{to}", base, to, Decimal(price), Decimal(price), 0, Direction.COLLECT,
        now - timedelta(minutes=1), now + timedelta(minutes=10),
    )  # fmt: skip


def payment(
    request_id: str,
    amount: int = 125_000,
    *,
    acquirer: str = "SIAM_ACQ",
    wallet: str = "KAKAOPAY",
    wallet_quote: Quote | None = None,
    settlement_quote: Quote | None = None,
) -> Payment:
    """A PENDING payment of THB ``amount`` (minor units); KRW to the wallet, THB settled."""
    thb = Money("THB", amount)
    wq = wallet_quote or quote("THB", "KRW", "39.1")
    sq = settlement_quote or quote("THB", "THB", "1")
    now = datetime.now(UTC)
    return Payment(
        payment_id=f"P-{request_id}", acquirer_id=acquirer, payment_request_id=request_id,
        fingerprint="f" * 64, status=PaymentStatus.PENDING,
        result_code=ResultCode.PAYMENT_IN_PROCESS, result_message="in process", wallet=wallet,
        route="kakaopay-aps", wallet_request_id=f"W-{request_id}",
        payment_code_masked="••••0013", amount=thb, pay_to_amount=wq.convert(thb),
        settlement_amount=sq.convert(thb), payment_quote=wq, settlement_quote=sq,
        merchant=Merchant("M1", "Baan Somtum", "5812", "TH"), reference_order_id="O1",
        order_description="lunch", notify_url=None, refunded=Money("THB", 0),
        wallet_payment_id=None, customer_id=None, created_at=now, updated_at=now,
        completed_at=None,
    )  # fmt: skip


def refund(paid: Payment, request_id: str, minor: int) -> Refund:
    amount = Money("THB", minor)
    return Refund(
        refund_id=f"R-{request_id}", payment_id=paid.payment_id, acquirer_id=paid.acquirer_id,
        refund_request_id=request_id, fingerprint="r" * 64, status=RefundStatus.PENDING,
        result_code=ResultCode.PAYMENT_IN_PROCESS, result_message="in process", amount=amount,
        refund_from_amount=paid.payment_quote.convert(amount),
        settlement_amount=paid.settlement_quote.convert(amount), reason=None,
        wallet_refund_id=None, created_at=datetime.now(UTC), completed_at=None,
    )  # fmt: skip


async def pay(store: Store, request_id: str, amount: int = 125_000, **kw: object) -> Payment:
    created = payment(request_id, amount, **kw)  # type: ignore[arg-type]
    await store.create_payment(created)
    return await store.transition_payment(created, PaymentStatus.SUCCEEDED, SUCCESS)


async def refund_ok(store: Store, paid: Payment, request_id: str, minor: int) -> Refund:
    stored = await store.create_refund(refund(paid, request_id, minor), paid)
    return await store.transition_refund(stored, RefundStatus.SUCCEEDED, ResultCode.SUCCESS, "ok")


async def lines(store: Store) -> list[tuple[str, str, str, str, str, int]]:
    query = sa.select(
        postings.c.movement, postings.c.movement_id, postings.c.role, postings.c.participant,
        postings.c.currency, postings.c.amount,
    ).order_by(postings.c.posting_id)  # fmt: skip
    async with store.engine.connect() as connection:
        return [tuple(r) for r in (await connection.execute(query)).all()]


def per_currency(rows: list[tuple[str, str, str, str, str, int]]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for *_, ccy, amount in rows:
        totals[ccy] = totals.get(ccy, 0) + amount
    return totals


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    opened = await Store.open(backend.database_url)
    try:
        yield opened
    finally:
        await opened.close()


async def test_a_success_books_the_wallet_owing_and_the_acquirer_owed(store: Store) -> None:
    paid = await pay(store, "p1")

    rows = await lines(store)

    assert rows == [
        ("PAYMENT", "P-p1", "wallet", "KAKAOPAY", "KRW", -paid.pay_to_amount.minor),
        ("PAYMENT", "P-p1", "hub", "HUB", "KRW", paid.pay_to_amount.minor),
        ("PAYMENT", "P-p1", "acquirer", "SIAM_ACQ", "THB", 125_000),
        ("PAYMENT", "P-p1", "hub", "HUB", "THB", -125_000),
    ]
    assert paid.pay_to_amount.minor == 48_875  # 1,250.00 THB × 39.1, the won has no minor unit


async def test_a_failure_books_nothing(store: Store) -> None:
    created = payment("p1")
    await store.create_payment(created)
    await store.transition_payment(
        created, PaymentStatus.FAILED, PaymentUpdate(ResultCode.RISK_REJECT, "no")
    )
    assert await lines(store) == []


async def test_a_refund_reverses_at_the_payments_own_amounts(store: Store) -> None:
    paid = await pay(store, "p1", 10_001)
    await refund_ok(store, paid, "r1", 3_333)
    await refund_ok(store, paid, "r2", 6_668)

    rows = await lines(store)

    assert per_currency(rows) == {"KRW": 0, "THB": 0}
    wallet = sum(a for m, _, role, *_, a in rows if role == "wallet")
    acquirer = sum(a for m, _, role, *_, a in rows if role == "acquirer")
    assert (wallet, acquirer) == (0, 0)  # refunded in full: nothing left to settle
    assert {m for m, *_ in rows} == {"PAYMENT", "REFUND"}


async def test_a_failed_refund_books_nothing(store: Store) -> None:
    paid = await pay(store, "p1")
    stored = await store.create_refund(refund(paid, "r1", 100), paid)
    await store.transition_refund(stored, RefundStatus.FAILED, ResultCode.PROCESS_FAIL, "no")
    assert len(await lines(store)) == 4


async def test_a_cancel_after_success_books_the_exact_reversal(store: Store) -> None:
    paid = await pay(store, "p1")
    await store.transition_payment(paid, PaymentStatus.CANCELLED, SUCCESS)

    rows = await lines(store)

    payment_rows = [r[2:] for r in rows if r[0] == "PAYMENT"]
    cancel_rows = [r[2:] for r in rows if r[0] == "CANCEL"]
    assert cancel_rows == [(*r[:-1], -r[-1]) for r in payment_rows]


async def test_a_cancel_of_a_payment_that_never_succeeded_books_nothing(store: Store) -> None:
    created = payment("p1")
    await store.create_payment(created)
    await store.transition_payment(created, PaymentStatus.CANCELLED, SUCCESS)
    assert await lines(store) == []


@given(st.integers(-(10**12), 10**12), st.integers(0, 9_999))
def test_a_fee_rounds_half_up_and_is_symmetric(amount: int, bps: int) -> None:
    exact = Decimal(abs(amount)) * bps / 10_000
    expected = int(exact.to_integral_value(rounding="ROUND_HALF_UP"))
    assert fee(amount, bps) == (expected if amount >= 0 else -expected)
    assert fee(-amount, bps) == -fee(amount, bps)


async def references(store: Store) -> list[tuple[str, str, str | None, str | None, int | None]]:
    query = sa.select(
        postings.c.movement, postings.c.role, postings.c.request_id,
        postings.c.transaction_currency, postings.c.transaction_amount,
    ).order_by(postings.c.posting_id)  # fmt: skip
    async with store.engine.connect() as connection:
        return [tuple(r) for r in (await connection.execute(query)).all()]


async def book_each_movement(store: Store) -> None:
    """A payment (p1), a refund of it (r1), and a payment cancelled after it succeeded (p2)."""
    paid = await pay(store, "p1", 10_001)
    await refund_ok(store, paid, "r1", 3_333)
    cancelled = await pay(store, "p2", 500)
    await store.transition_payment(cancelled, PaymentStatus.CANCELLED, SUCCESS)


async def test_principal_postings_carry_what_each_participant_knows_the_movement_by(
    store: Store,
) -> None:
    await book_each_movement(store)

    rows = await references(store)

    hub = ("hub", None, None, None)
    assert rows == [
        ("PAYMENT", "wallet", "W-p1", "THB", 10_001),
        ("PAYMENT", *hub),
        ("PAYMENT", "acquirer", "p1", "THB", 10_001),
        ("PAYMENT", *hub),
        # The wallet knows a refund by the hub's refund id, the acquirer by its own.
        ("REFUND", "wallet", "R-r1", "THB", 3_333),
        ("REFUND", *hub),
        ("REFUND", "acquirer", "r1", "THB", 3_333),
        ("REFUND", *hub),
        ("PAYMENT", "wallet", "W-p2", "THB", 500),
        ("PAYMENT", *hub),
        ("PAYMENT", "acquirer", "p2", "THB", 500),
        ("PAYMENT", *hub),
        ("CANCEL", "wallet", "W-p2", "THB", 500),
        ("CANCEL", *hub),
        ("CANCEL", "acquirer", "p2", "THB", 500),
        ("CANCEL", *hub),
    ]


async def test_the_migration_fills_in_the_references_of_earlier_postings(store: Store) -> None:
    await book_each_movement(store)
    booked = await references(store)
    migration = importlib.import_module("gateway.migrations.versions.0008_posting_references")

    async with store.engine.begin() as connection:
        # As postings booked before the columns existed.
        await connection.execute(
            postings.update().values(
                request_id=None, transaction_currency=None, transaction_amount=None
            )
        )
        await connection.execute(sa.text(migration._FILL))

    assert await references(store) == booked
