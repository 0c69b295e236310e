"""Closed payment request ids: a cancel that arrived before its pay.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "closed_requests",
        sa.Column("acquirer_id", sa.String(64), primary_key=True),
        sa.Column("payment_request_id", sa.String(64), primary_key=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("closed_requests")
