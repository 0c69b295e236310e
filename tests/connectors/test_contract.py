"""The contract's data and optional protocols: capabilities and their limits, and which
connectors read callbacks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connectors import (
    Capabilities,
    NotificationParser,
    Operation,
    PaymentResult,
    WalletNotification,
)


def test_capabilities_default_to_no_limits() -> None:
    capabilities = Capabilities(frozenset(Operation), frozenset({"KRW"}), frozenset({"KR"}))
    assert capabilities.inquiry_by_request_id is True
    assert capabilities.amount_step == 1
    assert capabilities.modes == {"PaymentCode"}


def test_capabilities_declare_the_limits() -> None:
    capabilities = Capabilities(
        frozenset({Operation.PAY, Operation.INQUIRE}),
        frozenset({"KES"}),
        frozenset({"KE"}),
        inquiry_by_request_id=False,
        amount_step=100,
    )
    assert (capabilities.inquiry_by_request_id, capabilities.amount_step) == (False, 100)


@pytest.mark.parametrize("step", [0, -100, True])
def test_an_amount_step_is_a_positive_number_of_minor_units(step: Any) -> None:
    with pytest.raises(ValueError, match="amount_step"):
        Capabilities(frozenset(Operation), frozenset({"KES"}), frozenset(), amount_step=step)


class Callbacks:
    """The least a NotificationParser is: two methods."""

    def parse_notification(self, request: httpx.Request) -> WalletNotification:
        return WalletNotification.for_payment(
            PaymentResult.pending("seen"), wallet_request_id=request.url.path
        )

    def acknowledge(self, notification: WalletNotification | None) -> httpx.Response:
        return httpx.Response(200 if notification else 400)


class HalfCallbacks:
    """Reads callbacks, but cannot answer them."""

    def parse_notification(self, request: httpx.Request) -> WalletNotification:
        return Callbacks().parse_notification(request)


def test_a_notification_parser_is_recognised_by_both_its_methods() -> None:
    assert isinstance(Callbacks(), NotificationParser)
    assert not isinstance(HalfCallbacks(), NotificationParser)
    assert not isinstance(object(), NotificationParser)
