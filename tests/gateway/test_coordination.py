"""Locks and cache, in-process and in Redis: the same behaviour from both."""

from __future__ import annotations

import asyncio
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
    RedisLocks,
)
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
