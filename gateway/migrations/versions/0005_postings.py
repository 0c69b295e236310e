"""The books: double-entry postings, and closed clearing batches.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "postings",
        sa.Column(
            "posting_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("movement", sa.String(16), nullable=False),
        sa.Column("movement_id", sa.String(64), nullable=False),
        sa.Column("entry", sa.String(16), nullable=False),
        sa.Column("payment_id", sa.String(64)),
        sa.Column("refund_id", sa.String(64)),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("participant", sa.String(64), nullable=False),
        sa.Column("account", sa.String(16), nullable=False),
        sa.Column("counterparty", sa.String(64)),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("booked_at", _TS, nullable=False),
        sa.Column("batch_id", sa.String(8)),
        sa.Column("late", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_postings_booked", "postings", ["booked_at"])
    op.create_index("ix_postings_batch", "postings", ["batch_id"])
    op.create_index("ix_postings_payment", "postings", ["payment_id"])
    op.create_table(
        "clearing_batches",
        sa.Column("batch_id", sa.String(8), primary_key=True),
        sa.Column("zone", sa.String(16), nullable=False),
        sa.Column("starts_at", _TS, nullable=False),
        sa.Column("ends_at", _TS, nullable=False),
        sa.Column("closed_at", _TS, nullable=False),
        sa.Column("terms", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("clearing_batches")
    op.drop_index("ix_postings_payment", table_name="postings")
    op.drop_index("ix_postings_batch", table_name="postings")
    op.drop_index("ix_postings_booked", table_name="postings")
    op.drop_table("postings")
