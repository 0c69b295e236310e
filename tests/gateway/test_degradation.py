"""Redis or PostgreSQL down: fast, clear answers, nothing half-written, and recovery
without a restart.

The gateway reaches each service through a proxy the test cuts and restores (see
``tests/proxy.py``); the services themselves keep running for the rest of the suite.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import Backend
from tests.gateway.conftest import LocalHub, local_hub, pay_body
from tests.proxy import Proxy, proxy_to

pytestmark = [pytest.mark.anyio, pytest.mark.services]

#: An answer while a service is down must come at once, not after a wallet timeout.
FAST_SECONDS = 3.0


def _through(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 0


@dataclass
class Outages:
    hub: LocalHub
    postgres: Proxy
    redis: Proxy


@pytest.fixture
async def outages(services_backend: Backend, state_dir: Path) -> AsyncIterator[Outages]:
    database, redis_url = services_backend.database_url, services_backend.redis_url
    assert redis_url is not None
    async with proxy_to(*_address(database)) as postgres, proxy_to(*_address(redis_url)) as redis:
        backend = dataclasses.replace(
            services_backend,
            database_url=_through(database, postgres.port),
            redis_url=_through(redis_url, redis.port),
        )
        async with local_hub(backend, state_dir, wallet_timeout_seconds=2.0) as hub:
            yield Outages(hub, postgres, redis)


async def _timed_pay(hub: LocalHub, request_id: str) -> tuple[dict[str, object], float]:
    started = time.monotonic()
    answer = await hub.siam.call("pay", pay_body(request_id))
    return answer["result"], time.monotonic() - started


async def _health(hub: LocalHub) -> tuple[int, dict[str, str]]:
    response = await hub.http.get(hub.url + "/health")
    services: dict[str, str] = response.json()["services"]
    return response.status_code, services


async def test_redis_down_refuses_new_payments_at_once_and_recovers(outages: Outages) -> None:
    hub = outages.hub
    before = await hub.siam.call("pay", pay_body("deg-r-0"))
    assert before["result"]["resultCode"] == "SUCCESS"

    await outages.redis.cut()
    result, took = await _timed_pay(hub, "deg-r-1")

    assert result["resultStatus"] == "U"
    assert result["resultCode"] == "UNKNOWN_EXCEPTION"
    assert "lock service is unavailable" in str(result["resultMessage"])
    assert took < FAST_SECONDS
    assert (await hub.stats("kakaopay-aps"))["pay_requests"] == 1  # nothing sent
    # What the ledger already knows is still answered from it.
    replay = await hub.siam.call("pay", pay_body("deg-r-0"))
    assert replay["result"]["resultCode"] == "SUCCESS"
    inquiry = await hub.siam.call("inquiryPayment", {"paymentRequestId": "deg-r-1"})
    assert inquiry["result"]["resultCode"] == "ORDER_NOT_EXIST"  # nothing was recorded
    status, services = await _health(hub)
    assert (status, services) == (503, {"ledger": "ok", "redis": "unavailable"})

    await outages.redis.restore()
    await asyncio.sleep(1.1)  # the client leaves Redis alone for a second after a failure
    again = await hub.siam.call("pay", pay_body("deg-r-1"))

    assert again["result"]["resultCode"] == "SUCCESS"
    assert await hub.stats("kakaopay-aps") == {"pay_requests": 2, "charges": 2}
    assert await _health(hub) == (200, {"ledger": "ok", "redis": "ok"})


async def test_postgres_down_answers_at_once_and_nothing_reaches_the_wallet(
    outages: Outages,
) -> None:
    hub = outages.hub
    await outages.postgres.cut()

    result, took = await _timed_pay(hub, "deg-p-1")

    assert result["resultStatus"] == "U"
    assert "ledger is unavailable" in str(result["resultMessage"])
    assert took < FAST_SECONDS
    assert (await hub.stats("kakaopay-aps"))["pay_requests"] == 0
    status, services = await _health(hub)
    assert (status, services) == (503, {"ledger": "unavailable", "redis": "ok"})

    await outages.postgres.restore()
    again = await hub.siam.call("pay", pay_body("deg-p-1"))

    assert again["result"]["resultCode"] == "SUCCESS"
    assert await hub.stats("kakaopay-aps") == {"pay_requests": 1, "charges": 1}
    assert await _health(hub) == (200, {"ledger": "ok", "redis": "ok"})


async def test_postgres_lost_while_the_wallet_charges_the_charge_is_found_once(
    outages: Outages,
) -> None:
    hub = outages.hub
    await hub.latency("kakaopay-aps", 1)
    paying = asyncio.create_task(hub.siam.call("pay", pay_body("deg-p-2")))
    await asyncio.sleep(0.5)  # the payment is recorded PENDING and the wallet has it
    await outages.postgres.cut()

    answer = await paying

    # The wallet charged, but the ledger could not record it: unknown, not failed.
    assert answer["result"]["resultStatus"] == "U"
    await hub.latency("kakaopay-aps", 0)
    await outages.postgres.restore()
    inquiry = await hub.siam.call("inquiryPayment", {"paymentRequestId": "deg-p-2"})

    assert inquiry["paymentStatus"] == "SUCCEEDED"
    replay = await hub.siam.call("pay", pay_body("deg-p-2"))
    assert replay["result"]["resultCode"] == "SUCCESS"
    assert await hub.stats("kakaopay-aps") == {"pay_requests": 1, "charges": 1}
