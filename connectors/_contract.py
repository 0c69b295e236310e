"""The connector contract: what a wallet protocol must provide to be reached by Causeway.

A connector is a *stateless translator*. For each operation it builds one
:class:`httpx.Request` from a canonical request and parses the wallet's
:class:`httpx.Response` into a canonical result. It performs no I/O, keeps no state between
calls, never retries and never logs: the core sends, retries when provably safe, persists and
records. A connector instance holds only its configuration (base URL, identifiers, keys).
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
    RefundRequest,
    RefundResult,
)

__all__ = ["Capabilities", "Connector", "ConnectorFactory", "Operation"]


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
    """

    operations: frozenset[Operation]
    currencies: frozenset[str]
    regions: frozenset[str]
    modes: frozenset[str] = frozenset({"PaymentCode"})


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
        """Build the request that asks for the payment's current state."""
        ...

    def parse_inquire(self, request: InquireRequest, response: httpx.Response) -> PaymentResult:
        """Parse the answer to :meth:`build_inquire`; a payment the wallet does not know
        is ``FAILED`` with ``ORDER_NOT_EXIST``."""
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

        There is no refund inquiry in the contract: a ``PENDING`` refund is resolved by
        sending the same request (same ``refund_request_id``) again, which the wallet
        must deduplicate."""
        ...


class ConnectorFactory(Protocol):
    """How the registry makes a connector: a class (or callable) taking its settings.

    ``settings`` is the route's table from the configuration, with secrets already
    resolved. Invalid settings raise :class:`~connectors.ConnectorConfigError`, naming the
    setting.
    """

    def __call__(self, name: str, settings: Mapping[str, Any]) -> Connector: ...
