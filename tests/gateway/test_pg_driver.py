"""The pay path's PostgreSQL statements run on asyncpg directly (gateway._pg): the same rows
and the same errors as through SQLAlchemy, and a dead connection is dropped, not pooled."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from gateway._pg import Driver
from gateway._rows import payment_row
from gateway.errors import StorageUnavailable
from gateway.schema import payments
from gateway.states import PaymentStatus
from gateway.store import DuplicateRequest, Store
from tests.conftest import Backend
from tests.gateway.test_store import SUCCESS, _payment

pytestmark = pytest.mark.anyio


async def _terminate(engine: AsyncEngine, pid: int) -> None:
    """End one server process, as a restart or an administrator would."""
    admin = create_async_engine(engine.url, poolclass=NullPool)
    try:
        async with admin.connect() as connection:
            await connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await admin.dispose()


def _insert(row: dict[str, Any]) -> sa.Insert:
    """An insert of ``row`` into payments, each value a parameter of the column's type."""
    return payments.insert().values({k: sa.bindparam(k, type_=payments.c[k].type) for k in row})


@pytest.fixture
async def engine(services_backend: Backend) -> AsyncIterator[AsyncEngine]:
    await (await Store.open(services_backend.database_url)).close()  # migrated
    made = create_async_engine(services_backend.database_url, pool_size=2, max_overflow=0)
    try:
        yield made
    finally:
        await made.dispose()


@pytest.mark.services
async def test_rows_equal_sqlalchemys_own(engine: AsyncEngine) -> None:
    """Bind processing (JSON columns, aware datetimes) and result decoding match."""
    row = payment_row(_payment("drv-1"))
    driver = Driver(engine)
    assert await driver.fetch_one(_insert(row), row) is None  # returns no rows
    query = sa.select(payments, sa.literal("x").label("fixed")).where(
        payments.c.payment_request_id == sa.bindparam("request", type_=sa.String)
    )
    fast = await driver.fetch_one(query, {"request": "drv-1"})
    async with engine.connect() as connection:
        slow = (await connection.execute(query, {"request": "drv-1"})).mappings().one()
    assert fast is not None
    assert dict(fast.items()) == dict(slow)
    assert fast["payment_quote"] == row["payment_quote"]  # a dict again, not JSON text
    assert fast["created_at"] == row["created_at"]
    assert fast["created_at"].tzinfo is not None
    assert fast["fixed"] == "x"
    assert await driver.fetch_one(query, {"request": "drv-none"}) is None


@pytest.mark.services
async def test_a_constraint_violation_is_sqlalchemys_integrity_error(engine: AsyncEngine) -> None:
    row = payment_row(_payment("drv-2"))
    insert = _insert(row)
    driver = Driver(engine)
    await driver.fetch_one(insert, row)
    with pytest.raises(IntegrityError) as raised:
        await driver.fetch_one(insert, row)
    assert raised.value.params is None  # the arguments may hold what a log must not show


@pytest.mark.services
async def test_the_store_reports_a_duplicate_through_the_driver(services_backend: Backend) -> None:
    store = await Store.open(services_backend.database_url)
    try:
        await store.create_payment(_payment("drv-3"))
        with pytest.raises(DuplicateRequest):
            await store.create_payment(_payment("drv-3"))
    finally:
        await store.close()


@pytest.mark.services
async def test_a_killed_connection_is_dropped_and_the_next_call_reconnects(
    engine: AsyncEngine,
) -> None:
    driver = Driver(engine)
    whoami = sa.select(sa.func.pg_backend_pid().label("pid"), sa.func.now().label("at"))
    first = await driver.fetch_one(whoami, {})
    assert first is not None
    await _terminate(engine, first["pid"])
    # The pool hands the dead connection out again (no pre-ping): that call fails as
    # unavailable, and the connection is dropped rather than pooled...
    pids = set()
    failures = []
    for _ in range(3):
        try:
            row = await driver.fetch_one(whoami, {})
        except OperationalError as exc:
            failures.append(exc)
            continue
        assert row is not None
        pids.add(row["pid"])
        assert row["at"] <= datetime.now(UTC)
    # ...so exactly one call failed, and every later one ran on a live connection.
    assert [exc.connection_invalidated for exc in failures] == [True]
    assert first["pid"] not in pids


@pytest.mark.services
async def test_the_store_calls_a_dead_ledger_unavailable(services_backend: Backend) -> None:
    store = await Store.open(services_backend.database_url, pool_size=1)
    try:
        assert await store.find_request("SIAM_ACQ", "drv-4") == (None, False, False)
        async with store.engine.connect() as connection:
            pid = (await connection.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one()
        await _terminate(store.engine, pid)
        with pytest.raises(StorageUnavailable):
            await store.find_request("SIAM_ACQ", "drv-4")
        assert await store.find_request("SIAM_ACQ", "drv-4") == (None, False, False)
    finally:
        await store.close()


@pytest.mark.services
async def test_a_server_refusing_connections_is_unavailable(services_backend: Backend) -> None:
    # "too many clients" comes while connecting, where the raw checkout the driver uses
    # leaves the driver's error unwrapped (it used to reach the merchant as an unexpected
    # error). A role allowed no connection gets the same refusal (53300) from the server.
    role = f"causeway_limited_{secrets.token_hex(3)}"
    admin = create_async_engine(services_backend.database_url, poolclass=NullPool)
    async with admin.connect() as connection:
        await connection.execute(sa.text(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 0"))
        await connection.commit()
    url = make_url(services_backend.database_url).set(username=role, password=None)
    store = await Store.open(url.render_as_string(hide_password=False), run_migrations=False)
    try:
        with pytest.raises(StorageUnavailable, match="the ledger is unavailable"):
            await store.find_request("SIAM_ACQ", "drv-5")
    finally:
        await store.close()
        async with admin.connect() as connection:
            await connection.execute(sa.text(f"DROP ROLE {role}"))
            await connection.commit()
        await admin.dispose()


@pytest.mark.services
async def test_in_lists_are_refused(engine: AsyncEngine) -> None:
    query = sa.select(payments.c.payment_id).where(
        payments.c.payment_id.in_(sa.bindparam("ids", expanding=True))
    )
    with pytest.raises(ValueError, match="expanding"):
        await Driver(engine).fetch_one(query, {"ids": ["a"]})


async def test_only_asyncpg_is_driven() -> None:
    sqlite = create_async_engine("sqlite+aiosqlite://")
    with pytest.raises(ValueError, match="asyncpg"):
        Driver(sqlite)
    await sqlite.dispose()


@pytest.mark.services
async def test_the_pay_path_compiles_each_statement_once(services_backend: Backend) -> None:
    """The driver keeps what it compiled, by statement: a statement built anew for each
    payment would be compiled again each time and kept forever."""
    store = await Store.open(services_backend.database_url)
    try:
        sizes = []
        for request_id in ("drv-5", "drv-6", "drv-7"):
            payment = _payment(request_id)
            await store.find_request(payment.acquirer_id, request_id)
            await store.create_payment(payment)
            await store.transition_payment(payment, PaymentStatus.SUCCEEDED, SUCCESS)
            assert store._driver is not None
            sizes.append(len(store._driver._compiled))
        assert sizes == [3, 3, 3]
    finally:
        await store.close()
