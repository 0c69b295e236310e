"""The run's report: the table printed and written to Markdown, and the issue's targets.

Pure functions over the report's JSON, so the table can be regenerated from a saved run
(``python -m bench.report out.json``) and tested without running anything.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "BEGIN",
    "END",
    "checks",
    "floor_ratio",
    "markdown",
    "replace_section",
    "table",
]

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"

#: The targets of the throughput issue on a 2-core machine.
TARGET_RATE = 1000.0
TARGET_P99_RATE = 700.0
TARGET_P99_MS = 50.0
TARGET_FLOOR_RATIO = 0.70
TARGET_RSS_GROWTH = 0.05  # "memory flat": under 5 % growth after warm-up

_GROUPS = ("gateway", "floor", "guarded", "wallet", "postgres", "redis", "load")


def _missing(value: float | None) -> bool:
    """A figure that was not measured: NaN in a run, null once saved as JSON."""
    return value is None or math.isnan(value)


def to_json(report: dict[str, Any]) -> str:
    """The run as strict JSON: what was not measured (NaN) is null."""

    def strict(value: Any) -> Any:
        if isinstance(value, float) and math.isnan(value):
            return None
        if isinstance(value, dict):
            return {key: strict(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [strict(item) for item in value]
        return value

    return json.dumps(strict(report), indent=2, allow_nan=False)


def _ms(value: float | None) -> str:
    return "—" if _missing(value) else f"{value:.1f}"


def _closed(report: dict[str, Any], target: str) -> dict[str, Any] | None:
    return next(
        (p for p in report["phases"] if p["target"] == target and p["mode"] == "closed"), None
    )


def floor_ratio(report: dict[str, Any], target: str = "gateway") -> float | None:
    """``target``'s saturation throughput as a fraction of the floor's, in this run (None
    unless both closed loops ran: JSON has no NaN)."""
    measured, floor = _closed(report, target), _closed(report, "floor")
    if measured is None or floor is None or not floor["payments_per_second"]:
        return None
    return float(measured["payments_per_second"]) / float(floor["payments_per_second"])


def _cpu_ms(phase: dict[str, Any]) -> str:
    """CPU of the target's own processes per successful payment, in milliseconds."""
    usage = phase["usage"].get(phase["target"])
    if usage is None or not phase["payments_per_second"]:
        return "—"
    return f"{usage['cpu_percent'] * 10 / phase['payments_per_second']:.1f}"


def _refused(phase: dict[str, Any]) -> str:
    """Pays answered ``REQUEST_TRAFFIC_EXCEED_LIMIT``, and how fast (p99)."""
    refused = phase.get("refused", 0)
    if not refused:
        return "0"
    return f"{refused} ({_ms(phase['refused_latency_ms']['p99'])})"


def table(report: dict[str, Any]) -> str:
    """One Markdown row per phase: throughput, latency, refusals, errors, CPU per payment,
    CPU % and RSS per process."""
    head = (
        "| target | mode | offered/s | payments/s | p50 ms | p90 ms | p99 ms | max ms "
        "| refused (p99 ms) | errors | CPU ms / payment | CPU % "
        + " / ".join(_GROUPS)
        + " | RSS MB gateway / floor |"
    )
    rows = [head, "|" + "---|" * 13]
    for phase in report["phases"]:
        latency = phase["latency_ms"]
        usage = phase["usage"]
        cpu = " / ".join(f"{usage[g]['cpu_percent']:.0f}" if g in usage else "—" for g in _GROUPS)
        rss = " / ".join(f"{usage[g]['rss_mb']:.0f}" if g in usage else "—" for g in _GROUPS[:2])
        offered = "max" if phase["mode"] == "closed" else f"{phase['rate']:.0f}"
        mode = f"closed ×{phase['concurrency']}" if phase["mode"] == "closed" else "open"
        rows.append(
            f"| {phase['target']} | {mode} | {offered} | {phase['payments_per_second']:.0f} "
            f"| {_ms(latency['p50'])} | {_ms(latency['p90'])} | {_ms(latency['p99'])} "
            f"| {_ms(latency['max'])} | {_refused(phase)} | {phase['errors']} "
            f"| {_cpu_ms(phase)} | {cpu} | {rss} |"
        )
    return "\n".join(rows)


def _failed(phase: dict[str, Any]) -> int:
    """Payments of the phase that did not succeed: refused or failed."""
    return int(phase.get("refused", 0)) + int(phase["errors"])


def checks(report: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """(target, what was measured, met?) for each of the issue's targets; ``None`` when
    this run did not measure it."""
    gateway_open = [p for p in report["phases"] if p["target"] == "gateway" and p["mode"] == "open"]
    found: list[tuple[str, str, bool | None]] = []

    at_rate = [p for p in gateway_open if p["rate"] >= TARGET_RATE]
    if at_rate:
        best = max(at_rate, key=lambda p: p["payments_per_second"])
        sustained = best["payments_per_second"] >= 0.99 * TARGET_RATE and not _failed(best)
        found.append(
            (
                f"≥ {TARGET_RATE:.0f} payments/s sustained",
                f"{best['payments_per_second']:.0f}/s over {best['duration']:.0f} s offered "
                f"{best['rate']:.0f}/s, {best.get('refused', 0)} refused, "
                f"{best['errors']} errors",
                sustained,
            )
        )
    else:
        found.append((f"≥ {TARGET_RATE:.0f} payments/s sustained", "not measured", None))

    at_p99 = [p for p in gateway_open if p["rate"] == TARGET_P99_RATE]
    if at_p99:
        p99 = at_p99[0]["latency_ms"]["p99"]
        met = not _missing(p99) and p99 <= TARGET_P99_MS and not _failed(at_p99[0])
        found.append(
            (f"p99 ≤ {TARGET_P99_MS:.0f} ms at {TARGET_P99_RATE:.0f}/s", f"{_ms(p99)} ms", met)
        )
    else:
        found.append(
            (f"p99 ≤ {TARGET_P99_MS:.0f} ms at {TARGET_P99_RATE:.0f}/s", "not measured", None)
        )

    ratio, ceiling = floor_ratio(report), floor_ratio(report, "guarded")
    measured = "not measured" if ratio is None else f"{ratio:.0%}"
    if ratio is not None and ceiling is not None:
        measured += f" (the guarded floor: {ceiling:.0%})"
    found.append(
        (
            f"≥ {TARGET_FLOOR_RATIO:.0%} of the floor",
            measured,
            None if ratio is None else ratio >= TARGET_FLOOR_RATIO,
        )
    )

    long_runs = [p for p in gateway_open if p["duration"] >= 600]
    if long_runs:
        growth = long_runs[0]["rss_growth"].get("gateway")
        found.append(
            (
                "gateway memory flat over 10 min",
                "not measured" if _missing(growth) else f"{growth:+.1%} RSS after warm-up",
                None if _missing(growth) else growth < TARGET_RSS_GROWTH,
            )
        )
    else:
        found.append(("gateway memory flat over 10 min", "not measured (needs 600 s)", None))
    return found


def _load(report: dict[str, Any]) -> str:
    """The machine's load average (1, 5, 15 min) when the run started and ended."""
    load = report.get("load_average")
    if load is None:
        return ""
    start, end = (" / ".join(f"{x:.1f}" for x in load[k]) for k in ("start", "end"))
    return f" Load average (1 / 5 / 15 min): {start} at the start, {end} at the end."


def markdown(report: dict[str, Any]) -> str:
    """The machine, the table, the floor ratio and the targets, as Markdown."""
    machine = report["machine"]
    verdict = {True: "met", False: "**not met**", None: "—"}
    lines = [
        f"Measured {report['started_at']} with `{report['command']}` on {machine['cpu']} "
        f"({machine['cores']} cores), {machine['memory_gb']:.0f} GB RAM, {machine['os']}, "
        f"Python {machine['python']}, PostgreSQL {machine['postgres']}, "
        f"Redis {machine['redis']}: everything on the one machine. Each target: "
        f"{report['config']['workers']} uvicorn workers.{_load(report)}",
        "",
        table(report),
        "",
        "| target | measured | |",
        "|---|---|---|",
        *(f"| {name} | {measured} | {verdict[met]} |" for name, measured, met in checks(report)),
    ]
    return "\n".join(lines)


def replace_section(document: str, section: str) -> str:
    """``document`` with the text between :data:`BEGIN` and :data:`END` replaced."""
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(document):
        raise ValueError(f"the document has no {BEGIN} … {END} section")
    return pattern.sub(lambda _: f"{BEGIN}\n{section}\n{END}", document, count=1)


def main(argv: list[str]) -> int:
    """``python -m bench.report RUN.json [FILE.md]``: print the Markdown, or write it into
    FILE.md's bench section."""
    report = json.loads(Path(argv[0]).read_text())
    text = markdown(report)
    if len(argv) > 1:
        path = Path(argv[1])
        path.write_text(replace_section(path.read_text(), text))
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
