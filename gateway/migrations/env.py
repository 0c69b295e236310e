"""Alembic environment: run on a connection the caller hands over (``gateway.store``).

Each migration commits on its own (``transaction_per_migration``): a long one holds none of
the locks the earlier ones took, and one that fails leaves the schema at the last revision
that completed. The connection must come outside a transaction, or Alembic would take that
one for the caller's and run every migration in it. Those that build indexes on the big
tables or fill them in work outside any transaction on PostgreSQL (``autocommit_block``),
so that payments go on being booked meanwhile.
"""

from __future__ import annotations

from alembic import context

from gateway.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `causeway migrate`, which supplies the connection")
if connection.in_transaction():
    raise RuntimeError("hand the connection over outside a transaction: each migration commits")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
