"""Retry and circuit-breaker policies for wallet calls, declared once.

A call is retried only when it provably never reached the wallet (no connection could be
made): anything after that is an unknown outcome, resolved by inquiry, never by sending
again. Waits use full jitter (a random wait up to an exponentially growing cap), so many
gateways retrying at once do not arrive together. After the attempts on one route, the
payment may fail over to the next route for the same wallet — for the same reason only.
A retry budget per route caps how much extra load retries may add to a wallet that is
already refusing connections.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from connectors import WalletUnreachable

__all__ = ["BreakerPolicy", "RetriesSpent", "RetryBudget", "RetryPolicy", "Unsendable"]

Result = TypeVar("Result")


class Unsendable(WalletUnreachable):
    """Raised for a request that never left and that trying again cannot help."""


class RetriesSpent(Unsendable):
    """Raised instead of a retry when the route's retry budget is spent. Like the refusal
    before it, it means the request never left."""


class RetryBudget:
    """The retries one route may still take.

    Every call deposits ``ratio`` of a retry, every retry withdraws one, and ``per_second``
    more accrue with time (so a quiet route may still retry); at most ``burst`` are kept.
    So retries add at most about ``ratio`` of a route's traffic when its wallet refuses
    everyone, instead of multiplying it by the attempts. Kept in each process: it costs
    no round trip, and instances each bounded are bounded together.
    """

    def __init__(
        self,
        *,
        ratio: float = 0.2,
        per_second: float = 1.0,
        burst: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ratio = ratio
        self._per_second = per_second
        self._burst = burst
        self._clock = clock
        self._tokens = burst
        self._at = clock()

    def deposit(self) -> None:
        """A first attempt was made."""
        self._tokens = min(self._burst, self._tokens + self._ratio)

    def withdraw(self) -> bool:
        """Take one retry if the budget has it."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._per_second)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


def _never_left(exc: BaseException) -> bool:
    return isinstance(exc, WalletUnreachable) and not isinstance(exc, Unsendable)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """At most ``attempts`` tries within ``budget_seconds``, waiting up to
    ``base_seconds`` × 2ⁿ (capped at ``cap_seconds``), on :class:`WalletUnreachable` only."""

    attempts: int = 3
    base_seconds: float = 0.05
    cap_seconds: float = 1.0
    budget_seconds: float = 3.0

    async def call(
        self, attempt: Callable[[], Awaitable[Result]], *, budget: RetryBudget | None = None
    ) -> Result:
        """Run ``attempt``, retrying while the wallet provably never saw it and ``budget``
        (the route's) allows; raises :class:`RetriesSpent` when it does not."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts) | stop_after_delay(self.budget_seconds),
            wait=wait_random_exponential(multiplier=self.base_seconds, max=self.cap_seconds),
            retry=retry_if_exception(_never_left),
            reraise=True,
        )
        if budget is not None:
            budget.deposit()
        async for trial in retrying:
            with trial:
                retrying_now = trial.retry_state.attempt_number > 1
                if retrying_now and budget is not None and not budget.withdraw():
                    raise RetriesSpent("the route's retry budget is spent; nothing was sent")
                return await attempt()
        raise AssertionError("tenacity ends by returning or raising")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """A route's breaker opens when at least ``failure_ratio`` of its wallet calls within a
    ``window_seconds`` window failed at the transport level (refused, timed out), once the
    window holds ``minimum_calls``; it stays open ``open_seconds``, then calls go through
    again. A ratio, not a count: a busy route with a few failures a minute is healthy.

    While open, no payment is sent through the route: it fails over, or fails as never sent.
    """

    failure_ratio: float = 0.5
    minimum_calls: int = 10
    window_seconds: float = 30.0
    open_seconds: float = 30.0
