"""What an operator must look at: payments, refunds and cancels whose outcome the wallet
has not told, past a given age.

Recovery keeps asking the wallet about every one of them; most resolve within a minute.
What is still here after the recovery deadline is a wallet that cannot cancel (the
payment stays UNKNOWN: only the wallet knows whether it charged), a wallet that is not
answering at all, or a refund to a wallet that would pay it twice if sent again and whose
records cannot settle it (none can be asked, or its record of the refund disagrees with
ours) — for an operator to settle with the wallet, by its own report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.table import Table

from gateway.models import Payment, Refund

__all__ = ["Unresolved", "unresolved_table"]


@dataclass(frozen=True, slots=True)
class Unresolved:
    payments: list[Payment]
    refunds: list[Refund]
    cancels: list[Payment]  # succeeded payments whose cancel is still unanswered

    def __bool__(self) -> bool:
        return bool(self.payments or self.refunds or self.cancels)


def _age(now: datetime, then: datetime) -> str:
    seconds = int((now - then).total_seconds())
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def unresolved_table(found: Unresolved, now: datetime) -> Table:
    """One row per payment, refund or cancel still waiting for its wallet, oldest first."""
    table = Table(title="Waiting for the wallet")
    for name in ("what", "id", "acquirer", "request id", "wallet", "route", "status", "amount"):
        table.add_column(name)
    table.add_column("age", justify="right")
    rows: list[tuple[datetime, tuple[str, ...]]] = []
    for payment in found.payments:
        rows.append((payment.created_at, _payment_row("payment", payment)))
    for payment in found.cancels:
        rows.append((payment.updated_at, _payment_row("cancel", payment)))
    for refund in found.refunds:
        cells: tuple[str, ...] = (
            "refund",
            refund.refund_id,
            refund.acquirer_id,
            refund.refund_request_id,
            "",
            "",
            refund.status.value,
            str(refund.amount),
        )
        rows.append((refund.created_at, cells))
    for since, cells in sorted(rows, key=lambda row: row[0]):
        table.add_row(*cells, _age(now, since))
    return table


def _payment_row(what: str, payment: Payment) -> tuple[str, ...]:
    return (
        what,
        payment.payment_id,
        payment.acquirer_id,
        payment.payment_request_id,
        payment.wallet,
        payment.route,
        payment.status.value,
        str(payment.amount),
    )
