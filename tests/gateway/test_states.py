"""The transition table is the only way a payment or refund moves."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.errors import IllegalTransition
from gateway.states import (
    PAYMENT_TRANSITIONS,
    REFUND_TRANSITIONS,
    PaymentStatus,
    RefundStatus,
    check_payment_transition,
    check_refund_transition,
)


@given(st.sampled_from(PaymentStatus), st.sampled_from(PaymentStatus))
def test_a_payment_moves_only_along_the_table(source: PaymentStatus, target: PaymentStatus) -> None:
    if target in PAYMENT_TRANSITIONS[source]:
        check_payment_transition("P1", source, target)
    else:
        with pytest.raises(IllegalTransition) as caught:
            check_payment_transition("P1", source, target)
        assert caught.value.source == source
        assert caught.value.target == target


@given(st.sampled_from(RefundStatus), st.sampled_from(RefundStatus))
def test_a_refund_moves_only_along_the_table(source: RefundStatus, target: RefundStatus) -> None:
    if target in REFUND_TRANSITIONS[source]:
        check_refund_transition("R1", source, target)
    else:
        with pytest.raises(IllegalTransition):
            check_refund_transition("R1", source, target)


def test_final_states_have_no_way_out_but_the_cancel_of_a_success() -> None:
    assert PAYMENT_TRANSITIONS[PaymentStatus.FAILED] == frozenset()
    assert PAYMENT_TRANSITIONS[PaymentStatus.CANCELLED] == frozenset()
    assert PAYMENT_TRANSITIONS[PaymentStatus.SUCCEEDED] == {PaymentStatus.CANCELLED}
    # An unknown outcome is never final and never becomes success without the wallet.
    assert not PaymentStatus.UNKNOWN.is_final
    assert PaymentStatus.PENDING not in PAYMENT_TRANSITIONS[PaymentStatus.UNKNOWN]


@given(st.lists(st.sampled_from(PaymentStatus), min_size=1, max_size=6))
def test_any_walk_that_the_table_allows_ends_at_most_once_in_failed(
    walk: list[PaymentStatus],
) -> None:
    current = PaymentStatus.PENDING
    for target in walk:
        if target not in PAYMENT_TRANSITIONS[current]:
            with pytest.raises(IllegalTransition):
                check_payment_transition("P1", current, target)
            return
        current = target
    if current is PaymentStatus.FAILED:
        assert PAYMENT_TRANSITIONS[current] == frozenset()
