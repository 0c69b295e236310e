"""What can go wrong between the core and a wallet.

```
ConnectorError                 root of everything a connector or the transport raises
├── ConnectorConfigError       a connector's settings are missing or invalid
├── ConnectorLoadError         a named connector could not be found or imported
├── OperationNotSupported      the wallet's protocol has no such operation
├── WalletProtocolError        the wallet answered, but not in a form we understand
└── WalletTransportError       we could not talk to the wallet
    ├── WalletUnreachable      the request provably never left (connect refused, DNS)
    └── WalletTimeout          the request may have arrived: the outcome is unknown
```

A decline is not an error: it is a result (``PaymentResult.declined``). Exceptions mean
"could not talk" or "could not understand".
"""

from __future__ import annotations

from pydantic import ValidationError

__all__ = [
    "ConnectorConfigError",
    "ConnectorError",
    "ConnectorLoadError",
    "OperationNotSupported",
    "WalletProtocolError",
    "WalletTimeout",
    "WalletTransportError",
    "WalletUnreachable",
    "first_problem",
]


class ConnectorError(Exception):
    """Raised for any failure of a connector or of the transport to a wallet."""

    def __init__(self, message: str, *, connector: str | None = None) -> None:
        super().__init__(message)
        self.connector = connector


class ConnectorConfigError(ConnectorError):
    """Raised when a connector's settings are missing or invalid."""


class ConnectorLoadError(ConnectorError):
    """Raised when a configured connector kind cannot be found or imported."""


class OperationNotSupported(ConnectorError):
    """Raised when asked for an operation the wallet's protocol does not have."""


class WalletProtocolError(ConnectorError):
    """Raised when the wallet's response cannot be understood (bad JSON, bad signature...)."""

    def __init__(
        self, message: str, *, connector: str | None = None, http_status: int | None = None
    ) -> None:
        super().__init__(message, connector=connector)
        self.http_status = http_status


class WalletTransportError(ConnectorError):
    """Raised when the core could not exchange a request and response with the wallet."""

    #: Whether the request may have reached the wallet. Only a request that provably never
    #: left may be retried elsewhere; any other is resolved by inquiry.
    may_have_arrived: bool = True


class WalletUnreachable(WalletTransportError):
    """Raised when the request provably never left: no connection could be made."""

    may_have_arrived = False


class WalletTimeout(WalletTransportError):
    """Raised when the wallet did not answer in time after the request was sent."""


def first_problem(exc: ValidationError) -> str:
    """``where: what`` of a wallet answer's first invalid field, without its value: an
    answer may carry the payer's code or number, which must not reach a log line. Raise
    the error this describes ``from None``, so the answer does not ride along either."""
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return f"{where}: {first['msg']}"
