"""Shared fixtures: the two storage backends and the services behind them.

Every backend-parametrised test runs on the embedded default (SQLite, in-process locks
and cache) and on PostgreSQL + Redis. Without the services, those runs are skipped with a
plain reason; with ``CAUSEWAY_REQUIRE_SERVICES=1`` (as in CI) they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.local import create_database, drop_database, ensure_local_keys, libpq_url

POSTGRES_URL = os.environ.get("CAUSEWAY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CAUSEWAY_TEST_REDIS", "redis://127.0.0.1:6379/0")
REQUIRE_SERVICES = os.environ.get("CAUSEWAY_REQUIRE_SERVICES") == "1"

ACQUIRERS = ["SIAM_ACQ", "TOKYO_ACQ"]
WALLETS = ["GCASH", "KAKAOPAY", "TRUEMONEY", "TNG", "ALIPAYHK", "DANA"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _unavailable(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason}, and CAUSEWAY_REQUIRE_SERVICES=1 makes that a failure")
    pytest.skip(f"{reason} (service-backed run skipped; set up PostgreSQL and Redis to run it)")


async def _redis_answers() -> None:
    redis = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await redis.ping()
    finally:
        await redis.aclose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A SQLAlchemy URL of a database made for this session (dropped at its end)."""
    name = f"causeway_test_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        url = asyncio.run(create_database(POSTGRES_URL, name, connect_timeout=3))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        _unavailable(f"PostgreSQL at {POSTGRES_URL} is unreachable: {exc}")
    yield url
    asyncio.run(drop_database(POSTGRES_URL, name, connect_timeout=3))


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        asyncio.run(_redis_answers())
    except (OSError, RedisError, TimeoutError) as exc:
        _unavailable(f"Redis at {REDIS_URL} is unreachable: {exc}")
    return REDIS_URL


@dataclass(frozen=True)
class Backend:
    """Where a test's ledger and shared state live."""

    name: str
    database_url: str
    redis_url: str | None
    redis_prefix: str


def sqlite_backend(folder: Path) -> Backend:
    """The embedded default, its ledger in ``folder``."""
    prefix = f"causeway-test:{secrets.token_hex(4)}:"
    return Backend("sqlite", f"sqlite+aiosqlite:///{folder / 'ledger.db'}", None, prefix)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.services)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return sqlite_backend(tmp_path)
    services: Backend = request.getfixturevalue("services_backend")
    return services


@pytest.fixture
def services_backend(postgres_database: str, redis_url: str) -> Backend:
    """PostgreSQL + Redis, emptied: the ``backend`` fixture's production half, and alone
    for what the embedded default cannot do (several instances sharing the services)."""
    asyncio.run(_truncate(postgres_database))
    return Backend(
        "postgres", postgres_database, redis_url, f"causeway-test:{secrets.token_hex(4)}:"
    )


async def _truncate(url: str) -> None:
    connection = await asyncpg.connect(libpq_url(url))
    try:
        exists = await connection.fetchval("SELECT to_regclass('payments') IS NOT NULL")
        if exists:
            # Every table the schema has (as of the migrations already run in this database).
            tables = await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
            names = ", ".join(f'"{t["tablename"]}"' for t in tables)
            await connection.execute(f"TRUNCATE {names}")
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state directory with every key pair the default configuration names."""
    folder = tmp_path_factory.mktemp("state")
    ensure_local_keys(folder, ACQUIRERS, WALLETS)
    return folder
