"""Payment and refund states, and the only transitions between them.

```
PENDING ──► SUCCEEDED ──► CANCELLED        (cancel window; the wallet reverses)
   │   ├──► FAILED
   │   ├──► UNKNOWN ──► SUCCEEDED | FAILED | CANCELLED
   │   └──► CANCELLED                      (cancel before the wallet ever answered)
```

A refund is a child of a succeeded payment: ``PENDING → SUCCEEDED | FAILED | UNKNOWN``,
``UNKNOWN → SUCCEEDED | FAILED``. Any other move raises :class:`IllegalTransition`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from gateway.errors import IllegalTransition

__all__ = ["PaymentStatus", "RefundStatus", "check_payment_transition", "check_refund_transition"]


class PaymentStatus(enum.StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"
    CANCELLED = "CANCELLED"

    @property
    def is_final(self) -> bool:
        return self in _FINAL_PAYMENT


class RefundStatus(enum.StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"

    @property
    def is_final(self) -> bool:
        return self in (RefundStatus.SUCCEEDED, RefundStatus.FAILED)


# SUCCEEDED counts as final for the merchant's answer, though a cancel may still follow.
_FINAL_PAYMENT = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.CANCELLED})

PAYMENT_TRANSITIONS: Mapping[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.PENDING: frozenset(
        {
            PaymentStatus.SUCCEEDED,
            PaymentStatus.FAILED,
            PaymentStatus.UNKNOWN,
            PaymentStatus.CANCELLED,
        }
    ),
    PaymentStatus.UNKNOWN: frozenset(
        {PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.CANCELLED}
    ),
    PaymentStatus.SUCCEEDED: frozenset({PaymentStatus.CANCELLED}),
    PaymentStatus.FAILED: frozenset(),
    PaymentStatus.CANCELLED: frozenset(),
}

REFUND_TRANSITIONS: Mapping[RefundStatus, frozenset[RefundStatus]] = {
    RefundStatus.PENDING: frozenset(
        {RefundStatus.SUCCEEDED, RefundStatus.FAILED, RefundStatus.UNKNOWN}
    ),
    RefundStatus.UNKNOWN: frozenset({RefundStatus.SUCCEEDED, RefundStatus.FAILED}),
    RefundStatus.SUCCEEDED: frozenset(),
    RefundStatus.FAILED: frozenset(),
}


def check_payment_transition(payment_id: str, source: PaymentStatus, target: PaymentStatus) -> None:
    """Raise :class:`IllegalTransition` unless ``source → target`` is in the table."""
    if target not in PAYMENT_TRANSITIONS[source]:
        raise IllegalTransition("payment", payment_id, source, target)


def check_refund_transition(refund_id: str, source: RefundStatus, target: RefundStatus) -> None:
    """Raise :class:`IllegalTransition` unless ``source → target`` is in the table."""
    if target not in REFUND_TRANSITIONS[source]:
        raise IllegalTransition("refund", refund_id, source, target)
