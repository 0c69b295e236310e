"""Locks and cache, in-process and in Redis: the same behaviour from both."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis

from gateway.coordination import (
    Cache,
    LocalCache,
    LocalLocks,
    LockBusy,
    Locks,
    RedisCache,
    RedisHealth,
    RedisLocks,
)
from gateway.errors import CoordinationUnavailable
from tests.conftest import Backend

pytestmark = pytest.mark.anyio


@dataclass
class Shared:
    locks: Locks
    cache: Cache


@pytest.fixture
async def shared(backend: Backend) -> AsyncIterator[Shared]:
    if backend.redis_url is None:
        yield Shared(LocalLocks(), LocalCache())
        return
    redis = Redis.from_url(backend.redis_url)
    try:
        yield Shared(
            RedisLocks(redis, prefix=backend.redis_prefix + "lock:"),
            RedisCache(redis, prefix=backend.redis_prefix + "cache:"),
        )
    finally:
        await redis.aclose()


async def test_a_lock_excludes_and_a_waiter_gets_it_after_release(shared: Shared) -> None:
    inside: list[int] = []
    overlap = False

    async def worker(n: int) -> None:
        nonlocal overlap
        async with shared.locks.hold("k", ttl=5, wait=5):
            overlap = overlap or bool(inside)
            inside.append(n)
            await asyncio.sleep(0.02)
            inside.remove(n)

    await asyncio.gather(*(worker(n) for n in range(5)))
    assert not overlap


async def test_a_lock_still_held_after_the_wait_raises(shared: Shared) -> None:
    async with shared.locks.hold("busy", ttl=5, wait=1):
        with pytest.raises(LockBusy):
            async with shared.locks.hold("busy", ttl=5, wait=0.05):
                pass
    async with shared.locks.hold("busy", ttl=5, wait=0.05):
        pass  # released: free again


async def test_a_free_lock_is_taken_without_waiting(shared: Shared) -> None:
    async with shared.locks.hold("free", ttl=5, wait=0):
        with pytest.raises(LockBusy):
            async with shared.locks.hold("free", ttl=5, wait=0):
                pass


async def test_the_cache_expires(shared: Shared) -> None:
    await shared.cache.set("q", "value", ttl=0.05)
    assert await shared.cache.get("q") == "value"
    await asyncio.sleep(0.1)
    assert await shared.cache.get("q") is None
    assert await shared.cache.get("never-set") is None


@pytest.fixture
async def dead_redis() -> AsyncIterator[Redis]:
    # Port 9 (discard) on loopback: nothing listens, so every connection is refused.
    redis = Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.5)
    try:
        yield redis
    finally:
        await redis.aclose()


async def test_locks_fail_closed_without_redis_and_fast_while_it_stays_down(
    dead_redis: Redis,
) -> None:
    locks = RedisLocks(dead_redis, health=RedisHealth(retry_seconds=60))

    with pytest.raises(CoordinationUnavailable):
        async with locks.hold("k", ttl=5, wait=1):
            pytest.fail("a lock was granted without Redis")
    started = time.monotonic()
    with pytest.raises(CoordinationUnavailable, match="no lock can be taken"):
        async with locks.hold("k", ttl=5, wait=1):
            pass
    assert time.monotonic() - started < 0.05  # Redis is not asked again for a while


async def test_the_cache_keeps_working_in_the_process_without_redis(dead_redis: Redis) -> None:
    cache = RedisCache(dead_redis)

    await cache.set("quote", "Q1", ttl=60)
    assert await cache.get("quote") == "Q1"
    assert [await cache.incr("failures", ttl=60) for _ in range(3)] == [1, 2, 3]
    assert await cache.get("absent") is None


@pytest.mark.services
async def test_redis_is_asked_again_after_the_pause(redis_url: str) -> None:
    health = RedisHealth(retry_seconds=0.05)
    redis = Redis.from_url(redis_url)
    try:
        health.failed(ConnectionError("refused"))
        locks = RedisLocks(redis, prefix="causeway-test:pause:", health=health)
        with pytest.raises(CoordinationUnavailable):
            async with locks.hold("k", ttl=5, wait=0):
                pass
        await asyncio.sleep(0.06)
        async with locks.hold("k", ttl=5, wait=0):
            assert not health.suspended
    finally:
        await redis.aclose()
