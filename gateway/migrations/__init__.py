"""Alembic migrations for the ledger; :func:`gateway.store.migrate` applies them."""
