"""The benchmark's arithmetic: percentiles, summaries and memory growth."""

from __future__ import annotations

import math

import pytest

from bench.stats import percentile, rss_growth, summarise


def test_percentile_is_nearest_rank() -> None:
    ordered = [float(i) for i in range(1, 101)]
    assert percentile(ordered, 50) == 50.0
    assert percentile(ordered, 99) == 99.0
    assert percentile(ordered, 100) == 100.0
    assert percentile(ordered, 0) == 1.0


def test_percentile_of_one_sample_is_that_sample() -> None:
    assert percentile([7.0], 99) == 7.0


def test_percentile_of_nothing_is_nan() -> None:
    assert math.isnan(percentile([], 50))


def test_percentile_outside_range_is_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        percentile([1.0], 101)


def test_summarise_sorts_and_reports_the_tail() -> None:
    summary = summarise([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (summary.count, summary.p50, summary.max, summary.mean) == (5, 3.0, 5.0, 3.0)


def test_summarise_of_nothing_has_zero_count() -> None:
    summary = summarise([])
    assert summary.count == 0
    assert math.isnan(summary.p99)


def test_flat_memory_has_no_growth() -> None:
    samples = [(float(t), 100.0) for t in range(60)]
    assert rss_growth(samples) == 0.0


def test_warm_up_is_not_counted_as_growth() -> None:
    # Pools fill in the first seconds; after that the level is flat.
    samples = [(float(t), 50.0 + t if t < 10 else 100.0) for t in range(100)]
    assert rss_growth(samples) == 0.0


def test_a_leak_shows_as_growth() -> None:
    samples = [(float(t), 100.0 + t) for t in range(101)]
    assert rss_growth(samples) > 0.5


def test_too_few_samples_is_nan() -> None:
    assert math.isnan(rss_growth([(0.0, 1.0), (1.0, 1.0)]))
