"""The scheme adapter's outbound API on the wire: ``POST /transfers``, ``GET /transfers/{id}``.

Field names are the API's own camelCase (``docs/sdk-scheme-adapter-outbound-v2_1_0``
in mojaloop/api-snippets). Request bodies leave absent optional fields out. Response models
ignore fields they do not use: the adapter echoes its whole working state (party lookup,
quote, prepare...) and deployments add their own.
"""

from __future__ import annotations

import enum
import re
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AdapterState",
    "ErrorResponse",
    "TransferBody",
    "TransferResponse",
    "TransferState",
    "TransferStatusResponse",
    "WireExtension",
    "WireParty",
    "transfer_id",
]

#: Never change: every transferId in flight was derived from it, and an inquiry of one of
#: them must find it again.
_TRANSFER_ID_NAMESPACE = uuid.UUID("de5d5361-9c6b-59e6-a805-3b3530ee4224")

_ERROR_CODE = re.compile(r"[1-9][0-9]{3}")  # FSPIOP ErrorCode


def transfer_id(kind: Literal["pay", "refund"], request_id: str) -> str:
    """The transferId for a request id: a UUID v5, so that the same request always names
    the same transfer (the switch deduplicates on it) and an inquiry can find it again."""
    return str(uuid.uuid5(_TRANSFER_ID_NAMESPACE, f"{kind}:{request_id}"))


class AdapterState(enum.StrEnum):
    """``currentState`` of an outbound transfer (the API's ``transferStatus`` plus the
    adapter's ``ABORTED`` and ``WAITING_FOR_CONVERSION_ACCEPTANCE``)."""

    COMPLETED = "COMPLETED"
    ERROR_OCCURRED = "ERROR_OCCURRED"
    ABORTED = "ABORTED"
    WAITING_FOR_PARTY_ACCEPTANCE = "WAITING_FOR_PARTY_ACCEPTANCE"
    WAITING_FOR_QUOTE_ACCEPTANCE = "WAITING_FOR_QUOTE_ACCEPTANCE"
    WAITING_FOR_CONVERSION_ACCEPTANCE = "WAITING_FOR_CONVERSION_ACCEPTANCE"


class TransferState(enum.StrEnum):
    """FSPIOP ``TransferState``, as the switch reports it in the fulfil."""

    RECEIVED = "RECEIVED"
    RESERVED = "RESERVED"
    COMMITTED = "COMMITTED"
    ABORTED = "ABORTED"


class _Request(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def to_bytes(self) -> bytes:
        return self.model_dump_json(by_alias=True, exclude_none=True).encode()


class WireParty(_Request):
    """``transferParty``; ``type`` is the ``TransactionInitiatorType`` of that party."""

    type: str | None = None
    idType: str
    idValue: str = Field(repr=False)
    fspId: str | None = None


class WireExtension(_Request):
    key: str
    value: str


class TransferBody(_Request):
    """``transferRequest``, plus ``transferId``: the adapter keeps a transferId it is given
    (``OutboundTransfersModel.initialize``) and only generates one when it is absent."""

    homeTransactionId: str
    transferId: str
    from_: WireParty = Field(alias="from")
    to: WireParty
    amountType: Literal["SEND", "RECEIVE"]
    currency: str
    amount: str
    transactionType: Literal["TRANSFER"] = "TRANSFER"
    note: str | None = None
    quoteRequestExtensions: list[WireExtension] | None = None
    skipPartyLookup: bool | None = None  # the adapter then requires to.fspId


class _Response(BaseModel):
    # A deployment that sends an error code as a number must not turn a decline into a
    # protocol error, hence the coercion.
    model_config = ConfigDict(frozen=True, extra="ignore", coerce_numbers_to_str=True)


class _FulfilBody(_Response):
    fulfilment: str | None = None
    completedTimestamp: str | None = None
    transferState: str | None = None


class _Fulfil(_Response):
    body: _FulfilBody


class _QuoteBody(_Response):
    condition: str | None = None


class _QuoteResponse(_Response):
    body: _QuoteBody


class _ErrorInformation(_Response):
    errorCode: str
    errorDescription: str | None = None


class _MojaloopError(_Response):
    errorInformation: _ErrorInformation | None = None


class _TransferError(_Response):
    mojaloopError: _MojaloopError | None = None


class TransferResponse(_Response):
    """``transferResponse``: the adapter's state of one outbound transfer."""

    transferId: str | None = None
    homeTransactionId: str | None = None
    currentState: str
    quoteResponse: _QuoteResponse | None = None
    fulfil: _Fulfil | None = None
    lastError: _TransferError | None = None

    @property
    def state(self) -> AdapterState | None:
        """The state, or ``None`` for a value the API does not define."""
        try:
            return AdapterState(self.currentState)
        except ValueError:
            return None

    @property
    def transfer_state(self) -> TransferState | None:
        """The switch's state of the transfer, if the adapter has a (known) one."""
        raw = self.fulfil.body.transferState if self.fulfil is not None else None
        try:
            return TransferState(raw or "")
        except ValueError:
            return None

    @property
    def error(self) -> tuple[str, str] | None:
        """The FSPIOP ``(errorCode, errorDescription)`` of ``lastError``, if well formed."""
        if self.lastError is None or self.lastError.mojaloopError is None:
            return None
        info = self.lastError.mojaloopError.errorInformation
        if info is None or not _ERROR_CODE.fullmatch(info.errorCode):
            return None
        return info.errorCode, info.errorDescription or f"FSPIOP error {info.errorCode}"


class TransferStatusResponse(TransferResponse):
    """``transferStatusResponse``, the answer to ``GET /transfers/{transferId}``."""

    transferId: str


class ErrorResponse(_Response):
    """``errorTransferResponse``; also the shape of a plain ``errorResponse`` (no state)."""

    statusCode: str | None = None
    message: str | None = None
    transferState: TransferResponse | None = None
