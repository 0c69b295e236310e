"""The settlement as the operator reads it: a table of net positions and a bar chart."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from fx import Money
from gateway.netting import Settlement
from gateway.reconcile import DifferenceKind, Reconciliation

__all__ = ["positions_table", "reconciliation_table"]

_BAR = 24


def _major(currency: str, minor: int) -> str:
    return f"{Money(currency, minor).to_major():,}"


def _bar(value: int, scale: int) -> Text:
    # Receivers grow right in green, payers left in red, scaled per currency.
    width = 0 if scale == 0 else max(1, round(abs(value) * _BAR / scale)) if value else 0
    left = ("█" * width).rjust(_BAR) if value < 0 else " " * _BAR
    right = ("█" * width).ljust(_BAR) if value > 0 else " " * _BAR
    return Text.assemble((left, "red"), "│", (right, "green"))


def positions_table(settlement: Settlement) -> Group:
    """Net positions per company and currency, the hub's beside them, with bars."""
    batch = settlement.batch
    table = Table(title=f"Clearing batch {batch.batch_id} ({batch.terms.zone}) — net positions")
    for name in ("participant", "ccy", "items", "payments", "refunds", "cancels", "fees", "net"):
        table.add_column(name, justify="left" if name in ("participant", "ccy") else "right")
    table.add_column("value date")
    table.add_column("pays ◀ │ ▶ receives")
    scales: dict[str, int] = {}
    for p in settlement.positions:
        scales[p.currency] = max(scales.get(p.currency, 0), abs(p.net))
    for h in settlement.hub:
        scales[h.currency] = max(scales.get(h.currency, 0), abs(h.fx), abs(h.fees))
    for p in settlement.positions:
        ccy = p.currency
        who = p.company if p.members == (p.company,) else f"{p.company} ({', '.join(p.members)})"
        table.add_row(
            who,
            ccy,
            str(p.items),
            _major(ccy, p.payments),
            _major(ccy, p.refunds),
            _major(ccy, p.cancels),
            _major(ccy, p.fees),
            _major(ccy, p.net),
            p.value_date.isoformat(),
            _bar(p.net, scales[ccy]),
        )
    for h in settlement.hub:
        for label, value in (("HUB fx", h.fx), ("HUB fees", h.fees)):
            table.add_row(
                label,
                h.currency,
                "",
                "",
                "",
                "",
                "",
                _major(h.currency, value),
                "",
                _bar(value, scales[h.currency]),
            )
    balance = settlement.imbalance()
    footer = Text(
        "every currency sums to zero" if not balance else f"IMBALANCE: {balance}",
        style="green" if not balance else "bold red",
    )
    return Group(table, footer)


def reconciliation_table(result: Reconciliation, *, limit: int = 50) -> Group:
    counts = Table(title="Reconciliation")
    counts.add_column("kind")
    counts.add_column("count", justify="right")
    counts.add_row("matched", str(result.matched))
    for kind in DifferenceKind:
        counts.add_row(kind.value, str(result.count(kind)))
    detail = Table(title=f"Differences (first {limit})")
    for name in ("kind", "transaction", "type", "ours", "theirs"):
        detail.add_column(name)
    for d in result.differences[:limit]:
        detail.add_row(d.kind.value, d.transaction_id, d.transaction_type, d.ours, d.theirs)
    return Group(counts, detail) if result.differences else Group(counts)
