"""What the gateway raises.

```
CausewayError                root of the gateway's errors
├── ConfigError              the configuration is missing, malformed or inconsistent
├── RequestRejected          a merchant request cannot be accepted: carries its ResultCode
├── IllegalTransition        a payment or refund was asked to move along an edge not in the table
├── ConcurrentUpdate         another writer moved the record first
├── StorageUnavailable       the database could not be reached
└── CoordinationUnavailable  Redis (the instances' shared locks) could not be reached
```

The connectors' errors (``connectors.ConnectorError``) and fx's (``fx.FXError``) have roots
of their own, since those packages import nothing of the gateway; the payment engine maps
them to results.
"""

from __future__ import annotations

from gateway.results import ResultCode

__all__ = [
    "CausewayError",
    "ConcurrentUpdate",
    "ConfigError",
    "CoordinationUnavailable",
    "IllegalTransition",
    "RequestRejected",
    "StorageUnavailable",
]


class CausewayError(Exception):
    """Raised for any failure inside the gateway."""


class ConfigError(CausewayError):
    """Raised when the configuration is missing, malformed or inconsistent."""


class RequestRejected(CausewayError):
    """Raised when a merchant's request cannot be accepted; answered as its result code."""

    def __init__(self, code: ResultCode, message: str | None = None) -> None:
        super().__init__(message or code.message)
        self.code = code
        self.message = message or code.message


class IllegalTransition(CausewayError):
    """Raised when a state change is not an edge of the transition table."""

    def __init__(self, kind: str, record_id: str, source: str, target: str) -> None:
        super().__init__(f"{kind} {record_id}: no transition from {source} to {target}")
        self.record_id = record_id
        self.source = source
        self.target = target


class ConcurrentUpdate(CausewayError):
    """Raised when a record was changed by another writer between read and write."""

    def __init__(self, record_id: str, expected: str) -> None:
        super().__init__(f"{record_id} is no longer {expected}")
        self.record_id = record_id


class StorageUnavailable(CausewayError):
    """Raised when the database cannot be reached or refuses the transaction."""


class CoordinationUnavailable(CausewayError):
    """Raised when a lock cannot be taken because Redis cannot be reached.

    Nothing has been done when it is raised: every operation on a payment takes its lock
    before it writes or sends anything.
    """
