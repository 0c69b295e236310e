"""Settlement files in the Alipay+ naming, and the JSON summary beside them.

Under the output folder, for batch ``B`` (the batch's day stands for Alipay+'s generation
date, so a re-run writes the same paths)::

    clearing/<participantId>/<B>/transactionItems_<participantId>_<ccy>_<B>_<agreementId>_000.csv
    clearing/<participantId>/<B>/feeItems_<participantId>_<ccy>_<B>_<agreementId>_000.csv
    settlement/<companyId>/<B>/settlement_<companyId>_<ccy>_<B>_<agreementId>_000.csv
    summary_<B>.json

Each CSV is UTF-8 with a ``Summary`` section and a ``Detail`` section, and is written even
when it has no detail rows. Amounts are integer minor units, signed from the participant's
side (+: the hub pays it). Detail rows are in posting order, so a closed batch always gives
the same bytes. On PostgreSQL the detail rows go from the database to the file with
``COPY … TO STDOUT`` (streamed, never held in Python); on SQLite they are streamed through
the ``csv`` module.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.clearing import ClearingBatch, interchange_sql, members, service_fee_sql
from gateway.netting import Settlement
from gateway.postings import Account, Entry, Movement, Role
from gateway.schema import payments, postings, refunds

__all__ = ["agreement_id", "summary", "transaction_query", "write_files"]

SEQ = "000"


def agreement_id(participant: str, currency: str) -> str:
    """Alipay+ derives the agreement id from the participant and settlement currency."""
    return f"{participant}-{currency}"


def _name(kind: str, participant: str, currency: str, batch_id: str) -> str:
    agreement = agreement_id(participant, currency)
    return f"{kind}_{participant}_{currency}_{batch_id}_{agreement}_{SEQ}.csv"


def _head(summary_header: list[str], summary: list[Any], detail_header: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["Summary"])
    writer.writerow(summary_header)
    writer.writerow(summary)
    writer.writerow(["Detail"])
    writer.writerow(detail_header)
    return buffer.getvalue().encode()


def _time(connection: AsyncConnection) -> sa.ColumnElement[Any]:
    # Rendered by the database in one fixed format, whatever the session's settings.
    if connection.dialect.name == "postgresql":
        return sa.func.to_char(
            sa.func.timezone("UTC", postings.c.booked_at), 'YYYY-MM-DD"T"HH24:MI:SS"Z"'
        )
    return sa.func.strftime("%Y-%m-%dT%H:%M:%SZ", postings.c.booked_at)


TRANSACTION_COLUMNS = [
    "transactionId",
    "paymentId",
    "transactionType",
    "transactionStatus",
    "transactionTime",
    "requestId",
    "transactionCurrency",
    "transactionAmount",
    "counterparty",
    "settlementCurrency",
    "settlementAmount",
    "late",
]

FEE_COLUMNS = [
    "transactionId",
    "paymentId",
    "transactionType",
    "feeType",
    "feeCurrency",
    "feeAmount",
]


def _items(
    batch: ClearingBatch, role: Role, participant: str, currency: str
) -> sa.ColumnElement[bool]:
    return sa.and_(
        members(batch),
        postings.c.entry == Entry.PRINCIPAL.value,
        postings.c.role == role.value,
        postings.c.participant == participant,
        postings.c.currency == currency,
    )


def transaction_query(
    connection: AsyncConnection, batch: ClearingBatch, role: Role, participant: str, currency: str
) -> sa.Select[Any]:
    refund = postings.c.movement == Movement.REFUND.value
    if role is Role.ACQUIRER:
        request = sa.case(
            (refund, refunds.c.refund_request_id), else_=payments.c.payment_request_id
        )
    else:  # the ids the hub sent the wallet
        request = sa.case((refund, postings.c.refund_id), else_=payments.c.wallet_request_id)
    return (
        sa.select(
            postings.c.movement_id,
            postings.c.payment_id,
            postings.c.movement,
            sa.literal("SUCCESS"),
            _time(connection),
            request,
            payments.c.currency,
            sa.case((refund, refunds.c.amount), else_=payments.c.amount),
            postings.c.counterparty,
            postings.c.currency,
            postings.c.amount,
            sa.case((postings.c.late.is_(sa.true()), "Y"), else_="N"),
        )
        .select_from(
            postings.outerjoin(payments, payments.c.payment_id == postings.c.payment_id).outerjoin(
                refunds, refunds.c.refund_id == postings.c.refund_id
            )
        )
        .where(_items(batch, role, participant, currency))
        .order_by(postings.c.posting_id)
    )


def _fee_query(
    settlement: Settlement, role: Role, participant: str, currency: str
) -> sa.Select[Any]:
    terms = settlement.batch.terms
    parts = []
    for rank, (kind, amount) in enumerate(
        ((Entry.INTERCHANGE, interchange_sql(terms)), (Entry.SERVICE_FEE, service_fee_sql(terms)))
    ):
        parts.append(
            sa.select(
                postings.c.posting_id.label("posting_id"),
                sa.literal(rank).label("rank"),
                postings.c.movement_id.label("transaction_id"),
                postings.c.payment_id.label("payment_id"),
                postings.c.movement.label("movement"),
                sa.literal(kind.value).label("fee_type"),
                postings.c.currency.label("currency"),
                amount.label("fee"),
            ).where(_items(settlement.batch, role, participant, currency), amount != 0)
        )
    union = sa.union_all(*parts).subquery()
    return sa.select(*[union.c[n] for n in list(union.c.keys())[2:]]).order_by(
        union.c.posting_id, union.c.rank
    )


async def _detail(
    connection: AsyncConnection, query: sa.Select[Any], out: io.BufferedWriter
) -> None:
    if connection.dialect.name == "postgresql":
        compiled = query.compile(dialect=connection.dialect)
        params = compiled.construct_params()
        args = [params[name] for name in compiled.positiontup or []]
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        out.flush()
        await driver.copy_from_query(compiled.string, *args, output=out, format="csv")
        return
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\n")
    result = await connection.stream(query)
    async for partition in result.partitions(10_000):
        writer.writerows(partition)
    text.detach()


def _participants(
    settlement: Settlement, expected: Iterable[tuple[Role, str, str]]
) -> list[tuple[Role, str, str]]:
    seen = {
        (a.role, a.participant, a.currency) for a in settlement.accounts if a.role is not Role.HUB
    }
    return sorted(seen | set(expected))


async def write_files(
    connection: AsyncConnection,
    settlement: Settlement,
    folder: Path,
    *,
    expected: Iterable[tuple[Role, str, str]] = (),
    company_of: Callable[[str], str] = str,
    on_file: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Write every file of ``settlement`` under ``folder``; return their paths.

    ``expected`` names the ``(role, participant, currency)`` that get files even without
    a transaction in the batch.
    """
    batch_id = settlement.batch.batch_id
    totals = {
        (a.role, a.participant, a.currency): a
        for a in settlement.accounts
        if a.account is Account.SETTLEMENT
    }
    written: list[Path] = []

    def done(path: Path) -> None:
        written.append(path)
        if on_file is not None:
            on_file(path)

    for role, participant, currency in _participants(settlement, expected):
        where = folder / "clearing" / participant / batch_id
        where.mkdir(parents=True, exist_ok=True)
        account = totals.get((role, participant, currency))
        count, amount, fees = (
            (account.items, account.net - account.fees, account.fees) if account else (0, 0, 0)
        )
        key = [participant, currency, batch_id, agreement_id(participant, currency)]
        path = where / _name("transactionItems", participant, currency, batch_id)
        with path.open("wb") as out:
            out.write(
                _head(
                    [
                        "participantId",
                        "settlementCurrency",
                        "clearingBatchId",
                        "participantAgreementId",
                        "totalCount",
                        "totalAmount",
                    ],
                    [*key, count, amount],
                    TRANSACTION_COLUMNS,
                )
            )
            await _detail(
                connection,
                transaction_query(connection, settlement.batch, role, participant, currency),
                out,
            )
        done(path)
        path = where / _name("feeItems", participant, currency, batch_id)
        with path.open("wb") as out:
            out.write(
                _head(
                    [
                        "participantId",
                        "settlementCurrency",
                        "clearingBatchId",
                        "participantAgreementId",
                        "totalFee",
                    ],
                    [*key, fees],
                    FEE_COLUMNS,
                )
            )
            await _detail(connection, _fee_query(settlement, role, participant, currency), out)
        done(path)

    for position in settlement.positions:
        company, currency = position.company, position.currency
        where = folder / "settlement" / company / batch_id
        where.mkdir(parents=True, exist_ok=True)
        path = where / _name("settlement", company, currency, batch_id)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["Summary"])
        writer.writerow(
            [
                "participantId",
                "settlementCurrency",
                "settlementBatchId",
                "participantAgreementId",
                "valueDate",
                "totalCount",
                "payments",
                "refunds",
                "cancels",
                "fees",
                "netSettlementAmount",
                "direction",
            ]
        )
        writer.writerow(
            [
                company,
                currency,
                batch_id,
                agreement_id(company, currency),
                position.value_date.isoformat(),
                position.items,
                position.payments,
                position.refunds,
                position.cancels,
                position.fees,
                position.net,
                position.direction,
            ]
        )
        writer.writerow(["Detail"])
        writer.writerow(
            ["memberId", "role", "totalCount", "payments", "refunds", "cancels", "fees", "net"]
        )
        for a in settlement.accounts:
            if (
                a.currency == currency
                and a.role is not Role.HUB
                and company_of(a.participant) == company
            ):
                writer.writerow(
                    [
                        a.participant,
                        a.role.value,
                        a.items,
                        a.payments,
                        a.refunds,
                        a.cancels,
                        a.fees,
                        a.net,
                    ]
                )
        path.write_bytes(buffer.getvalue().encode())
        done(path)

    path = folder / f"summary_{batch_id}.json"
    path.write_text(
        json.dumps(summary(settlement), indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    done(path)
    return written


def summary(settlement: Settlement) -> dict[str, Any]:
    """The batch's settlement as plain data (what the JSON summary holds)."""
    batch = settlement.batch
    return {
        "clearingBatchId": batch.batch_id,
        "zone": batch.terms.zone,
        "window": [batch.starts_at.isoformat(), batch.ends_at.isoformat()],
        "closedAt": batch.closed_at.isoformat(),
        "terms": batch.terms.to_json(),
        "positions": [
            {
                "participantId": p.company,
                "members": list(p.members),
                "currency": p.currency,
                "valueDate": p.value_date.isoformat(),
                "totalCount": p.items,
                "payments": p.payments,
                "refunds": p.refunds,
                "cancels": p.cancels,
                "fees": p.fees,
                "net": p.net,
                "direction": p.direction,
            }
            for p in settlement.positions
        ],
        "hub": [{"currency": h.currency, "fx": h.fx, "fees": h.fees} for h in settlement.hub],
        "imbalance": settlement.imbalance(),
    }
