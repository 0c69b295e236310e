"""What instances of the gateway share besides the ledger: in-flight locks and a cache.

Production keeps both in Redis so that N gateway processes behave as one; the embedded
default keeps them in the process. The ledger, not these, is the source of truth: a lost
lock or cache entry costs a wait or a recomputation, never a double charge, because every
payment is also guarded by a unique key in the database.

When Redis cannot be reached the two degrade differently, on purpose:

- **locks fail closed**: :class:`RedisLocks` raises :class:`CoordinationUnavailable`
  before anything is written or sent, and the API answers ``U UNKNOWN_EXCEPTION`` ("call
  again"). Taking a payment without its lock would let a cancel or a duplicate race it.
- **the cache degrades to the process**: :class:`RedisCache` serves from a
  :class:`LocalCache` until Redis answers again, so quotes are locked per process (each
  payment stores its own) and breakers count per process.

Both notice Redis is back on their own: after a failure Redis is left alone for
:data:`REDIS_RETRY_SECONDS` (so an outage answers at once instead of waiting on a timeout
per request), then tried again.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Protocol, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.errors import CoordinationUnavailable

__all__ = [
    "REDIS_RETRY_SECONDS",
    "Cache",
    "LocalCache",
    "LocalLocks",
    "LockBusy",
    "Locks",
    "RedisCache",
    "RedisHealth",
    "RedisLocks",
]

log = logging.getLogger("causeway.coordination")

Value = TypeVar("Value")

#: How long Redis is left alone after a failed command before it is tried again.
REDIS_RETRY_SECONDS = 1.0


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

    async def incr(self, key: str, *, ttl: float, by: int = 1) -> int:
        """Add ``by`` to a counter that expires ``ttl`` seconds after it was first made;
        return its new value."""
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


class RedisHealth:
    """Whether Redis is worth asking, shared by the locks and the cache of one process.

    A failed command marks Redis down for ``retry_seconds``; the first command after that
    tries it again, and its success marks it up.
    """

    def __init__(self, *, retry_seconds: float = REDIS_RETRY_SECONDS) -> None:
        self._retry_seconds = retry_seconds
        self._down_until: float | None = None

    @property
    def suspended(self) -> bool:
        """True while Redis is being left alone after a failure."""
        return self._down_until is not None and time.monotonic() < self._down_until

    def failed(self, exc: Exception) -> None:
        if self._down_until is None:
            log.warning("Redis unavailable (%s): locks refused, cache kept in process", exc)
        self._down_until = time.monotonic() + self._retry_seconds

    def answered(self) -> None:
        if self._down_until is not None:
            log.warning("Redis answers again: shared locks and cache restored")
            self._down_until = None


class RedisLocks:
    """Locks in Redis (``SET key token NX PX ttl``), shared by every gateway instance.

    Raises :class:`CoordinationUnavailable` when Redis cannot be reached: no lock, no work.
    """

    _POLL_SECONDS = 0.01

    def __init__(
        self, redis: Redis, *, prefix: str = "causeway:lock:", health: RedisHealth | None = None
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._release = redis.register_script(_RELEASE)
        self._health = health or RedisHealth()

    @asynccontextmanager
    async def hold(self, key: str, *, ttl: float, wait: float) -> AsyncIterator[None]:
        name = self._prefix + key
        token = secrets.token_hex(16)
        deadline = time.monotonic() + wait
        while not await self._take(name, token, ttl):
            if time.monotonic() >= deadline:
                raise LockBusy(key)
            await asyncio.sleep(self._POLL_SECONDS)
        try:
            yield
        finally:
            try:
                await self._release(keys=[name], args=[token])
            except (RedisError, OSError) as exc:
                # The work is done and recorded; the lock lapses at its ttl.
                self._health.failed(exc)
                log.warning("lock %s not released (%s); it lapses in %ss", key, exc, ttl)

    async def _take(self, name: str, token: str, ttl: float) -> bool:
        if self._health.suspended:
            raise CoordinationUnavailable("Redis is unavailable: no lock can be taken")
        try:
            taken = await self._redis.set(name, token, nx=True, px=int(ttl * 1000))
        except (RedisError, OSError) as exc:
            self._health.failed(exc)
            raise CoordinationUnavailable(f"Redis is unavailable: {type(exc).__name__}") from exc
        self._health.answered()
        return bool(taken)


class LocalCache:
    """An in-process cache with expiry, for the embedded default."""

    #: Expired entries are dropped when a new key would take the cache past this size
    #: (keys such as a breaker's per-window counters are never read again once expired).
    PURGE_AT = 1024

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, str]] = {}
        self._purge_at = self.PURGE_AT

    def _purge(self) -> None:
        if len(self._entries) < self._purge_at:
            return
        now = time.monotonic()
        self._entries = {k: e for k, e in self._entries.items() if e[0] > now}
        # While many entries are still live, wait for as many again before the next pass,
        # so that each write does not rebuild the whole cache.
        self._purge_at = max(self.PURGE_AT, 2 * len(self._entries))

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

    async def incr(self, key: str, *, ttl: float, by: int = 1) -> int:
        current = await self.get(key)
        if current is None:
            self._purge()
            self._entries[key] = (time.monotonic() + ttl, str(by))
            return by
        expires, _ = self._entries[key]
        self._entries[key] = (expires, str(int(current) + by))
        return int(current) + by


class RedisCache:
    """A cache in Redis, shared by every gateway instance; in the process while Redis is
    unavailable (what was cached there is recomputed, never wrong)."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "causeway:cache:",
        health: RedisHealth | None = None,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._health = health or RedisHealth()
        self._fallback = LocalCache()

    async def get(self, key: str) -> str | None:
        async def shared() -> str | None:
            value = await self._redis.get(self._prefix + key)
            if value is None:
                return None
            return value.decode() if isinstance(value, bytes) else str(value)

        return await self._either(shared, partial(self._fallback.get, key))

    async def set(self, key: str, value: str, *, ttl: float) -> None:
        async def shared() -> None:
            await self._redis.set(self._prefix + key, value, px=max(1, int(ttl * 1000)))

        await self._either(shared, partial(self._fallback.set, key, value, ttl=ttl))

    async def incr(self, key: str, *, ttl: float, by: int = 1) -> int:
        async def shared() -> int:
            name = self._prefix + key
            async with self._redis.pipeline(transaction=True) as pipe:
                # NX: the expiry is set once, when the counter is made (a fixed window).
                pipe.incrby(name, by)
                pipe.pexpire(name, max(1, int(ttl * 1000)), nx=True)
                count, _ = await pipe.execute()
            return int(count)

        return await self._either(shared, partial(self._fallback.incr, key, ttl=ttl, by=by))

    async def _either(
        self, shared: Callable[[], Awaitable[Value]], local: Callable[[], Awaitable[Value]]
    ) -> Value:
        """Redis's answer, or the process's while Redis is unavailable."""
        if self._health.suspended:
            return await local()
        try:
            answer = await shared()
        except (RedisError, OSError) as exc:
            self._health.failed(exc)
            return await local()
        self._health.answered()
        return answer
