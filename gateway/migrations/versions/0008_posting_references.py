"""Principal postings carry what their participant knows the movement by: its request id
and the movement's amount in the transaction currency. The clearing files are then read
from the postings alone, in index order, instead of joining a million postings to their
payments and sorting the result.

Existing principal postings are filled in from their payments and refunds.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"

# Payments and cancels take the payment's ids and amount; refunds the refund's. The wallet
# knows a refund by the hub's refund id, which postings.refund_id already holds.
_FILL = """
UPDATE postings SET
    request_id = CASE
        WHEN movement = 'REFUND' AND role = 'acquirer' THEN
            (SELECT r.refund_request_id FROM refunds AS r WHERE r.refund_id = postings.refund_id)
        WHEN movement = 'REFUND' THEN refund_id
        WHEN role = 'acquirer' THEN
            (SELECT p.payment_request_id FROM payments AS p
             WHERE p.payment_id = postings.payment_id)
        ELSE
            (SELECT p.wallet_request_id FROM payments AS p
             WHERE p.payment_id = postings.payment_id)
    END,
    transaction_currency =
        (SELECT p.currency FROM payments AS p WHERE p.payment_id = postings.payment_id),
    transaction_amount = CASE
        WHEN movement = 'REFUND' THEN
            (SELECT r.amount FROM refunds AS r WHERE r.refund_id = postings.refund_id)
        ELSE
            (SELECT p.amount FROM payments AS p WHERE p.payment_id = postings.payment_id)
    END
WHERE entry = 'PRINCIPAL' AND role IN ('acquirer', 'wallet')
"""


def upgrade() -> None:
    with op.batch_alter_table("postings") as table:
        table.add_column(sa.Column("request_id", sa.String(64)))
        table.add_column(sa.Column("transaction_currency", sa.String(3)))
        table.add_column(sa.Column("transaction_amount", sa.BigInteger))
    op.execute(_FILL)


def downgrade() -> None:
    with op.batch_alter_table("postings") as table:
        table.drop_column("transaction_amount")
        table.drop_column("transaction_currency")
        table.drop_column("request_id")
