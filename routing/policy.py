"""Retry and circuit-breaker policies for wallet calls, declared once.

A call is retried only when it provably never reached the wallet (no connection could be
made): anything after that is an unknown outcome, resolved by inquiry, never by sending
again. Waits use full jitter (a random wait up to an exponentially growing cap), so many
gateways retrying at once do not arrive together. After the attempts on one route, the
payment may fail over to the next route for the same wallet — for the same reason only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from connectors import WalletUnreachable

__all__ = ["BreakerPolicy", "RetryPolicy"]

Result = TypeVar("Result")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """At most ``attempts`` tries within ``budget_seconds``, waiting up to
    ``base_seconds`` × 2ⁿ (capped at ``cap_seconds``), on :class:`WalletUnreachable` only."""

    attempts: int = 3
    base_seconds: float = 0.05
    cap_seconds: float = 1.0
    budget_seconds: float = 3.0

    async def call(self, attempt: Callable[[], Awaitable[Result]]) -> Result:
        """Run ``attempt``, retrying while the wallet provably never saw it."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts) | stop_after_delay(self.budget_seconds),
            wait=wait_random_exponential(multiplier=self.base_seconds, max=self.cap_seconds),
            retry=retry_if_exception_type(WalletUnreachable),
            reraise=True,
        )
        async for trial in retrying:
            with trial:
                return await attempt()
        raise AssertionError("tenacity ends by returning or raising")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """A route's breaker opens after ``failures`` transport failures within
    ``window_seconds`` and stays open ``open_seconds``; then one call probes it again.

    While open, no payment is sent through the route: it fails over, or fails as never sent.
    """

    failures: int = 5
    window_seconds: float = 30.0
    open_seconds: float = 30.0
