"""Principal postings carry what their participant knows the movement by: its request id
and the movement's amount in the transaction currency. The clearing files are then read
from the postings alone, in index order, instead of joining a million postings to their
payments and sorting the result.

Existing principal postings are filled in from their payments and refunds, a batch of
postings at a time in primary-key order. On PostgreSQL the columns (nullable, without a
default) are added in an instant and committed, then each batch's UPDATE commits on its
own: payments go on booking postings, and settlement closing batches, while a large
ledger is filled in, instead of waiting for one UPDATE of every principal posting. A fill
that fails halfway leaves the revision at 0007 and the columns in place: running the
upgrade again adds only what is missing and fills in from the start.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

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

#: Postings per batch: each UPDATE holds the locks on its rows for moments only.
BATCH = 10_000

# A batch: the postings after ``after``, up to the last of the next BATCH. Walking the
# primary key ends whatever the subselects yield (a posting whose payment is gone stays NULL).
_FILL_BATCH = _FILL + "AND posting_id > :after AND posting_id <= :last"
_LAST = """
SELECT max(posting_id) FROM
    (SELECT posting_id FROM postings WHERE posting_id > :after ORDER BY posting_id LIMIT :size)
    AS batch
"""

_COLUMNS: dict[str, sa.types.TypeEngine[Any]] = {
    "request_id": sa.String(64),
    "transaction_currency": sa.String(3),
    "transaction_amount": sa.BigInteger(),
}


def upgrade() -> None:
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("postings")}
    with op.batch_alter_table("postings") as table:
        for name, type_ in _COLUMNS.items():
            if name not in present:
                table.add_column(sa.Column(name, type_))
    postgresql = op.get_bind().dialect.name == "postgresql"
    with op.get_context().autocommit_block() if postgresql else nullcontext():
        _fill(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("postings") as table:
        table.drop_column("transaction_amount")
        table.drop_column("transaction_currency")
        table.drop_column("request_id")


def _fill(connection: sa.Connection) -> None:
    after = 0  # posting ids start at 1
    while (last := connection.scalar(sa.text(_LAST), {"after": after, "size": BATCH})) is not None:
        connection.execute(sa.text(_FILL_BATCH), {"after": after, "last": last})
        after = last
