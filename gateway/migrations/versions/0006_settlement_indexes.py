"""Indexes for settling a batch of a million transactions: each participant's items in
booking order, and the late postings the next close takes in.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"

_ITEMS = "entry = 'PRINCIPAL' AND role IN ('acquirer', 'wallet')"
_LATE = "late IS true AND batch_id IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_postings_items",
        "postings",
        ["participant", "role", "currency", "booked_at", "posting_id"],
        postgresql_where=sa.text(_ITEMS),
        sqlite_where=sa.text(_ITEMS),
    )
    op.create_index(
        "ix_postings_late",
        "postings",
        ["booked_at"],
        postgresql_where=sa.text(_LATE),
        sqlite_where=sa.text(_LATE),
    )


def downgrade() -> None:
    op.drop_index("ix_postings_late", table_name="postings")
    op.drop_index("ix_postings_items", table_name="postings")
