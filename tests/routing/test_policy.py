from __future__ import annotations

import pytest

from connectors import WalletTimeout, WalletUnreachable
from routing import RetriesSpent, RetryBudget, RetryPolicy, Unsendable

pytestmark = pytest.mark.anyio

FAST = RetryPolicy(attempts=3, base_seconds=0.001, cap_seconds=0.002)


@pytest.mark.parametrize(
    ("error", "message", "attempts"),
    [
        # A request that never left is tried again, up to the limit.
        pytest.param(WalletUnreachable, "refused", 3, id="never-left-retried-to-the-limit"),
        # An unknown outcome is never retried: sending again could charge twice.
        pytest.param(WalletTimeout, "may have arrived", 1, id="unknown-outcome-never-retried"),
        # A request that cannot be sent is not tried again.
        pytest.param(Unsendable, "the request could not be built", 1, id="unsendable-not-retried"),
    ],
)
async def test_only_a_request_that_never_left_is_tried_again(
    error: type[Exception], message: str, attempts: int
) -> None:
    calls: list[int] = []

    async def attempt() -> str:
        calls.append(1)
        raise error(message)

    with pytest.raises(error):
        await FAST.call(attempt)
    assert len(calls) == attempts


async def test_a_success_after_a_refusal_is_returned() -> None:
    refusals = [WalletUnreachable("refused")]

    async def attempt() -> str:
        if refusals:
            raise refusals.pop()
        return "paid"

    assert await FAST.call(attempt) == "paid"


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_retries_stop_when_the_routes_budget_is_spent() -> None:
    clock = _Clock()
    budget = RetryBudget(ratio=0.1, per_second=0.0, burst=2.0, clock=clock)
    calls: list[int] = []

    async def refused() -> str:
        calls.append(1)
        raise WalletUnreachable("refused")

    with pytest.raises(WalletUnreachable):
        await FAST.call(refused, budget=budget)  # two retries: the whole burst
    assert len(calls) == 3
    with pytest.raises(RetriesSpent, match="nothing was sent"):
        await FAST.call(refused, budget=budget)
    assert len(calls) == 4  # the first attempt only: no retry left


async def test_calls_and_time_refill_the_budget() -> None:
    clock = _Clock()
    budget = RetryBudget(ratio=0.5, per_second=1.0, burst=1.0, clock=clock)
    assert budget.withdraw()
    assert not budget.withdraw()
    budget.deposit()
    budget.deposit()  # two calls at ratio 0.5 earn one retry
    assert budget.withdraw()
    assert not budget.withdraw()
    clock.now += 1.0  # and so does a second
    assert budget.withdraw()
    clock.now += 100.0
    assert budget.withdraw()
    assert not budget.withdraw()  # never more than the burst
