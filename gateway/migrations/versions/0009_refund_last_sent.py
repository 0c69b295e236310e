"""Refunds record when they were last sent to their wallet, once sent again.

A wallet that does not deduplicate refunds (KakaoPay) is sent a refund again only when it
has none by that id and no earlier send can still reach it: the hub must know when the
last send was, not only when the refund was made. Existing refunds keep NULL, which reads
as "sent once, as it was made" (all any of them has been until now).

A nullable column without a default: on PostgreSQL an instant change of the catalogue, on
SQLite a plain ``ALTER TABLE ... ADD COLUMN``; no row is rewritten.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    with op.batch_alter_table("refunds") as table:
        table.add_column(sa.Column("last_sent_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("refunds") as table:
        table.drop_column("last_sent_at")
