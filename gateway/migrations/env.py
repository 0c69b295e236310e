"""Alembic environment: run on a connection the caller hands over (``gateway.store``)."""

from __future__ import annotations

from alembic import context

from gateway.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `causeway migrate`, which supplies the connection")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
