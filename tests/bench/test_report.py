"""The benchmark's report: the table, the floor ratio, the targets and the README section."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from bench.report import (
    BEGIN,
    END,
    checks,
    floor_ratio,
    markdown,
    replace_section,
    table,
    to_json,
)


def _phase(target: str, mode: str, rate: float, pps: float, **extra: Any) -> dict[str, Any]:
    phase: dict[str, Any] = {
        "target": target,
        "mode": mode,
        "rate": rate,
        "concurrency": 64,
        "duration": 60.0,
        "payments_per_second": pps,
        "errors": 0,
        "latency_ms": {"p50": 5.0, "p90": 9.0, "p99": 20.0, "max": 40.0},
        "usage": {"gateway": {"cpu_percent": 150.0, "rss_mb": 120.0}},
        "rss_growth": {"gateway": 0.01},
    }
    phase.update(extra)
    return phase


def _report(*phases: dict[str, Any]) -> dict[str, Any]:
    return {
        "started_at": "2026-11-21T00:00:00+00:00",
        "command": "python -m bench.run",
        "machine": {
            "cpu": "AMD EPYC",
            "cores": 2,
            "memory_gb": 24.0,
            "os": "Linux",
            "python": "3.11.7",
            "postgres": "15",
            "redis": "7",
        },
        "config": {"workers": 2},
        "phases": list(phases),
    }


def test_floor_ratio_compares_the_closed_loops() -> None:
    report = _report(_phase("floor", "closed", 0, 1000.0), _phase("gateway", "closed", 0, 750.0))
    assert floor_ratio(report) == 0.75


def test_the_guarded_floor_is_reported_beside_the_gateway_ratio() -> None:
    report = _report(
        _phase("floor", "closed", 0, 1000.0),
        _phase("guarded", "closed", 0, 640.0),
        _phase("gateway", "closed", 0, 450.0),
    )
    assert floor_ratio(report, "guarded") == 0.64
    measured = {name: text for name, text, _ in checks(report)}["≥ 70% of the floor"]
    assert measured == "45% (the guarded floor: 64%)"


def test_floor_ratio_without_a_floor_is_none() -> None:
    assert floor_ratio(_report(_phase("gateway", "closed", 0, 750.0))) is None


def test_table_has_a_row_per_phase_and_dashes_for_missing_groups() -> None:
    rows = table(_report(_phase("gateway", "open", 700, 699.0))).splitlines()
    assert len(rows) == 3
    assert rows[2].startswith(
        "| gateway | open | 700 | 699 | 5.0 | 9.0 | 20.0 | 40.0 | 0 | 0 | 2.1 |"
    )
    assert "150 / — / —" in rows[2]


def test_checks_say_which_targets_were_met() -> None:
    report = _report(
        _phase("floor", "closed", 0, 1000.0),
        _phase("gateway", "closed", 0, 600.0),
        _phase("gateway", "open", 700, 700.0),
        _phase("gateway", "open", 1000, 640.0),
    )
    verdicts = {name: met for name, _, met in checks(report)}
    assert verdicts == {
        "≥ 1000 payments/s sustained": False,
        "p99 ≤ 50 ms at 700/s": True,
        "≥ 70% of the floor": False,
        "gateway memory flat over 10 min": None,
    }


def test_errors_fail_the_latency_target() -> None:
    report = _report(_phase("gateway", "open", 700, 700.0, errors=3))
    assert dict((name, met) for name, _, met in checks(report))["p99 ≤ 50 ms at 700/s"] is False


def test_refusals_are_shown_with_their_latency_and_fail_the_latency_target() -> None:
    phase = _phase(
        "gateway",
        "open",
        700,
        300.0,
        refused=400,
        refused_latency_ms={"p50": 1.0, "p90": 2.0, "p99": 3.5, "max": 9.0},
    )
    report = _report(phase)

    row = table(report).splitlines()[2]

    assert "| 400 (3.5) | 0 | 5.0 |" in row  # 150 % of a core over 300 payments/s
    assert dict((name, met) for name, _, met in checks(report))["p99 ≤ 50 ms at 700/s"] is False


def test_markdown_describes_the_machine() -> None:
    text = markdown(_report(_phase("gateway", "open", 700, 700.0)))
    assert "AMD EPYC (2 cores)" in text
    assert "| target | measured | |" in text


def test_markdown_gives_the_load_average_when_the_run_recorded_it() -> None:
    report = _report(_phase("gateway", "open", 700, 700.0))
    assert "Load average" not in markdown(report)
    report["load_average"] = {"start": [3.9, 4.8, 4.6], "end": [7.07, 6.7, 5.6]}
    assert "3.9 / 4.8 / 4.6 at the start, 7.1 / 6.7 / 5.6 at the end." in markdown(report)


def test_replace_section_keeps_the_rest_of_the_document() -> None:
    document = f"# Title\n\n{BEGIN}\nold\n{END}\n\nAfter.\n"
    assert replace_section(document, "new") == f"# Title\n\n{BEGIN}\nnew\n{END}\n\nAfter.\n"


def test_replace_section_needs_the_markers() -> None:
    with pytest.raises(ValueError, match="bench:begin"):
        replace_section("# No section here\n", "new")


def test_a_saved_run_is_strict_json_and_reads_back() -> None:
    """What a run did not measure is NaN in memory, null on disk, and "—" in the table."""
    report = _report(_phase("gateway", "closed", 0, 750.0), _phase("gateway", "open", 700, 0.0))
    report["phases"][1]["latency_ms"] = dict.fromkeys(("p50", "p90", "p99", "max"), math.nan)
    saved = to_json(report)

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    loaded = json.loads(saved, parse_constant=refuse)
    assert loaded["phases"][1]["latency_ms"]["p99"] is None
    assert markdown(loaded) == markdown(report)
