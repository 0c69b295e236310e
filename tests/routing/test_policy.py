from __future__ import annotations

import pytest

from connectors import WalletTimeout, WalletUnreachable
from routing import RetryPolicy

pytestmark = pytest.mark.anyio

FAST = RetryPolicy(attempts=3, base_seconds=0.001, cap_seconds=0.002)


async def test_a_request_that_never_left_is_tried_again_up_to_the_limit() -> None:
    calls: list[int] = []

    async def attempt() -> str:
        calls.append(1)
        raise WalletUnreachable("refused")

    with pytest.raises(WalletUnreachable):
        await FAST.call(attempt)
    assert len(calls) == 3


async def test_a_success_after_a_refusal_is_returned() -> None:
    refusals = [WalletUnreachable("refused")]

    async def attempt() -> str:
        if refusals:
            raise refusals.pop()
        return "paid"

    assert await FAST.call(attempt) == "paid"


async def test_an_unknown_outcome_is_never_retried() -> None:
    calls: list[int] = []

    async def attempt() -> str:
        calls.append(1)
        raise WalletTimeout("may have arrived")

    with pytest.raises(WalletTimeout):
        await FAST.call(attempt)
    assert len(calls) == 1  # sending again could charge twice
