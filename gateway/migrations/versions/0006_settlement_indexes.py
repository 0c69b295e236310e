"""Indexes for settling a batch of a million transactions: each participant's items in
booking order, and the late postings the next close takes in.

Built without blocking writes (:mod:`gateway.migrations.online`).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from gateway.migrations.online import create_index, drop_index

revision = "0006"
down_revision = "0005"

_ITEMS = "entry = 'PRINCIPAL' AND role IN ('acquirer', 'wallet')"
_LATE = "late IS true AND batch_id IS NULL"


def upgrade() -> None:
    create_index(
        "ix_postings_items",
        "postings",
        ["participant", "role", "currency", "booked_at", "posting_id"],
        _ITEMS,
    )
    create_index("ix_postings_late", "postings", ["booked_at"], _LATE)


def downgrade() -> None:
    drop_index("ix_postings_late", "postings")
    drop_index("ix_postings_items", "postings")
