"""Circuit breakers per route: shared state, opening, and payments going around them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
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


POLICY = BreakerPolicy(failure_ratio=0.5, minimum_calls=4, window_seconds=60, open_seconds=60)


def still(at: float = 1000.0) -> Callable[[], float]:
    """A clock that stays put (mid-window: nothing is carried over from the window before)."""
    return lambda: at


async def test_a_breaker_opens_at_the_failure_ratio_and_is_shared(cache: Cache) -> None:
    # two gateway instances
    one, other = Breakers(cache, POLICY, clock=still()), Breakers(cache, POLICY, clock=still())

    await one.failed("r1")
    await other.failed("r1")
    await other.failed("r1")
    assert not await one.is_open("r1")  # three calls: too few to judge
    await one.failed("r1")

    assert await other.is_open("r1")  # seen by the other instance too
    assert not await other.is_open("r2")


async def test_a_few_failures_among_many_calls_keep_it_closed(cache: Cache) -> None:
    breakers = Breakers(cache, POLICY, clock=still())

    for _ in range(6):
        await breakers.succeeded("r1")
    for _ in range(5):
        await breakers.failed("r1")  # shares the successes first
        assert not await breakers.is_open("r1")  # at most 5 of 11 calls: under half

    await breakers.failed("r1")  # 6 of 12
    assert await breakers.is_open("r1")


async def test_failures_across_a_window_boundary_are_judged_together(cache: Cache) -> None:
    clock = [1199.0]  # a second before the window [1200, 1260) begins
    breakers = Breakers(cache, POLICY, clock=lambda: clock[0])

    for _ in range(3):
        await breakers.failed("r1")
    clock[0] = 1201.0  # the three count 59/60 each now
    await breakers.failed("r1")
    assert not await breakers.is_open("r1")  # 3.95 calls: just under the minimum of 4
    await breakers.failed("r1")

    assert await breakers.is_open("r1")  # 4.95 calls, all failed


async def test_the_window_before_fades_as_the_current_one_fills(cache: Cache) -> None:
    clock = [1199.0]
    breakers = Breakers(cache, POLICY, clock=lambda: clock[0])

    for _ in range(3):
        await breakers.failed("r1")
    clock[0] = 1245.0  # three quarters into the next window: a quarter of those still count
    await breakers.failed("r1")

    assert not await breakers.is_open("r1")  # 1.75 calls judged, under the minimum of 4


async def test_calls_that_went_well_are_shared_about_once_a_second(cache: Cache) -> None:
    clock = [1000.0]
    quiet = Breakers(cache, POLICY, clock=lambda: clock[0])
    judge = Breakers(cache, POLICY, clock=lambda: clock[0])

    for _ in range(8):
        await quiet.succeeded("r1")
    clock[0] += 1.0
    await quiet.succeeded("r1")  # a second later: all nine are shared now
    for _ in range(4):
        await judge.failed("r1")

    assert not await judge.is_open("r1")  # 4 of 13, though 4 of 4 in the judge's own eyes


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
            for n in range(4)
        ]
        engine = hub.app_hub.engine
        assert engine.breakers is not None
        opened = await engine.breakers.is_open("gcash-aps")
        backup = await hub.stats("gcash-aps-backup")

    assert [a["result"]["resultCode"] for a in answers] == ["SUCCESS"] * 4
    # Three refused attempts a payment, all failures: open at the tenth call.
    assert opened
    assert backup == {"pay_requests": 4, "charges": 4}


async def test_another_instances_opening_is_seen_within_a_second(cache: Cache) -> None:
    clock = [1000.0]
    opener = Breakers(cache, POLICY, clock=lambda: clock[0])
    reader = Breakers(cache, POLICY, clock=lambda: clock[0])
    assert not await reader.is_open("r1")  # read from the cache, and kept for a second

    for _ in range(4):
        await opener.failed("r1")

    assert await opener.is_open("r1")  # at once where it was decided
    assert not await reader.is_open("r1")  # the reader's view is not a second old yet
    clock[0] += 1.0
    assert await reader.is_open("r1")


async def test_a_payment_is_recorded_on_the_route_it_goes_through_while_a_breaker_is_open(
    backend: Backend, state_dir: Path
) -> None:
    async with local_hub(backend, state_dir, backups=frozenset({"gcash-aps"})) as hub:
        engine = hub.app_hub.engine
        assert engine.breakers is not None
        for _ in range(10):  # the primary failed often enough; it answers again now
            await engine.breakers.failed("gcash-aps")
        answer = await hub.tokyo.call(
            "pay", pay_body("brk-open", code=MARIA, currency="JPY", value="100")
        )
        payment = await hub.app_hub.store.find_payment("TOKYO_ACQ", "brk-open")
        assert payment is not None
        events = await hub.app_hub.store.events(payment.payment_id)
        primary = await hub.stats("gcash-aps")
        backup = await hub.stats("gcash-aps-backup")

    assert answer["result"]["resultCode"] == "SUCCESS"
    assert primary == {"pay_requests": 0, "charges": 0}  # nothing sent past its breaker
    assert backup == {"pay_requests": 1, "charges": 1}
    assert payment.route == "gcash-aps-backup"  # chosen before it was recorded
    assert events == [(None, "PENDING", None), ("PENDING", "SUCCEEDED", None)]
