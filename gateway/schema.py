"""The ledger's tables, as SQLAlchemy Core metadata (one schema for SQLite and PostgreSQL).

Changes to these tables are made by a migration in ``gateway/migrations/versions``; this
module describes the head revision, and a test checks the two agree.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "clearing_batches",
    "closed_requests",
    "metadata",
    "notifications",
    "orders",
    "payment_events",
    "payments",
    "postings",
    "refunds",
]

metadata = sa.MetaData()

_TS = sa.DateTime(timezone=True)

#: A payment or refund whose outcome is not known yet: what the recovery worker sweeps.
#: Written out (not bound parameters) so that PostgreSQL matches its queries to the
#: partial indexes below whatever plan it caches.
UNRESOLVED = "status IN ('PENDING', 'UNKNOWN')"

payments = sa.Table(
    "payments",
    metadata,
    sa.Column("payment_id", sa.String(64), primary_key=True),
    sa.Column("acquirer_id", sa.String(64), nullable=False),
    sa.Column("payment_request_id", sa.String(64), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("result_code", sa.String(64), nullable=False),
    sa.Column("result_message", sa.String(256), nullable=False),
    sa.Column("wallet", sa.String(64), nullable=False),
    sa.Column("route", sa.String(64), nullable=False),
    sa.Column("wallet_request_id", sa.String(64), nullable=False, unique=True),
    sa.Column("payment_code_masked", sa.String(64), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("pay_to_currency", sa.String(3), nullable=False),
    sa.Column("pay_to_amount", sa.BigInteger, nullable=False),
    sa.Column("settlement_currency", sa.String(3), nullable=False),
    sa.Column("settlement_amount", sa.BigInteger, nullable=False),
    sa.Column("payment_quote", sa.JSON, nullable=False),
    sa.Column("settlement_quote", sa.JSON, nullable=False),
    sa.Column("merchant", sa.JSON, nullable=False),
    sa.Column("reference_order_id", sa.String(64), nullable=False),
    sa.Column("order_description", sa.String(256), nullable=False),
    sa.Column("notify_url", sa.String(2048)),
    # What refunds have claimed so far, in each of the three currencies; raised atomically
    # before a refund is sent, so concurrent refunds can never exceed the payment.
    sa.Column("refunded", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("refunded_pay_to", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("refunded_settlement", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("wallet_payment_id", sa.String(64)),
    sa.Column("customer_id", sa.String(64)),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("updated_at", _TS, nullable=False),
    sa.Column("completed_at", _TS),
    sa.UniqueConstraint("acquirer_id", "payment_request_id", name="uq_payments_request"),
    sa.CheckConstraint("amount > 0", name="ck_payments_amount_positive"),
    sa.CheckConstraint("refunded <= amount", name="ck_payments_refunded_within_amount"),
    # Recovery (migration 0007): the few unresolved payments among millions, oldest first.
    sa.Index(
        "ix_payments_unresolved",
        "updated_at",
        postgresql_where=sa.text(UNRESOLVED),
        sqlite_where=sa.text(UNRESOLVED),
    ),
)

refunds = sa.Table(
    "refunds",
    metadata,
    sa.Column("refund_id", sa.String(64), primary_key=True),
    sa.Column("payment_id", sa.String(64), sa.ForeignKey("payments.payment_id"), nullable=False),
    sa.Column("acquirer_id", sa.String(64), nullable=False),
    sa.Column("refund_request_id", sa.String(64), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("result_code", sa.String(64), nullable=False),
    sa.Column("result_message", sa.String(256), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("refund_from_amount", sa.BigInteger, nullable=False),
    sa.Column("settlement_amount", sa.BigInteger, nullable=False),
    sa.Column("reason", sa.String(256)),
    sa.Column("wallet_refund_id", sa.String(64)),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("completed_at", _TS),
    # When the refund was last sent to its wallet, once it has been sent again (migration
    # 0009); NULL: sent once only, as it was made. A wallet that does not deduplicate
    # refunds is sent one again only long after this (gateway.refunds).
    sa.Column("last_sent_at", _TS),
    sa.UniqueConstraint("acquirer_id", "refund_request_id", name="uq_refunds_request"),
    sa.CheckConstraint("amount > 0", name="ck_refunds_amount_positive"),
    sa.Index(
        "ix_refunds_unresolved",
        "created_at",
        postgresql_where=sa.text(UNRESOLVED),
        sqlite_where=sa.text(UNRESOLVED),
    ),
)

payment_events = sa.Table(
    "payment_events",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("payment_id", sa.String(64), sa.ForeignKey("payments.payment_id"), nullable=False),
    sa.Column("refund_id", sa.String(64)),
    sa.Column("source", sa.String(16)),
    sa.Column("target", sa.String(16), nullable=False),
    sa.Column("result_code", sa.String(64), nullable=False),
    sa.Column("at", _TS, nullable=False),
    sa.Index("ix_payment_events_payment", "payment_id"),
)

# Payment request ids cancelled before any pay with them arrived: a later pay is refused.
closed_requests = sa.Table(
    "closed_requests",
    metadata,
    sa.Column("acquirer_id", sa.String(64), primary_key=True),
    sa.Column("payment_request_id", sa.String(64), primary_key=True),
    sa.Column("closed_at", _TS, nullable=False),
)

# The outbox of merchant notifications: written in the transaction that made the payment
# final, delivered by the dispatcher until the acquirer acknowledges. The body is frozen at
# creation, so every attempt sends the same notification.
notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("notification_id", sa.String(64), primary_key=True),
    sa.Column(
        "payment_id",
        sa.String(64),
        sa.ForeignKey("payments.payment_id"),
        nullable=False,
        unique=True,
    ),
    sa.Column("acquirer_id", sa.String(64), nullable=False),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", _TS, nullable=False),
    sa.Column("last_error", sa.String(256)),
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("delivered_at", _TS),
    sa.Index("ix_notifications_due", "status", "next_attempt_at"),
)

# Orders waiting for a traveller to scan their QR code (or pay at a wallet's cashier). The
# payment row is made when a wallet claims the order, under the same request id.
orders = sa.Table(
    "orders",
    metadata,
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

# The books: every money movement as double-entry postings, one row per account and
# currency, signed from the account holder's side (+: the hub owes them, −: they owe the
# hub). A movement's postings sum to zero per currency. Rows are only ever inserted; the one
# update is giving a late posting (booked inside an already closed batch's window) the open
# batch it lands in. Payment and refund ids are not foreign keys: the clearing batch's own
# fee postings belong to no single transaction.
postings = sa.Table(
    "postings",
    metadata,
    # INTEGER on SQLite, where only that type is an alias for the rowid.
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
    # What the participant knows the movement by, on its principal postings (the hub's and
    # the fee postings have none): the request id it sent or was sent, and the movement's
    # amount in the transaction currency. A clearing file is then read from the postings
    # alone, in the order of an index, with no join to sort.
    sa.Column("request_id", sa.String(64)),
    sa.Column("transaction_currency", sa.String(3)),
    sa.Column("transaction_amount", sa.BigInteger),
    sa.Column("booked_at", _TS, nullable=False),
    sa.Column("batch_id", sa.String(8)),
    sa.Column("late", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_postings_booked", "booked_at"),
    sa.Index("ix_postings_batch", "batch_id"),
    sa.Index("ix_postings_payment", "payment_id"),
    # Settlement (migration 0006): a clearing file's items, read in booking order straight
    # from the index; the late postings the next close takes in.
    sa.Index(
        "ix_postings_items",
        "participant",
        "role",
        "currency",
        "booked_at",
        "posting_id",
        postgresql_where=sa.text("entry = 'PRINCIPAL' AND role IN ('acquirer', 'wallet')"),
        sqlite_where=sa.text("entry = 'PRINCIPAL' AND role IN ('acquirer', 'wallet')"),
    ),
    sa.Index(
        "ix_postings_late",
        "booked_at",
        postgresql_where=sa.text("late IS true AND batch_id IS NULL"),
        sqlite_where=sa.text("late IS true AND batch_id IS NULL"),
    ),
)

# Closed clearing batches: a calendar day in the clearing zone, as a UTC window. A row exists
# only once the batch is closed, and it is never changed; the fee rates it was cleared with
# are frozen in ``terms`` so settling it again reproduces the same files.
clearing_batches = sa.Table(
    "clearing_batches",
    metadata,
    sa.Column("batch_id", sa.String(8), primary_key=True),
    sa.Column("zone", sa.String(16), nullable=False),
    sa.Column("starts_at", _TS, nullable=False),
    sa.Column("ends_at", _TS, nullable=False),
    sa.Column("closed_at", _TS, nullable=False),
    sa.Column("terms", sa.JSON, nullable=False),
)
