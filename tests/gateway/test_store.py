"""The ledger on both backends: transitions are atomic with their events, and exclusive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from connectors import Merchant
from fx import Direction, Money, Quote
from gateway.errors import ConcurrentUpdate, IllegalTransition
from gateway.models import Payment, Refund
from gateway.results import ResultCode
from gateway.schema import metadata
from gateway.states import PaymentStatus, RefundStatus
from gateway.store import (
    DuplicateRequest,
    Page,
    PaymentUpdate,
    RefundExceedsPayment,
    Store,
    page_end,
)
from tests.conftest import Backend
from tests.gateway.test_postings import lines, per_currency

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)


def _quote(base: str, quote: str, price: str) -> Quote:
    return Quote(
        quote_id=f"q_{base}{quote}",
        base=base,
        quote=quote,
        price=Decimal(price),
        mid=Decimal(price),
        spread_bps=0,
        direction=Direction.COLLECT,
        start=NOW,
        expiry=NOW + timedelta(minutes=10),
    )


def _payment(request_id: str = "req-1", amount: int = 10_000) -> Payment:
    thb = Money("THB", amount)
    payment_quote = _quote("THB", "KRW", "39.1")
    settlement_quote = _quote("THB", "USD", "0.0279")
    return Payment(
        payment_id=f"P-{request_id}",
        acquirer_id="SIAM_ACQ",
        payment_request_id=request_id,
        fingerprint="f" * 64,
        status=PaymentStatus.PENDING,
        result_code=ResultCode.PAYMENT_IN_PROCESS,
        result_message="in process",
        wallet="KAKAOPAY",
        route="kakaopay-aps",
        wallet_request_id=f"P-{request_id}",
        payment_code_masked="2810••••••••0013",
        amount=thb,
        pay_to_amount=payment_quote.convert(thb),
        settlement_amount=settlement_quote.convert(thb),
        payment_quote=payment_quote,
        settlement_quote=settlement_quote,
        merchant=Merchant("M1", "Baan Somtum", "5812", "TH"),
        reference_order_id="O1",
        order_description="lunch",
        notify_url=None,
        refunded=Money("THB", 0),
        wallet_payment_id=None,
        customer_id=None,
        created_at=NOW,
        updated_at=NOW,
        completed_at=None,
    )


def _refund(payment: Payment, refund_request_id: str, minor: int) -> Refund:
    amount = Money("THB", minor)
    return Refund(
        refund_id=f"R-{refund_request_id}",
        payment_id=payment.payment_id,
        acquirer_id=payment.acquirer_id,
        refund_request_id=refund_request_id,
        fingerprint="r" * 64,
        status=RefundStatus.PENDING,
        result_code=ResultCode.PAYMENT_IN_PROCESS,
        result_message="in process",
        amount=amount,
        refund_from_amount=payment.payment_quote.convert(amount),
        settlement_amount=payment.settlement_quote.convert(amount),
        reason=None,
        wallet_refund_id=None,
        created_at=NOW,
        completed_at=None,
    )


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    opened = await Store.open(backend.database_url)
    try:
        yield opened
    finally:
        await opened.close()


SUCCESS = PaymentUpdate(ResultCode.SUCCESS, "Success.", "W-1", "KP-0001")


async def test_a_payment_round_trips_with_its_quotes(store: Store) -> None:
    payment = _payment()
    await store.create_payment(payment)

    found = await store.find_payment("SIAM_ACQ", "req-1")

    assert found == payment
    assert await store.events(payment.payment_id) == [(None, "PENDING", None)]


async def test_the_request_id_is_unique_per_acquirer(store: Store) -> None:
    await store.create_payment(_payment())
    with pytest.raises(DuplicateRequest):
        await store.create_payment(
            replace(_payment(), payment_id="P-other", wallet_request_id="W2")
        )
    other_acquirer = replace(
        _payment(), payment_id="P-2", wallet_request_id="W3", acquirer_id="TOKYO_ACQ"
    )
    await store.create_payment(other_acquirer)


async def test_a_transition_writes_its_event_and_completion(store: Store) -> None:
    payment = _payment()
    await store.create_payment(payment)

    moved = await store.transition_payment(payment, PaymentStatus.SUCCEEDED, SUCCESS)

    assert moved.status is PaymentStatus.SUCCEEDED
    assert moved.wallet_payment_id == "W-1"
    assert moved.completed_at is not None
    assert await store.events(payment.payment_id) == [
        (None, "PENDING", None),
        ("PENDING", "SUCCEEDED", None),
    ]


async def test_an_illegal_transition_raises_and_writes_nothing(store: Store) -> None:
    payment = _payment()
    await store.create_payment(payment)
    failed = await store.transition_payment(
        payment, PaymentStatus.FAILED, PaymentUpdate(ResultCode.RISK_REJECT, "no")
    )

    with pytest.raises(IllegalTransition):
        await store.transition_payment(failed, PaymentStatus.SUCCEEDED, SUCCESS)

    assert (await store.find_payment("SIAM_ACQ", "req-1")).status is PaymentStatus.FAILED  # type: ignore[union-attr]
    assert len(await store.events(payment.payment_id)) == 2


async def test_of_two_concurrent_transitions_exactly_one_wins(store: Store) -> None:
    payment = _payment()
    await store.create_payment(payment)

    outcomes = await asyncio.gather(
        store.transition_payment(payment, PaymentStatus.SUCCEEDED, SUCCESS),
        store.transition_payment(
            payment, PaymentStatus.FAILED, PaymentUpdate(ResultCode.RISK_REJECT, "no")
        ),
        return_exceptions=True,
    )

    assert sum(isinstance(o, Payment) for o in outcomes) == 1
    assert sum(isinstance(o, ConcurrentUpdate) for o in outcomes) == 1
    assert len(await store.events(payment.payment_id)) == 2


def _render(payment: Payment) -> str:
    assert payment.completed_at is not None
    return f"{payment.status.value} {payment.customer_id} {payment.completed_at.isoformat()}"


async def test_a_success_books_its_postings_and_notification_with_the_move(store: Store) -> None:
    payment = replace(_payment(), notify_url="https://acquirer.example/notify")
    await store.create_payment(payment)

    moved = await store.transition_payment(
        payment, PaymentStatus.SUCCEEDED, SUCCESS, notification=_render
    )

    rows = await lines(store)
    assert len(rows) == 4
    assert per_currency(rows) == {"KRW": 0, "USD": 0}
    (outbox,) = await store.claim_notifications(
        datetime.now(UTC), lease=timedelta(minutes=1), limit=10
    )
    assert outbox.body == _render(moved)  # rendered from the payment as the move left it


async def test_a_transition_that_lost_the_race_writes_nothing(store: Store) -> None:
    payment = replace(_payment(), notify_url="https://acquirer.example/notify")
    await store.create_payment(payment)
    unknown = await store.transition_payment(
        payment, PaymentStatus.UNKNOWN, PaymentUpdate(ResultCode.PAYMENT_IN_PROCESS, "?")
    )

    with pytest.raises(ConcurrentUpdate):  # ``payment`` still says PENDING
        await store.transition_payment(
            payment, PaymentStatus.SUCCEEDED, SUCCESS, notification=_render
        )

    assert await store.events(payment.payment_id) == [
        (None, "PENDING", None),
        ("PENDING", "UNKNOWN", None),
    ]
    assert await lines(store) == []
    assert await store.notification_status(payment.payment_id) is None
    await store.transition_payment(unknown, PaymentStatus.SUCCEEDED, SUCCESS, notification=_render)
    assert len(await lines(store)) == 4
    assert await store.notification_status(payment.payment_id) == ("PENDING", 0)


async def test_refunds_claim_their_amount_and_the_last_takes_the_remainder(store: Store) -> None:
    payment = _payment(amount=10_001)
    await store.create_payment(payment)
    paid = await store.transition_payment(payment, PaymentStatus.SUCCEEDED, SUCCESS)

    first = await store.create_refund(_refund(paid, "r1", 3_333), paid)
    second = await store.create_refund(_refund(paid, "r2", 3_333), paid)
    with pytest.raises(DuplicateRequest):
        await store.create_refund(_refund(paid, "r1", 1), paid)
    with pytest.raises(RefundExceedsPayment):
        await store.create_refund(_refund(paid, "r3", 3_336), paid)
    last = await store.create_refund(_refund(paid, "r4", 3_335), paid)

    from_total = sum(r.refund_from_amount.minor for r in (first, second, last))
    settled_total = sum(r.settlement_amount.minor for r in (first, second, last))
    assert from_total == paid.pay_to_amount.minor
    assert settled_total == paid.settlement_amount.minor


async def test_a_failed_refund_gives_its_claim_back(store: Store) -> None:
    payment = _payment(amount=5_000)
    await store.create_payment(payment)
    paid = await store.transition_payment(payment, PaymentStatus.SUCCEEDED, SUCCESS)
    refund = await store.create_refund(_refund(paid, "r1", 5_000), paid)

    failed = await store.transition_refund(
        refund, RefundStatus.FAILED, ResultCode.PROCESS_FAIL, "wallet said no"
    )

    assert failed.status is RefundStatus.FAILED
    assert (await store.find_payment("SIAM_ACQ", "req-1")).refunded.minor == 0  # type: ignore[union-attr]
    again = await store.create_refund(_refund(paid, "r2", 5_000), paid)
    assert again.amount.minor == 5_000


async def test_a_refund_of_a_payment_not_succeeded_is_refused(store: Store) -> None:
    payment = _payment()
    await store.create_payment(payment)
    with pytest.raises(RefundExceedsPayment):
        await store.create_refund(_refund(payment, "r1", 1), payment)


async def test_the_migrations_build_the_schema_the_code_describes(store: Store) -> None:
    async with store.engine.connect() as connection:
        columns = await connection.run_sync(
            lambda sync: {
                table: {c["name"] for c in sa.inspect(sync).get_columns(table)}
                for table in sa.inspect(sync).get_table_names()
                if table != "alembic_version"
            }
        )
    assert columns == {t.name: {c.name for c in t.columns} for t in metadata.tables.values()}


async def test_the_migrations_build_the_indexes_the_code_describes(store: Store) -> None:
    async with store.engine.connect() as connection:
        built = await connection.run_sync(
            lambda sync: {
                # Unique constraints show as indexes too; the columns test covers them.
                table: {i["name"] for i in sa.inspect(sync).get_indexes(table) if not i["unique"]}
                for table in sa.inspect(sync).get_table_names()
                if table != "alembic_version"
            }
        )
    described = {
        t.name: {i.name for i in t.indexes if not i.unique} for t in metadata.tables.values()
    }
    assert built == described


async def test_unresolved_payments_and_refunds_come_in_pages(store: Store) -> None:
    """Each page starts after the last one ended, in (time, id) order; a page that is not
    full says the next starts from the beginning again."""
    made = []
    for request_id in ("page-1", "page-2", "page-3"):
        payment = replace(_payment(request_id), created_at=NOW, updated_at=NOW)  # one time
        await store.create_payment(payment)
        made.append(payment.payment_id)
    before = NOW + timedelta(minutes=1)

    def key(payment: Payment) -> Page:
        return payment.updated_at, payment.payment_id

    first = await store.unresolved(before=before, limit=2)
    after = page_end(first, 2, key)
    assert after is not None
    second = await store.unresolved(before=before, limit=2, after=after)
    assert [p.payment_id for p in first + second] == sorted(made)  # ties broken by id
    assert page_end(second, 2, key) is None  # not full: start again

    found = await store.get_payment("SIAM_ACQ", made[0])
    assert found is not None
    paid = await store.transition_payment(found, PaymentStatus.SUCCEEDED, SUCCESS)
    for refund_request_id in ("page-r1", "page-r2", "page-r3"):
        await store.create_refund(_refund(paid, refund_request_id, 100), paid)
    refunds = await store.unresolved_refunds(before=before + timedelta(days=1), limit=2)
    ended = page_end(refunds, 2, lambda r: (r.created_at, r.refund_id))
    rest = await store.unresolved_refunds(before=before + timedelta(days=1), limit=2, after=ended)
    assert sorted(r.refund_id for r in refunds + rest) == ["R-page-r1", "R-page-r2", "R-page-r3"]
    assert len(rest) == 1
