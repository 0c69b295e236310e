"""What instances of the gateway share besides the ledger: in-flight locks and a cache.

Production keeps both in Redis so that N gateway processes behave as one; the embedded
default keeps them in the process. The ledger, not these, is the source of truth: a lost
lock or cache entry costs a wait or a recomputation, never a double charge, because every
payment is also guarded by a unique key in the database.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from redis.asyncio import Redis

__all__ = ["Cache", "LocalCache", "LocalLocks", "LockBusy", "Locks", "RedisCache", "RedisLocks"]


class LockBusy(Exception):
    """Raised when a lock is still held by another request after the wait allowed."""


class Locks(Protocol):
    """Mutual exclusion by key, across every instance that shares the backend."""

    def hold(self, key: str, *, ttl: float, wait: float) -> AbstractAsyncContextManager[None]:
        """Hold ``key`` for at most ``ttl`` seconds, waiting up to ``wait`` seconds for it.

        Raises :class:`LockBusy` when the wait runs out.
        """
        ...


class Cache(Protocol):
    """A string cache with expiry."""

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, *, ttl: float) -> None: ...

    async def incr(self, key: str, *, ttl: float) -> int:
        """Add one to a counter that expires ``ttl`` seconds after it was first made."""
        ...


class LocalLocks:
    """In-process locks for the embedded default (one gateway process)."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiters: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, key: str, *, ttl: float, wait: float) -> AsyncIterator[None]:
        # ttl is moot in one process: a crashed holder takes its locks with it.
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiters[key] = self._waiters.get(key, 0) + 1
        try:
            if wait <= 0:
                # wait_for with no time left gives up before acquire() has even run.
                if lock.locked():
                    raise LockBusy(key)
                await lock.acquire()
            else:
                try:
                    await asyncio.wait_for(lock.acquire(), timeout=wait)
                except TimeoutError as exc:
                    raise LockBusy(key) from exc
            try:
                yield
            finally:
                lock.release()
        finally:
            self._waiters[key] -= 1
            if not self._waiters[key]:
                del self._waiters[key]
                del self._locks[key]


# Delete the key only if it still holds our token: a holder whose ttl ran out must not
# release the lock a later holder took.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class RedisLocks:
    """Locks in Redis (``SET key token NX PX ttl``), shared by every gateway instance."""

    _POLL_SECONDS = 0.01

    def __init__(self, redis: Redis, *, prefix: str = "causeway:lock:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._release = redis.register_script(_RELEASE)

    @asynccontextmanager
    async def hold(self, key: str, *, ttl: float, wait: float) -> AsyncIterator[None]:
        name = self._prefix + key
        token = secrets.token_hex(16)
        deadline = time.monotonic() + wait
        while not await self._redis.set(name, token, nx=True, px=int(ttl * 1000)):
            if time.monotonic() >= deadline:
                raise LockBusy(key)
            await asyncio.sleep(self._POLL_SECONDS)
        try:
            yield
        finally:
            await self._release(keys=[name], args=[token])


class LocalCache:
    """An in-process cache with expiry, for the embedded default."""

    #: Expired entries are dropped when a new key would take the cache past this size
    #: (keys such as a breaker's per-window counters are never read again once expired).
    PURGE_AT = 1024

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, str]] = {}

    def _purge(self) -> None:
        if len(self._entries) < self.PURGE_AT:
            return
        now = time.monotonic()
        self._entries = {k: e for k, e in self._entries.items() if e[0] > now}

    async def get(self, key: str) -> str | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if time.monotonic() >= expires:
            del self._entries[key]
            return None
        return value

    async def set(self, key: str, value: str, *, ttl: float) -> None:
        self._purge()
        self._entries[key] = (time.monotonic() + ttl, value)

    async def incr(self, key: str, *, ttl: float) -> int:
        current = await self.get(key)
        if current is None:
            self._purge()
            self._entries[key] = (time.monotonic() + ttl, "1")
            return 1
        expires, _ = self._entries[key]
        self._entries[key] = (expires, str(int(current) + 1))
        return int(current) + 1


class RedisCache:
    """A cache in Redis, shared by every gateway instance."""

    def __init__(self, redis: Redis, *, prefix: str = "causeway:cache:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def get(self, key: str) -> str | None:
        value = await self._redis.get(self._prefix + key)
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    async def set(self, key: str, value: str, *, ttl: float) -> None:
        await self._redis.set(self._prefix + key, value, px=max(1, int(ttl * 1000)))

    async def incr(self, key: str, *, ttl: float) -> int:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            # NX: the expiry is set once, when the counter is made (a fixed window).
            pipe.incr(name)
            pipe.pexpire(name, max(1, int(ttl * 1000)), nx=True)
            count, _ = await pipe.execute()
        return int(count)
