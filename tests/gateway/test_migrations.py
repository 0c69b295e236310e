"""The migrations on a live ledger: each commits on its own, the indexes on the big tables
are built without blocking writes (and rebuilt when a build failed), and the references
of earlier postings are filled in a batch at a time with the values one UPDATE gave."""

from __future__ import annotations

import asyncio
import importlib
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gateway import store
from gateway.local import create_database, drop_database
from gateway.schema import postings
from gateway.store import Store, migrate, migration_config
from tests.conftest import POSTGRES_URL
from tests.gateway.test_postings import book_each_movement

pytestmark = pytest.mark.anyio

FILL = importlib.import_module("gateway.migrations.versions.0008_posting_references")

HEAD = ScriptDirectory(str(Path(store.__file__).parent / "migrations")).get_current_head()

#: In the test's own database: pg_locks shows every database's.
ADVISORY_LOCKS_HELD = """
    SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""

# The indexes 0006 and 0007 build on the big tables.
BUILT_CONCURRENTLY = {
    "ix_postings_items",
    "ix_postings_late",
    "ix_payments_unresolved",
    "ix_refunds_unresolved",
}


@pytest.fixture
def empty_postgres(postgres_database: str) -> Iterator[str]:
    """A database of the test's own, with no schema: the migrations run from the start."""
    name = f"{make_url(postgres_database).database}_m{secrets.token_hex(3)}"
    url = asyncio.run(create_database(POSTGRES_URL, name, connect_timeout=3))
    yield url
    asyncio.run(drop_database(POSTGRES_URL, name, connect_timeout=3))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.services)])
def empty_ledger(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on either backend."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"
    url: str = request.getfixturevalue("empty_postgres")
    return url


@asynccontextmanager
async def connected(url: str) -> AsyncIterator[AsyncEngine]:
    """An engine of its own, as a gateway process starting up has."""
    engine = create_async_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def alembic(url: str, run: Callable[[Config, str], Any], revision: str) -> None:
    """``run`` (``command.upgrade``, ``command.downgrade``) as ``gateway.store.migrate`` does."""

    def step(connection: sa.Connection) -> None:
        run(migration_config(connection), revision)

    async with connected(url) as engine, engine.connect() as connection:
        await connection.run_sync(step)


async def version(url: str) -> str:
    """The revision the ledger's schema is at."""
    return str(await scalar(url, "SELECT version_num FROM alembic_version"))


async def scalar(url: str, query: str) -> Any:
    async with connected(url) as engine, engine.connect() as connection:
        return await connection.scalar(sa.text(query))


async def execute(url: str, statement: str) -> None:
    async with connected(url) as engine, engine.begin() as connection:
        await connection.execute(sa.text(statement))


async def indexes(url: str) -> dict[str, bool]:
    """Every index in the database, and whether PostgreSQL has it valid."""
    query = """
        SELECT c.relname, i.indisvalid FROM pg_index AS i
        JOIN pg_class AS c ON c.oid = i.indexrelid
        JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public'
    """
    async with connected(url) as engine, engine.connect() as connection:
        return {name: valid for name, valid in (await connection.execute(sa.text(query))).all()}


def principal(booked_at: datetime | None = None, *, late: bool = False) -> dict[str, Any]:
    """A principal posting as revision 0005 has them (no references yet)."""
    return {
        "movement": "PAYMENT",
        "movement_id": "P-gone",
        "entry": "PRINCIPAL",
        "payment_id": "P-gone",
        "role": "acquirer",
        "participant": "SIAM_ACQ",
        "account": "settlement",
        "currency": "THB",
        "amount": 100,
        "booked_at": booked_at or datetime.now(UTC),
        "late": late,
    }


async def insert_postings(engine: AsyncEngine, *rows: dict[str, Any]) -> None:
    async with engine.begin() as connection:
        await connection.execute(postings.insert(), list(rows))


@pytest.mark.services
async def test_the_indexes_are_built_while_postings_are_being_written(
    empty_postgres: str,
) -> None:
    """A build waits for the transactions already writing to its table, as any must, but
    does not stop new ones: a plain CREATE INDEX would queue every payment behind it."""
    url = empty_postgres
    await alembic(url, command.upgrade, "0005")
    async with connected(url) as engine, engine.connect() as writing:
        await writing.execute(postings.insert(), principal())  # left open: a long booking
        upgrading = asyncio.create_task(alembic(url, command.upgrade, "head"))
        try:
            waiting = """
                SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                AND wait_event_type = 'Lock' AND query LIKE 'CREATE INDEX%'
            """
            for _ in range(100):
                async with engine.connect() as watching:
                    if await watching.scalar(sa.text(waiting)):
                        break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("the index build never started")
            async with engine.begin() as booking:
                await booking.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
                await booking.execute(postings.insert(), principal())
        finally:
            await writing.commit()
            await upgrading

    assert await version(url) == HEAD
    built = await indexes(url)
    assert built.keys() >= BUILT_CONCURRENTLY
    assert all(built.values()), built


@pytest.mark.services
async def test_a_failed_migration_leaves_the_ones_before_it_applied(empty_postgres: str) -> None:
    url = empty_postgres
    await execute(url, "CREATE TABLE clearing_batches (batch_id text)")  # in 0005's way

    with pytest.raises(sa.exc.ProgrammingError, match="already exists"):
        await alembic(url, command.upgrade, "head")

    assert await version(url) == "0004"


@pytest.mark.services
async def test_a_fill_that_failed_is_done_again_by_the_next_upgrade(empty_postgres: str) -> None:
    """The columns 0008 added stay (committed before the fill), 0007 stays the revision."""
    url = empty_postgres
    await alembic(url, command.upgrade, "0005")
    async with connected(url) as engine:
        await insert_postings(engine, principal())
    await execute(
        url,
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN RAISE EXCEPTION 'the fill fails'; END $$",
    )
    await execute(url, "CREATE TRIGGER refuse BEFORE UPDATE ON postings EXECUTE FUNCTION refuse()")

    with pytest.raises(sa.exc.DBAPIError, match="the fill fails"):
        await alembic(url, command.upgrade, "head")
    assert await version(url) == "0007"
    built = await indexes(url)
    assert built.keys() >= BUILT_CONCURRENTLY
    assert all(built.values()), built

    await execute(url, "DROP TRIGGER refuse ON postings")
    await alembic(url, command.upgrade, "head")
    assert await version(url) == HEAD


@pytest.mark.services
async def test_an_upgrade_after_a_failed_index_build_completes_it(empty_postgres: str) -> None:
    """0006 built its first index, then failed on its second (leaving it INVALID): the
    upgrade run again keeps the first and builds the second again."""
    url = empty_postgres
    await alembic(url, command.upgrade, "0005")
    async with connected(url) as engine:
        at = datetime.now(UTC)
        await insert_postings(engine, principal(at, late=True), principal(at, late=True))
        autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        async with autocommit.connect() as connection:
            await connection.execute(
                sa.text(
                    "CREATE INDEX CONCURRENTLY ix_postings_items ON postings "
                    "(participant, role, currency, booked_at, posting_id) "
                    "WHERE entry = 'PRINCIPAL' AND role IN ('acquirer', 'wallet')"
                )
            )
            # A concurrent build that fails (here on the duplicates) leaves its index INVALID.
            with pytest.raises(sa.exc.IntegrityError):
                await connection.execute(
                    sa.text(
                        "CREATE UNIQUE INDEX CONCURRENTLY ix_postings_late ON postings (booked_at)"
                    )
                )
    assert (await indexes(url))["ix_postings_late"] is False

    await alembic(url, command.upgrade, "head")

    built = await indexes(url)
    assert built.keys() >= BUILT_CONCURRENTLY
    assert all(built.values()), built
    definition = await scalar(url, "SELECT pg_get_indexdef('ix_postings_late'::regclass)")
    assert definition.startswith("CREATE INDEX ix_postings_late ON public.postings")
    assert definition.endswith("WHERE ((late IS TRUE) AND (batch_id IS NULL))")


async def test_the_fill_in_batches_gives_what_one_update_gave(empty_ledger: str) -> None:
    """Over principal postings of several batches, some whose payment is gone."""
    url = empty_ledger
    store = await Store.open(url)
    try:
        await book_each_movement(store)
    finally:
        await store.close()
    async with connected(url) as engine:
        await insert_postings(engine, principal())
        async with engine.begin() as connection:
            copied = [c for c in postings.columns if c.name != "posting_id"]
            copy = postings.insert().from_select(
                copied,
                sa.select(*copied).where(
                    postings.c.entry == "PRINCIPAL", postings.c.role.in_(["acquirer", "wallet"])
                ),
            )
            while (
                await connection.scalar(sa.text("SELECT count(*) FROM postings")) <= 2 * FILL.BATCH
            ):
                await connection.execute(copy)
            # What the single UPDATE gave.
            await connection.execute(
                postings.update().values(
                    request_id=None, transaction_currency=None, transaction_amount=None
                )
            )
            await connection.execute(sa.text(FILL._FILL))
        expected = await references(engine)

    await alembic(url, command.downgrade, "0007")
    await alembic(url, command.upgrade, "head")

    async with connected(url) as engine:
        assert await references(engine) == expected
    assert ("PAYMENT", "acquirer", "p1", "THB", 10_001) in expected  # filled in
    assert ("PAYMENT", "acquirer", None, None, None) in expected  # payment gone


async def references(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    query = sa.select(
        postings.c.movement, postings.c.role, postings.c.request_id,
        postings.c.transaction_currency, postings.c.transaction_amount,
    ).order_by(postings.c.posting_id)  # fmt: skip
    async with engine.connect() as connection:
        return [tuple(r) for r in (await connection.execute(query)).all()]


@pytest.mark.services
async def test_processes_starting_together_migrate_one_at_a_time(empty_postgres: str) -> None:
    # Four gateway processes' start-up on a ledger that has no schema yet: without the lock
    # they race to build the same tables and indexes, and the concurrent index builds wait
    # for each other for ever.
    async def start() -> None:
        async with connected(empty_postgres) as engine:
            await migrate(engine)

    async with asyncio.timeout(60):
        await asyncio.gather(*(start() for _ in range(4)))
    held = await scalar(empty_postgres, ADVISORY_LOCKS_HELD)
    assert await version(empty_postgres) == HEAD
    assert held == 0  # each released it


@pytest.fixture
def quick_to_step_aside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "MIGRATION_LOCK_TIMEOUT_MS", 100)
    monkeypatch.setattr(store, "MIGRATION_RETRY_SECONDS", 0.3)


@pytest.mark.services
@pytest.mark.usefixtures("quick_to_step_aside")
async def test_a_migration_waiting_for_a_lock_steps_aside_for_payments(
    empty_postgres: str,
) -> None:
    """0008 alters postings, which needs the table to itself. Behind a long transaction
    that read postings, an ALTER waiting without a bound would queue every new posting
    behind it; instead it gives up after ``lock_timeout`` and tries again."""
    url = empty_postgres
    await alembic(url, command.upgrade, "0007")
    async with connected(url) as engine, connected(url) as starting:
        async with engine.connect() as reader:
            await reader.execute(sa.text("SELECT count(*) FROM postings"))  # its lock stays
            upgrading = asyncio.create_task(migrate(starting))
            for _ in range(6):
                await asyncio.sleep(0.25)
                async with asyncio.timeout(2):  # for ever, were the ALTER still queued
                    await insert_postings(engine, principal())
            assert not upgrading.done()
            await reader.rollback()
        async with asyncio.timeout(30):
            await upgrading
        async with starting.connect() as pooled:
            bound = await pooled.scalar(sa.text("SHOW lock_timeout"))

    assert await version(url) == HEAD
    assert await scalar(url, "SELECT count(*) FROM postings") == 6
    assert bound == "0"  # the migrating session's bound went with it


@pytest.mark.services
@pytest.mark.usefixtures("quick_to_step_aside")
async def test_a_migration_that_never_gets_its_lock_says_so(
    empty_postgres: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "MIGRATION_LOCK_ATTEMPTS", 2)
    url = empty_postgres
    await alembic(url, command.upgrade, "0007")
    async with connected(url) as engine, connected(url) as starting, engine.connect() as reader:
        await reader.execute(sa.text("SELECT count(*) FROM postings"))
        with pytest.raises(RuntimeError, match="waited for a table's lock 2 times"):
            async with asyncio.timeout(30):  # for ever, with no bound on the wait
                await migrate(starting)

    assert await version(url) == "0007"
    held = await scalar(url, ADVISORY_LOCKS_HELD)
    assert held == 0
