"""Indexes for the recovery worker's sweep, which runs every second on every instance:
only the payments and refunds still unresolved (a handful among millions), oldest first.

Built without blocking writes (:mod:`gateway.migrations.online`).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from gateway.migrations.online import create_index, drop_index

revision = "0007"
down_revision = "0006"

# As gateway.schema.UNRESOLVED; a migration keeps its own copy of what it creates.
_UNRESOLVED = "status IN ('PENDING', 'UNKNOWN')"


def upgrade() -> None:
    create_index("ix_payments_unresolved", "payments", ["updated_at"], _UNRESOLVED)
    create_index("ix_refunds_unresolved", "refunds", ["created_at"], _UNRESOLVED)


def downgrade() -> None:
    drop_index("ix_refunds_unresolved", "refunds")
    drop_index("ix_payments_unresolved", "payments")
