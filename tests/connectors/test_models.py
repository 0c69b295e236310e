"""The canonical models' own rules: here, what a wallet's notification may say."""

from __future__ import annotations

import dataclasses

import pytest

from connectors import Outcome, PaymentResult, RefundResult, WalletNotification

PAID = PaymentResult.succeeded(wallet_payment_id="LGR7OWQX0R")
REFUNDED = RefundResult.succeeded(wallet_refund_id="SAQ71H2Z9X")


def test_a_payments_notification_names_it_by_either_id() -> None:
    by_ours = WalletNotification.for_payment(PAID, wallet_request_id="P-1")
    by_theirs = WalletNotification.for_payment(PAID, wallet_payment_id="ws_CO_1")
    assert (by_ours.wallet_request_id, by_ours.wallet_payment_id) == ("P-1", None)
    assert (by_theirs.wallet_request_id, by_theirs.wallet_payment_id) == (None, "ws_CO_1")
    assert by_ours.payment is PAID
    assert by_ours.refund is None
    assert (by_ours.refund_request_id, by_ours.wallet_refund_id) == (None, None)


def test_a_refunds_notification_names_it_by_either_id() -> None:
    by_ours = WalletNotification.for_refund(REFUNDED, refund_request_id="R-1")
    by_theirs = WalletNotification.for_refund(
        REFUNDED, wallet_refund_id="AG_1", wallet_payment_id="LGR7OWQX0R"
    )
    assert (by_ours.refund_request_id, by_ours.wallet_refund_id) == ("R-1", None)
    assert (by_theirs.refund_request_id, by_theirs.wallet_refund_id) == (None, "AG_1")
    assert by_theirs.wallet_payment_id == "LGR7OWQX0R"  # the payment, for the record
    assert by_theirs.refund is REFUNDED
    assert by_theirs.payment is None


def test_the_result_may_name_the_payment_by_a_newer_id() -> None:
    # M-Pesa: the callback is keyed by the CheckoutRequestID, the result by the receipt.
    notification = WalletNotification.for_payment(PAID, wallet_payment_id="ws_CO_1")
    assert notification.payment is not None
    assert notification.payment.wallet_payment_id != notification.wallet_payment_id


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({}, "exactly one of payment and refund"),
        ({"payment": PAID, "refund": REFUNDED, "wallet_refund_id": "AG_1"}, "exactly one"),
        ({"payment": PAID}, "names it by wallet_request_id or wallet_payment_id"),
        (
            {"payment": PAID, "wallet_payment_id": "ws_CO_1", "refund_request_id": "R-1"},
            "no refund",
        ),
        ({"payment": PAID, "wallet_request_id": "P-1", "wallet_refund_id": "AG_1"}, "no refund"),
        ({"refund": REFUNDED, "wallet_payment_id": "LGR7OWQX0R"}, "refund_request_id or"),
        ({"payment": PAID, "wallet_request_id": "", "wallet_payment_id": ""}, "names it by"),
        ({"refund": REFUNDED, "refund_request_id": ""}, "refund_request_id or"),
    ],
    ids=[
        "neither",
        "both",
        "unnamed-payment",
        "payment-with-refund-id",
        "payment-with-their-refund-id",
        "unnamed-refund",
        "empty-payment-ids",
        "empty-refund-id",
    ],
)
def test_a_notification_that_cannot_be_attributed_is_refused(
    fields: dict[str, object], problem: str
) -> None:
    keys = {"wallet_request_id": None, "wallet_payment_id": None}
    with pytest.raises(ValueError, match=problem):
        WalletNotification(**(keys | fields))  # type: ignore[arg-type]


def test_a_notification_is_a_frozen_value() -> None:
    notification = WalletNotification.for_payment(PAID, wallet_payment_id="ws_CO_1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        notification.wallet_payment_id = "ws_CO_2"  # type: ignore[misc]
    assert notification == WalletNotification.for_payment(PAID, wallet_payment_id="ws_CO_1")
    pending = WalletNotification.for_payment(
        PaymentResult.pending("x"), wallet_payment_id="ws_CO_1"
    )
    assert pending.payment is not None
    assert pending.payment.outcome is Outcome.PENDING
