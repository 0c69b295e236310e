"""Index builds that leave the table writable, for migrations on tables that grow large.

On PostgreSQL an index is built ``CONCURRENTLY``, outside the migration's transaction:
payments and postings go on being written however long the build takes. Each build
commits before its revision is recorded, so an upgrade run again after a failure may find
the index already built (``IF NOT EXISTS`` passes over it) or, where a concurrent build
failed or was interrupted, an INVALID index of its name: that one is dropped and built
again. SQLite's ledger is embedded and small: a plain build.

A concurrent build waits for every transaction older than it to end, and its table lock
holds up no write, so it waits without the ``lock_timeout`` the other migrations have
(``gateway.store.migrate``): the build would otherwise fail behind any long transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

__all__ = ["create_index", "drop_index"]

_INVALID = "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:name)"


def create_index(name: str, table: str, columns: list[str], where: str) -> None:
    """A partial index ``name`` on ``table`` (``where``), built without blocking writes."""
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(name, table, columns, sqlite_where=sa.text(where))
        return
    with op.get_context().autocommit_block(), _waiting_as_long_as_it_takes():
        if op.get_bind().scalar(sa.text(_INVALID), {"name": name}):
            op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
        op.create_index(
            name,
            table,
            columns,
            postgresql_where=sa.text(where),
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def drop_index(name: str, table: str) -> None:
    """Drop index ``name`` without blocking writes to ``table``."""
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(name, table_name=table)
        return
    with op.get_context().autocommit_block(), _waiting_as_long_as_it_takes():
        op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)


@contextmanager
def _waiting_as_long_as_it_takes() -> Iterator[None]:
    """No ``lock_timeout`` for what runs inside; the session's own is put back after."""
    bind = op.get_bind()
    before = bind.scalar(sa.text("SELECT current_setting('lock_timeout')"))
    bind.execute(sa.text("SET lock_timeout = 0"))
    try:
        yield
    finally:
        bind.execute(sa.text("SELECT set_config('lock_timeout', :value, false)"), {"value": before})
