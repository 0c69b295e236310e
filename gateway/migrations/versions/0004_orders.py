"""Orders: purchases waiting for the traveller to scan a QR code or pay at a cashier.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("acquirer_id", sa.String(64), nullable=False),
        sa.Column("payment_request_id", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("settlement_currency", sa.String(3), nullable=False),
        sa.Column("merchant", sa.JSON, nullable=False),
        sa.Column("reference_order_id", sa.String(64), nullable=False),
        sa.Column("order_description", sa.String(256), nullable=False),
        sa.Column("notify_url", sa.String(2048)),
        sa.Column("code_value", sa.String(512), nullable=False),
        sa.Column("wallet", sa.String(64)),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.UniqueConstraint("acquirer_id", "payment_request_id", name="uq_orders_request"),
    )


def downgrade() -> None:
    op.drop_table("orders")
