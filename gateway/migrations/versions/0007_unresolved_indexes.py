"""Indexes for the recovery worker's sweep, which runs every second on every instance:
only the payments and refunds still unresolved (a handful among millions), oldest first.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"

# As gateway.schema.UNRESOLVED; a migration keeps its own copy of what it creates.
_UNRESOLVED = "status IN ('PENDING', 'UNKNOWN')"


def upgrade() -> None:
    op.create_index(
        "ix_payments_unresolved",
        "payments",
        ["updated_at"],
        postgresql_where=sa.text(_UNRESOLVED),
        sqlite_where=sa.text(_UNRESOLVED),
    )
    op.create_index(
        "ix_refunds_unresolved",
        "refunds",
        ["created_at"],
        postgresql_where=sa.text(_UNRESOLVED),
        sqlite_where=sa.text(_UNRESOLVED),
    )


def downgrade() -> None:
    op.drop_index("ix_refunds_unresolved", table_name="refunds")
    op.drop_index("ix_payments_unresolved", table_name="payments")
