"""Circuit breakers per route: shared state, opening, and payments going around them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from gateway.breakers import Breakers
from gateway.coordination import Cache, LocalCache, RedisCache
from routing import BreakerPolicy
from tests.conftest import Backend
from tests.gateway.conftest import MARIA, local_hub, pay_body

pytestmark = pytest.mark.anyio


@pytest.fixture
async def cache(backend: Backend) -> AsyncIterator[Cache]:
    if backend.redis_url is None:
        yield LocalCache()
        return
    redis = Redis.from_url(backend.redis_url)
    try:
        yield RedisCache(redis, prefix=backend.redis_prefix)
    finally:
        await redis.aclose()


async def test_a_breaker_opens_after_enough_failures_and_is_shared(cache: Cache) -> None:
    policy = BreakerPolicy(failures=3, window_seconds=60, open_seconds=60)
    one, other = Breakers(cache, policy), Breakers(cache, policy)  # two gateway instances

    await one.failed("r1")
    await other.failed("r1")
    assert not await one.is_open("r1")
    await one.failed("r1")

    assert await other.is_open("r1")  # seen by the other instance too
    assert not await other.is_open("r2")


async def test_payments_go_around_an_open_breaker(backend: Backend, state_dir: Path) -> None:
    async with local_hub(
        backend,
        state_dir,
        unreachable=frozenset({"gcash-aps"}),
        backups=frozenset({"gcash-aps"}),
    ) as hub:
        answers = [
            await hub.tokyo.call(
                "pay", pay_body(f"brk-{n}", code=MARIA, currency="JPY", value="100")
            )
            for n in range(3)
        ]
        engine = hub.app_hub.engine
        assert engine.breakers is not None
        opened = await engine.breakers.is_open("gcash-aps")
        backup = await hub.stats("gcash-aps-backup")

    assert [a["result"]["resultCode"] for a in answers] == ["SUCCESS"] * 3
    assert opened  # three refused attempts a payment: open after the second payment
    assert backup == {"pay_requests": 3, "charges": 3}
