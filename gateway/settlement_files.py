"""Settlement files in the Alipay+ naming, and the JSON summary beside them.

Under the output folder, for batch ``B`` (the batch's day stands for Alipay+'s generation
date, so a re-run writes the same paths)::

    clearing/<participantId>/<B>/transactionItems_<participantId>_<ccy>_<B>_<agreementId>_000.csv
    clearing/<participantId>/<B>/feeItems_<participantId>_<ccy>_<B>_<agreementId>_000.csv
    settlement/<companyId>/<B>/settlement_<companyId>_<ccy>_<B>_<agreementId>_000.csv
    summary_<B>.json

Each CSV is UTF-8 with a ``Summary`` section and a ``Detail`` section, and is written even
when it has no detail rows. Amounts are integer minor units, signed from the participant's
side (+: the hub pays it). The detail rows of the clearing files come from
:mod:`gateway._clearing_items`, in an order fixed by the books, so a closed batch always
gives the same bytes.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway._clearing_items import Group, write_items
from gateway.netting import AccountTotals, Settlement
from gateway.postings import Account, Role

__all__ = ["agreement_id", "summary", "write_files"]

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


def _participants(settlement: Settlement, expected: Iterable[Group]) -> list[Group]:
    seen = {
        (a.role, a.participant, a.currency) for a in settlement.accounts if a.role is not Role.HUB
    }
    return sorted(seen | set(expected))


@dataclass(frozen=True, slots=True)
class _File:
    path: Path
    out: io.BufferedWriter


def _open(stack: contextlib.ExitStack, path: Path, head: bytes) -> _File:
    out = stack.enter_context(path.open("wb"))
    out.write(head)
    return _File(path, out)


def _open_clearing_files(
    stack: contextlib.ExitStack,
    folder: Path,
    batch_id: str,
    account: AccountTotals | None,
    group: Group,
) -> tuple[_File, _File]:
    """Open a participant's transactionItems and feeItems files, Summary written."""
    _, participant, currency = group
    where = folder / "clearing" / participant / batch_id
    where.mkdir(parents=True, exist_ok=True)
    count, amount, fees = (
        (account.items, account.net - account.fees, account.fees) if account else (0, 0, 0)
    )
    key = [participant, currency, batch_id, agreement_id(participant, currency)]
    transactions = _head(
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
    fee_items = _head(
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
    return (
        _open(
            stack, where / _name("transactionItems", participant, currency, batch_id), transactions
        ),
        _open(stack, where / _name("feeItems", participant, currency, batch_id), fee_items),
    )


async def write_files(
    engine: AsyncEngine,
    settlement: Settlement,
    folder: Path,
    *,
    expected: Iterable[Group] = (),
    company_of: Callable[[str], str] = str,
    on_file: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Write every file of ``settlement`` under ``folder``; return their paths.

    ``expected`` names the ``(role, participant, currency)`` that get files even without
    a transaction in the batch. ``on_file`` hears each file as soon as it is complete.
    """
    batch_id = settlement.batch.batch_id
    totals = {
        (a.role, a.participant, a.currency): a
        for a in settlement.accounts
        if a.account is Account.SETTLEMENT
    }
    report = on_file or (lambda _: None)

    def complete(file: _File) -> None:
        file.out.close()
        report(file.path)

    groups = _participants(settlement, expected)
    with contextlib.ExitStack() as stack:
        files = [
            _open_clearing_files(stack, folder, batch_id, totals.get(group), group)
            for group in groups
        ]
        await write_items(
            engine,
            settlement.batch,
            groups,
            [transactions.out for transactions, _ in files],
            [fees.out for _, fees in files],
            sizes=[totals[group].items if group in totals else 0 for group in groups],
            on_transactions=lambda index: complete(files[index][0]),
            on_fees=lambda index: complete(files[index][1]),
        )
    written = [file.path for pair in files for file in pair]

    def done(path: Path) -> None:
        written.append(path)
        report(path)

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
