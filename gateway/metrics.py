"""What the gateway counts, for Prometheus to scrape at ``GET /metrics``.

- ``causeway_api_requests_total{api, status, code}``: every answer of the acquiring and
  wallet APIs, by its Alipay+ result (``S``/``F``/``U`` and the code), but for the pays
  refused for overload, counted apart below. A rise in ``U`` is the first sign of trouble
  behind the gateway.
- ``causeway_api_request_seconds{api}``: how long the gateway took to answer.
- ``causeway_pays_refused_total``: pays refused because the process had
  ``[hub] payments_in_flight`` pays already (answered ``U REQUEST_TRAFFIC_EXCEED_LIMIT``,
  nothing stored); ``causeway_pays_in_flight``: pays under way now.
- ``causeway_wallet_calls_total{route, operation, outcome}``: every call to a wallet, by
  what came of it: ``answered``, ``unreachable`` (it never left), ``timeout`` (no complete
  answer: the outcome is unknown) or ``bad_answer`` (one the connector could not read,
  a bad signature included). What the wallet said is in the API's results above. And
  ``causeway_wallet_call_seconds{route, operation}``, how long each took.
- ``causeway_unresolved{kind}``: payments and refunds whose outcome the gateway does not
  know yet, read from the ledger at each scrape. They should come and go; a number that
  only grows is a wallet that does not answer, or one ``causeway unresolved`` lists.

Labels hold route names, API names and result codes only: never an id, an amount or a
payment code.

Each process counts its own. With several workers (``uvicorn --workers N``), a scrape
reaches one of them; set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory the workers
share, before they start, and every scrape then adds up all of them
(``prometheus_client``'s multiprocess mode).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST

#: Seconds: a pay takes a few milliseconds of the gateway's own and a wallet's round trip;
#: the top buckets catch timeouts (the wallet deadline is 10 s by default).
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The gateway's counters, in a registry of their own (so that several hubs in one
    process, as in the tests, do not count into each other)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "causeway_api_requests",
            "Answers of the gateway's APIs, by Alipay+ result status and code.",
            ["api", "status", "code"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "causeway_api_request_seconds",
            "Time to answer a call of the gateway's APIs.",
            ["api"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.pays_refused = Counter(
            "causeway_pays_refused",
            "Pays refused because the process had as many in flight as it takes.",
            registry=r,
        )
        self.pays_in_flight = Gauge(
            "causeway_pays_in_flight",
            "Pays under way.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.wallet_calls = Counter(
            "causeway_wallet_calls",
            "Calls to wallets, by route, operation and what came of them.",
            ["route", "operation", "outcome"],
            registry=r,
        )
        self.wallet_seconds = Histogram(
            "causeway_wallet_call_seconds",
            "Time a wallet call took, answer read.",
            ["route", "operation"],
            buckets=_BUCKETS,
            registry=r,
        )

    def answered(self, api: str, status: str, code: str, seconds: float) -> None:
        self.requests.labels(api, status, code).inc()
        self.request_seconds.labels(api).observe(seconds)

    def wallet_call(self, route: str, operation: str, outcome: str, seconds: float) -> None:
        self.wallet_calls.labels(route, operation, outcome).inc()
        self.wallet_seconds.labels(route, operation).observe(seconds)

    def render(self, unresolved: Mapping[str, int]) -> bytes:
        """The text exposition of every counter (every process's, in multiprocess mode)
        and of ``unresolved``, the ledger's counts read for this scrape."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped upstream
        else:
            registry = self.registry
        backlog = _Backlog(unresolved)
        registry.register(backlog)
        try:
            return generate_latest(registry)
        finally:
            registry.unregister(backlog)


class _Backlog(Collector):
    """The unresolved counts, as one scrape read them from the ledger."""

    def __init__(self, unresolved: Mapping[str, int]) -> None:
        self._unresolved = unresolved

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "causeway_unresolved",
            "Payments and refunds whose outcome is not known yet, in the ledger.",
            labels=["kind"],
        )
        for kind, count in sorted(self._unresolved.items()):
            family.add_metric([kind], count)
        yield family
