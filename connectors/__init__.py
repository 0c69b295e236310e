"""The Causeway connector SDK: everything a wallet provider codes against.

``__all__`` below *is* the contract. Nothing here imports the rest of Causeway, and a
third-party connector imports nothing else of it (the conformance kit, for its tests, is
:mod:`connectors.conformance` and the pytest plugin :mod:`connectors.conformance_suite`).

A connector is to a wallet what an httpx transport is to a network: a small object the core
hands canonical requests to. Unlike a transport it performs no I/O. For each operation it
*builds* one :class:`httpx.Request` and *parses* the wallet's :class:`httpx.Response`; the
core sends through :func:`exchange`, retries only when provably safe, persists and logs:

===========  =======================  ======================  ====================
operation    ``build_*`` takes        ``parse_*`` returns     what it does
===========  =======================  ======================  ====================
``pay``      :class:`PayRequest`      :class:`PaymentResult`  charge the traveller
``inquire``  :class:`InquireRequest`  :class:`PaymentResult`  the payment's state
``cancel``   :class:`CancelRequest`   :class:`CancelResult`   cancel and reverse
``refund``   :class:`RefundRequest`   :class:`RefundResult`   give money back
===========  =======================  ======================  ====================

plus ``name`` (the route's) and ``capabilities`` (what it can do, as
:class:`Capabilities`: routing reads the data, no code path asks which wallet it is,
including the limits ``inquiry_by_request_id``, ``amount_step`` and
``refunds_deduplicated``).

A wallet that reports results by calling the hub back (M-Pesa) has a connector that is
also a :class:`NotificationParser`: ``parse_notification(request)`` turns one callback
into a :class:`WalletNotification` (which payment or refund, and its result) and
``acknowledge(notification)`` is the answer the wallet expects.

A wallet that does not deduplicate refunds but lists those it made (KakaoPay) has a
connector that is also a :class:`RefundInquiry`: ``build_inquire_refund(RefundRequest)``
and ``parse_inquire_refund(RefundRequest, response)``, whose :class:`RefundLookup` says
whether the wallet has the refund (:class:`RefundPresence` ``FOUND``, ``ABSENT`` or
``UNKNOWN``).

A minimal connector (a complete one is ``examples/causeway-connector-example``)::

    class GoPayConnector:
        def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
            self.name = name
            self.capabilities = Capabilities(
                operations=frozenset({Operation.PAY, Operation.INQUIRE}),
                currencies=frozenset({"IDR"}),
                regions=frozenset({"ID"}),
            )
            self._url = httpx.URL(settings["base_url"])

        def build_pay(self, request: PayRequest) -> httpx.Request:
            return httpx.Request("POST", self._url.join("/charges"), json={
                "idempotency_key": request.wallet_request_id,
                "amount": request.pay_to_amount.value,
            })

        def parse_pay(self, request: PayRequest, response: httpx.Response) -> PaymentResult:
            match response.json().get("status"):
                case "paid":
                    return PaymentResult.succeeded(wallet_payment_id=response.json()["id"])
                case "refused":
                    return PaymentResult.declined("USER_BALANCE_NOT_ENOUGH", "refused")
                case _:  # anything undocumented is pending, never a success
                    return PaymentResult.pending("unknown status")

        def build_cancel(self, request: CancelRequest) -> httpx.Request:
            raise OperationNotSupported("GoPay cannot cancel", connector=self.name)
        ...

The rules every connector follows (and the conformance kit checks):

- Results are values: a wallet's explicit yes or no is ``SUCCEEDED`` or ``FAILED`` with its
  code mapped to an Alipay+ result code (``USER_BALANCE_NOT_ENOUGH``...); anything else,
  a 5xx or an unknown status included, is ``PENDING``. An answer that cannot be understood
  raises :class:`WalletProtocolError`. A connector never catches httpx's exceptions.
- ``PayRequest.wallet_request_id`` and ``RefundRequest.refund_request_id`` are the
  wallet's idempotency keys: sent twice, they must charge or refund once.
- An operation the protocol lacks raises :class:`OperationNotSupported` from ``build_*``
  and is left out of ``capabilities.operations``.
- Bad settings raise :class:`ConnectorConfigError` naming the setting; secrets never reach
  a ``repr``, an exception message or a log line. :class:`SettingsModel` (``base_url``,
  ``currencies``, ``regions``) and :func:`load_settings` do that for a connector's own
  settings model.

Connectors are found by kind with :func:`find_factory` and made with
:func:`build_connector`: the bundled ones first, then installed packages declaring an
entry point in the ``causeway.connectors`` group. The guide is ``docs/connectors.md``.
"""

from __future__ import annotations

from connectors._contract import (
    Capabilities,
    Connector,
    ConnectorFactory,
    NotificationParser,
    Operation,
    RefundInquiry,
)
from connectors._errors import (
    ConnectorConfigError,
    ConnectorError,
    ConnectorLoadError,
    OperationNotSupported,
    WalletProtocolError,
    WalletTimeout,
    WalletTransportError,
    WalletUnreachable,
)
from connectors._models import (
    Amount,
    CancelRequest,
    CancelResult,
    InquireRequest,
    Merchant,
    Outcome,
    PaymentResult,
    PayRequest,
    QuoteTerms,
    RefundLookup,
    RefundPresence,
    RefundRequest,
    RefundResult,
    WalletNotification,
)
from connectors._registry import build_connector, find_factory
from connectors._settings import SettingsModel, http_url, load_settings
from connectors._signing import (
    RsaSigner,
    RsaVerifier,
    SignatureHeader,
    generate_rsa_key_pair,
    signed_content,
)
from connectors._transport import exchange

__all__ = [
    "Amount",
    "CancelRequest",
    "CancelResult",
    "Capabilities",
    "Connector",
    "ConnectorConfigError",
    "ConnectorError",
    "ConnectorFactory",
    "ConnectorLoadError",
    "InquireRequest",
    "Merchant",
    "NotificationParser",
    "Operation",
    "OperationNotSupported",
    "Outcome",
    "PayRequest",
    "PaymentResult",
    "QuoteTerms",
    "RefundInquiry",
    "RefundLookup",
    "RefundPresence",
    "RefundRequest",
    "RefundResult",
    "RsaSigner",
    "RsaVerifier",
    "SettingsModel",
    "SignatureHeader",
    "WalletNotification",
    "WalletProtocolError",
    "WalletTimeout",
    "WalletTransportError",
    "WalletUnreachable",
    "build_connector",
    "exchange",
    "find_factory",
    "generate_rsa_key_pair",
    "http_url",
    "load_settings",
    "signed_content",
]
