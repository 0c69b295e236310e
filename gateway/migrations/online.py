"""Index builds that leave the table writable, for migrations on tables that grow large.

On PostgreSQL an index is built ``CONCURRENTLY``, outside the migration's transaction:
payments and postings go on being written however long the build takes. Each build
commits before its revision is recorded, so an upgrade run again after a failure may find
the index already built (``IF NOT EXISTS`` passes over it) or, where a concurrent build
failed or was interrupted, an INVALID index of its name: that one is dropped and built
again. SQLite's ledger is embedded and small: a plain build.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["create_index", "drop_index"]

_INVALID = "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:name)"


def create_index(name: str, table: str, columns: list[str], where: str) -> None:
    """A partial index ``name`` on ``table`` (``where``), built without blocking writes."""
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(name, table, columns, sqlite_where=sa.text(where))
        return
    with op.get_context().autocommit_block():
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
    with op.get_context().autocommit_block():
        op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
