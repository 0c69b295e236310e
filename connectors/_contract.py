"""The connector contract: what a wallet protocol must provide to be reached by Causeway.

A connector is a *stateless translator*. For each operation it builds one
:class:`httpx.Request` from a canonical request and parses the wallet's
:class:`httpx.Response` into a canonical result. It performs no I/O, keeps no state between
calls, never retries and never logs: the core sends, retries when provably safe, persists and
records. A connector instance holds only its configuration (base URL, identifiers, keys).

A wallet that reports results by calling the hub back is reached the other way too: its
connector is also a :class:`NotificationParser`, which reads each callback and says what to
answer it. A wallet that does not deduplicate refunds, but lists the refunds of a payment,
has a connector that is also a :class:`RefundInquiry`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import httpx

from connectors._models import (
    CancelRequest,
    CancelResult,
    InquireRequest,
    PaymentResult,
    PayRequest,
    RefundLookup,
    RefundRequest,
    RefundResult,
    WalletNotification,
)

__all__ = [
    "Capabilities",
    "Connector",
    "ConnectorFactory",
    "NotificationParser",
    "Operation",
    "RefundInquiry",
]


class Operation(enum.StrEnum):
    """The operations a connector may support."""

    PAY = "pay"
    INQUIRE = "inquire"
    CANCEL = "cancel"
    REFUND = "refund"


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a connector can do, as data (routing reads it; no code path asks "which wallet").

    ``currencies`` are the wallet currencies it can charge in; ``regions`` the ISO 3166
    alpha-2 regions of its users; ``modes`` the Alipay+ in-store scenarios it accepts
    (``"PaymentCode"``...).

    Three limits some wallets have, whose defaults are "no limit":

    ``inquiry_by_request_id``
        ``False`` when the wallet can be asked about a payment only by its own id (the
        ``wallet_payment_id`` an answer gave, M-Pesa's ``CheckoutRequestID``), not by our
        ``wallet_request_id``. A payment whose first answer was lost then cannot be found
        by inquiry: ``build_inquire`` without a ``wallet_payment_id`` raises
        :class:`~connectors.OperationNotSupported`, and the core leaves such a payment
        unknown rather than ask.
    ``amount_step``
        The smallest amount the wallet moves, in minor units of its currencies: every
        amount it is sent is a multiple of it, and a connector refuses (never rounds) one
        that is not. M-Pesa moves whole shillings: ``amount_step=100`` for KES.
    ``refunds_deduplicated``
        ``False`` when the wallet cannot tell a refund sent twice from two refunds (it takes
        no refund request id: KakaoPay's partial ``cancel``). The core then never sends a
        refund again on the chance that an earlier send did not arrive. If the connector is
        also a :class:`RefundInquiry`, the core asks the wallet instead: a refund it has is
        recorded, and one it provably has not is sent again once no earlier send can still
        arrive. Without one, a refund whose outcome is unknown stays unknown, for
        reconciliation against the wallet's records, rather than risk paying it twice.
    """

    operations: frozenset[Operation]
    currencies: frozenset[str]
    regions: frozenset[str]
    modes: frozenset[str] = frozenset({"PaymentCode"})
    inquiry_by_request_id: bool = True
    amount_step: int = 1
    refunds_deduplicated: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.amount_step, bool) or self.amount_step < 1:
            raise ValueError(
                f"amount_step is a whole number of minor units >= 1, not {self.amount_step!r}"
            )


@runtime_checkable
class Connector(Protocol):
    """A wallet protocol, as pairs of ``build`` and ``parse`` methods.

    Every ``build_*`` returns a complete, signed :class:`httpx.Request`. Every ``parse_*``
    receives the request it answers and the wallet's response, and returns a result:

    - an explicit success or failure from the wallet becomes ``SUCCEEDED`` or ``FAILED``,
      with the wallet's code mapped to an Alipay+ result code;
    - anything else (an unknown status, "processing", a 5xx) becomes ``PENDING``;
    - a response that cannot be understood (malformed body, bad signature) raises
      :class:`~connectors.WalletProtocolError`.

    An operation the protocol lacks raises :class:`~connectors.OperationNotSupported` from
    its ``build_*`` method and is left out of ``capabilities.operations``.
    """

    name: str
    capabilities: Capabilities

    def build_pay(self, request: PayRequest) -> httpx.Request:
        """Build the request that charges the traveller; it must carry
        ``request.wallet_request_id`` as the wallet's idempotency key."""
        ...

    def parse_pay(self, request: PayRequest, response: httpx.Response) -> PaymentResult:
        """Parse the wallet's answer to :meth:`build_pay`."""
        ...

    def build_inquire(self, request: InquireRequest) -> httpx.Request:
        """Build the request that asks for the payment's current state.

        When the wallet can only be asked by its own id (``inquiry_by_request_id`` is
        ``False``) and ``request.wallet_payment_id`` is ``None``, raise
        :class:`~connectors.OperationNotSupported`: never ask by some other id and read
        the wallet's "no such payment" as an answer."""
        ...

    def parse_inquire(self, request: InquireRequest, response: httpx.Response) -> PaymentResult:
        """Parse the answer to :meth:`build_inquire`; a payment the wallet does not know
        is ``FAILED`` with ``ORDER_NOT_EXIST`` (asked by an id that would have found it)."""
        ...

    def build_cancel(self, request: CancelRequest) -> httpx.Request:
        """Build the request that cancels the payment (reversing it if charged)."""
        ...

    def parse_cancel(self, request: CancelRequest, response: httpx.Response) -> CancelResult:
        """Parse the answer to :meth:`build_cancel`."""
        ...

    def build_refund(self, request: RefundRequest) -> httpx.Request:
        """Build the request that refunds part or all of a succeeded payment; it must
        carry ``request.refund_request_id`` as the wallet's idempotency key."""
        ...

    def parse_refund(self, request: RefundRequest, response: httpx.Response) -> RefundResult:
        """Parse the answer to :meth:`build_refund`.

        A ``PENDING`` refund is resolved by the wallet's callback, when it sends one
        (:class:`NotificationParser`), or by sending the same request (same
        ``refund_request_id``) again, which the wallet must deduplicate; a wallet that
        cannot (``refunds_deduplicated=False``) is asked instead, when its connector is a
        :class:`RefundInquiry`."""
        ...


@runtime_checkable
class NotificationParser(Protocol):
    """A wallet that calls back: how its connector reads each callback and answers it.

    A connector implements this besides :class:`Connector` when its wallet reports
    results by calling the hub (M-Pesa's STK push result, its reversal result). The core
    routes the route's callbacks (``POST /wallets/{route}/notify``) to it: it reads the
    whole body, calls :meth:`parse_notification`, records the result against the payment
    or refund the notification names, and answers the wallet with :meth:`acknowledge`.
    Like the rest of the contract, both methods are pure: no I/O, no state, no logging.
    """

    def parse_notification(self, request: httpx.Request) -> WalletNotification:
        """What the callback ``request`` (its body already read) says.

        Verify that it is genuine where the protocol allows (a signature, a shared
        token); one that is not, or that cannot be understood, raises
        :class:`~connectors.WalletProtocolError`. A callback naming a payment the
        connector cannot know of is not an error here (it keeps no state): the core
        decides what an unknown id means. The result follows the ``parse_*`` rules: only
        an explicit success is ``SUCCEEDED``, an unknown status is ``PENDING``."""
        ...

    def acknowledge(self, notification: WalletNotification | None) -> httpx.Response:
        """The answer the wallet expects to a callback: to ``notification`` once the core
        has recorded it, or a refusal when ``notification`` is ``None`` (the callback
        raised :class:`~connectors.WalletProtocolError`). A refusal must not read as an
        acceptance: a wallet that retries sends the callback again."""
        ...


@runtime_checkable
class RefundInquiry(Protocol):
    """A wallet that does not deduplicate refunds but can say which ones it made: how its
    connector asks whether one refund was made.

    Only a connector declaring ``refunds_deduplicated=False`` needs it, and only if its
    wallet lists a payment's refunds in a way that names each by what the hub sent
    (KakaoPay's ``order`` lists every cancel with the ``payload`` it was sent with). The
    core then asks about a refund whose outcome is unknown instead of leaving it for
    reconciliation: ``FOUND`` is recorded as the refund's success, ``ABSENT`` lets the core
    send the refund again once no earlier send can still arrive, ``UNKNOWN`` leaves it
    for the next try. Like the rest of the contract, both methods are pure.
    """

    def build_inquire_refund(self, request: RefundRequest) -> httpx.Request:
        """Build the request that asks the wallet about the refund ``request`` describes
        (the same request :meth:`Connector.build_refund` was given). When the wallet cannot
        be asked about this refund (the payment's id it needs is missing), raise
        :class:`~connectors.OperationNotSupported`, as a missing operation does."""
        ...

    def parse_inquire_refund(
        self, request: RefundRequest, response: httpx.Response
    ) -> RefundLookup:
        """Parse the answer to :meth:`build_inquire_refund`: ``FOUND`` (with the wallet's
        id for the refund) only when the wallet's record is this refund, for
        ``refund_from_amount``; ``ABSENT`` only when the answer lists every refund of the
        payment and none is this one; ``UNKNOWN`` otherwise (an error, a 5xx, a status not
        understood). A record of this refund that disagrees with it (another amount, not a
        refund) raises :class:`~connectors.WalletProtocolError`."""
        ...


class ConnectorFactory(Protocol):
    """How the registry makes a connector: a class (or callable) taking its settings.

    ``settings`` is the route's table from the configuration, with secrets already
    resolved. Invalid settings raise :class:`~connectors.ConnectorConfigError`, naming the
    setting.
    """

    def __call__(self, name: str, settings: Mapping[str, Any]) -> Connector: ...
