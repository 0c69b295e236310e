"""Pure arithmetic over measurements: percentiles, latency summaries and memory trends."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

__all__ = ["LatencySummary", "percentile", "rss_growth", "summarise"]


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) of ascending ``ordered``, by the nearest-rank method.

    Nearest rank never interpolates, so p99 of 100 samples is the 99th sample, a latency
    that was really observed.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.0
    """
    if not ordered:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0..100")
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """Latencies of successful payments, in milliseconds."""

    count: int
    p50: float
    p90: float
    p99: float
    max: float
    mean: float

    def to_json(self) -> dict[str, float]:
        return asdict(self)


def summarise(latencies_ms: Sequence[float]) -> LatencySummary:
    ordered = sorted(latencies_ms)
    if not ordered:
        return LatencySummary(0, math.nan, math.nan, math.nan, math.nan, math.nan)
    return LatencySummary(
        count=len(ordered),
        p50=percentile(ordered, 50),
        p90=percentile(ordered, 90),
        p99=percentile(ordered, 99),
        max=ordered[-1],
        mean=sum(ordered) / len(ordered),
    )


def rss_growth(samples: Sequence[tuple[float, float]], *, warm_up: float = 0.2) -> float:
    """How much memory grew after warm-up, as a fraction of its level then.

    ``samples`` are ``(seconds, rss)`` pairs in time order. The first ``warm_up`` part of
    the run is skipped (pools, caches and the allocator settle there); the answer compares
    the mean of the last tenth with the first sample after warm-up. 0.02 means 2 % growth.
    """
    if len(samples) < 3:
        return math.nan
    start, end = samples[0][0], samples[-1][0]
    settled = [rss for t, rss in samples if t >= start + warm_up * (end - start)]
    if len(settled) < 2 or settled[0] <= 0:
        return math.nan
    tail = settled[-max(1, len(settled) // 10) :]
    return (sum(tail) / len(tail)) / settled[0] - 1
