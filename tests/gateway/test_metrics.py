"""``GET /metrics``: what the gateway answered, what its wallets did, what it refused, and
what the ledger still does not know, in Prometheus's text format."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.gateway.conftest import LocalHub, pay_body

pytestmark = pytest.mark.anyio

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(hub: LocalHub) -> Samples:
    response = await hub.http.get(f"{hub.url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return samples_in(response.text)


def samples_in(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_answers_and_wallet_calls_are_counted(hub: LocalHub) -> None:
    await hub.siam.call("pay", pay_body("m-paid"))
    await hub.siam.call("pay", pay_body("m-paid"))  # a replay: answered, not sent again
    await hub.siam.call("inquiryPayment", {"paymentRequestId": "m-none"})

    samples = await scrape(hub)

    pay = {"api": "pay", "status": "S", "code": "SUCCESS"}
    assert value(samples, "causeway_api_requests_total", **pay) == 2
    inquiry = {"api": "inquiryPayment", "status": "F", "code": "ORDER_NOT_EXIST"}
    assert value(samples, "causeway_api_requests_total", **inquiry) == 1
    assert value(samples, "causeway_api_request_seconds_count", api="pay") == 2
    call = {"route": "kakaopay-aps", "operation": "pay", "outcome": "answered"}
    assert value(samples, "causeway_wallet_calls_total", **call) == 1
    assert (
        value(samples, "causeway_wallet_call_seconds_count", route="kakaopay-aps", operation="pay")
        == 1
    )
    assert value(samples, "causeway_pays_in_flight") == 0
    assert value(samples, "causeway_unresolved", kind="payments") == 0
    assert ("causeway_unresolved", frozenset({("kind", "refunds")})) in samples


async def test_refusals_for_overload_are_counted_apart(hub: LocalHub) -> None:
    hub.app_hub.engine.payments_in_flight = 0

    for attempt in range(3):
        await hub.siam.call("pay", pay_body(f"m-shed-{attempt}"))

    samples = await scrape(hub)
    assert value(samples, "causeway_pays_refused_total") == 3
    assert value(samples, "causeway_api_request_seconds_count", api="pay") == 0
    assert await hub.stats("kakaopay-aps") == {"pay_requests": 0, "charges": 0}


async def test_a_wallet_timeout_shows_as_a_timeout_and_an_unresolved_payment(
    impatient_hub: LocalHub,
) -> None:
    hub = impatient_hub
    await hub.latency("kakaopay-aps", 1.0)  # the wallet books it, then answers too late

    answer = await hub.siam.call("pay", pay_body("m-slow"))
    samples = await scrape(hub)

    assert answer["result"]["resultStatus"] == "U"
    call = {"route": "kakaopay-aps", "operation": "pay", "outcome": "timeout"}
    assert value(samples, "causeway_wallet_calls_total", **call) >= 1
    pay = {"api": "pay", "status": "U", "code": "PAYMENT_IN_PROCESS"}
    assert value(samples, "causeway_api_requests_total", **pay) == 1
    assert value(samples, "causeway_unresolved", kind="payments") == 1


def test_workers_sharing_a_directory_are_counted_together(tmp_path: Path) -> None:
    """With ``PROMETHEUS_MULTIPROC_DIR``, a scrape of one worker adds up every worker's
    counts (each process here stands for a uvicorn worker)."""
    count = textwrap.dedent(
        """
        import sys
        from gateway.metrics import Metrics
        metrics = Metrics()
        for _ in range(int(sys.argv[1])):
            metrics.answered("pay", "S", "SUCCESS", 0.01)
        sys.stdout.buffer.write(metrics.render({"payments": 4, "refunds": 0}))
        """
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for calls in (2, 3):
        subprocess.run([sys.executable, "-c", count, str(calls)], env=env, check=True)  # noqa: S603
    scraped = subprocess.run(  # noqa: S603
        [sys.executable, "-c", count, "0"], env=env, check=True, capture_output=True
    ).stdout.decode()

    samples = samples_in(scraped)
    pay = {"api": "pay", "status": "S", "code": "SUCCESS"}
    assert value(samples, "causeway_api_requests_total", **pay) == 5
    assert value(samples, "causeway_unresolved", kind="payments") == 4
