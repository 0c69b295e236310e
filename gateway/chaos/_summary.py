"""The chaos run's summary: what was done to the gateway, and what the audit found."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table

from gateway.audit import Audit, RouteCounts

__all__ = ["summary"]

#: Violations shown per check; the rest are counted.
SHOWN = 10


def summary(audit: Audit, stats: dict[str, Any]) -> Group:
    """The run's table (left out without ``stats``), the audit's, and every violation."""
    run = Table(title="Chaos run", show_header=False)
    run.add_column("what")
    run.add_column("how many")
    for name, value in (
        ("backend", stats.get("backend")),
        ("Redis", stats.get("redis")),
        ("seed", stats.get("seed")),
        ("payments started", stats.get("payments_started")),
        ("merchant calls (unreachable)", _pair(stats, "merchant_calls", "merchant_unreachable")),
        ("gateway SIGKILLs", stats.get("gateway_kills")),
        ("Redis restarts", stats.get("redis_restarts")),
        ("notifications received", stats.get("notifications_received")),
        ("load / settle seconds", _pair(stats, "load_seconds", "settle_seconds")),
        ("still open when settling ended", _settled(stats)),
    ):
        run.add_row(name, str(value))
    run.add_row("payments by state", _counts(audit.payments))
    run.add_row("refunds by state", _counts(audit.refunds))
    run.add_row("scripts", ", ".join(f"{k} {v}" for k, v in (stats.get("scripts") or {}).items()))
    run.add_row("answers", ", ".join(f"{k} {v}" for k, v in (stats.get("answers") or {}).items()))

    wallets = _wallets(audit, stats)

    checks = Table(title="Audit")
    checks.add_column("check")
    checks.add_column("checked", justify="right")
    checks.add_column("violations", justify="right")
    for check in audit.checks:
        style = "red" if check.violations else "green"
        checks.add_row(check.name, str(check.checked), f"[{style}]{len(check.violations)}[/]")
    lines: list[str] = []
    for check in audit.checks:
        lines += [f"[red]✗ {check.name}:[/] {v}" for v in check.violations[:SHOWN]]
        if len(check.violations) > SHOWN:
            lines.append(f"[red]✗ {check.name}:[/] … and {len(check.violations) - SHOWN} more")
    lines += [f"[yellow]note:[/] {note}" for note in audit.notes]
    verdict = (
        "[green]PASS: no violations[/]"
        if audit.ok
        else (f"[red]FAIL: {len(audit.violations)} violations[/]")
    )
    return Group(*([run] if stats else []), wallets, checks, *lines, verdict)


def _wallets(audit: Audit, stats: dict[str, Any]) -> Table:
    """One row per route: its protocol, the payments started on it, where its payments
    and refunds ended, what its wallet's own ledger moved, and the faults that struck."""
    staged: dict[str, Any] = stats.get("wallets") or {}
    struck: dict[str, Any] = stats.get("faults_struck") or {}
    table = Table(title="Wallets", show_header=False)
    table.add_column("route")
    table.add_column("what")
    for route in sorted(set(staged) | set(audit.routes)):
        counts = audit.routes.get(route, RouteCounts())
        lines = [
            f"payments: {_counts(counts.payments)}",
            f"refunds: {_counts(counts.refunds)}",
            f"wallet ledger: {_counts(counts.movements)}",
        ]
        wallet = staged.get(route)
        if wallet is not None:  # None when audited again from saved evidence
            faults = _counts(struck[wallet["wallet"]]) if wallet["random faults"] else "none"
            lines.insert(
                0,
                f"{wallet['protocol']} in {wallet['currency']}: {wallet['started']} started"
                + ("" if wallet["order codes"] else " (no order codes)"),
            )
            lines.append(f"faults struck: {faults}")
        table.add_row(route, "\n".join(lines))
    return table


def _settled(stats: dict[str, Any]) -> str:
    """What was still open when settling ended, and why it ended."""
    why = {
        "final": "all final",
        "still": "the rest stood still",
        "timeout": "timed out",
    }.get(stats.get("settled", ""), "")
    return f"{stats.get('unsettled')} ({why})" if why else str(stats.get("unsettled"))


def _pair(stats: dict[str, Any], first: str, second: str) -> str:
    return f"{stats.get(first)} ({stats.get(second)})"


def _counts(counts: Any) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
