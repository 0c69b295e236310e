"""The Causeway connector SDK.

``__all__`` below *is* the contract a wallet provider codes against: the
:class:`Connector` protocol, the canonical requests and results, capabilities, errors, the
Alipay+ message signature and the transport boundary. Nothing here imports the rest of
Causeway.
"""

from __future__ import annotations

from connectors._contract import Capabilities, Connector, ConnectorFactory, Operation
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
    RefundRequest,
    RefundResult,
)
from connectors._registry import build_connector, find_factory
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
    "Operation",
    "OperationNotSupported",
    "Outcome",
    "PayRequest",
    "PaymentResult",
    "QuoteTerms",
    "RefundRequest",
    "RefundResult",
    "RsaSigner",
    "RsaVerifier",
    "SignatureHeader",
    "WalletProtocolError",
    "WalletTimeout",
    "WalletTransportError",
    "WalletUnreachable",
    "build_connector",
    "exchange",
    "find_factory",
    "generate_rsa_key_pair",
    "signed_content",
]
