"""What the adapter's state of a transfer says, before any operation gives it a meaning.

- :class:`Committed`: the switch committed the transfer (``COMPLETED`` with the fulfil's
  ``transferState`` ``COMMITTED``). Only a 200 can say so.
- :class:`Failed`: the transfer did not and will not happen. ``source`` says who said so:
  ``"switch"`` (the fulfil says ``ABORTED``), ``"scheme"`` (an FSPIOP error came back from
  a party, quote or transfer step; ``code`` is its ``errorCode``), or ``"adapter"`` (a 200
  saying ``ABORTED`` or ``ERROR_OCCURRED`` with no FSPIOP error: it gave up before sending).
- :class:`Open`: anything else, including every state the API does not define. It is never
  read as a success.

Some FSPIOP errors are about the *request*, not the transfer, and stay open: 3106 (the
transferId was used before with other data: that first transfer may well be committed),
and the 1xxx communication and 2xxx server errors, after which only the switch knows.
A fulfil saying ``COMMITTED`` is never outvoted by an error state: money moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, assert_never

from connectors._time import aware_time
from connectors.mojaloop._wire import AdapterState, TransferResponse, TransferState

__all__ = ["Committed", "Failed", "Open", "Verdict", "verdict"]


@dataclass(frozen=True, slots=True)
class Committed:
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Failed:
    code: str
    message: str
    source: Literal["switch", "scheme", "adapter"]


@dataclass(frozen=True, slots=True)
class Open:
    code: str | None
    message: str


Verdict = Committed | Failed | Open


def _silent(code: str) -> bool:
    return code == "3106" or code.startswith(("1", "2"))


def _from_switch(state: TransferResponse) -> Verdict:
    fulfil = state.fulfil.body if state.fulfil is not None else None
    match state.transfer_state:
        case TransferState.COMMITTED:
            return Committed(aware_time(fulfil.completedTimestamp if fulfil else None))
        case TransferState.ABORTED:
            return Failed("ABORTED", "the switch aborted the transfer", "switch")
        case TransferState.RECEIVED | TransferState.RESERVED | None:
            shown = fulfil.transferState if fulfil else None
            return Open(shown, f"the switch reports the transfer as {shown!r}")
        case unreachable:
            assert_never(unreachable)


def verdict(state: TransferResponse, final: bool) -> Verdict:
    """The verdict on ``state``; ``final`` is whether it came with HTTP 200."""
    error = state.error
    moved = state.transfer_state is TransferState.COMMITTED
    match state.state:
        case AdapterState.COMPLETED if final:
            return _from_switch(state)
        case AdapterState.ERROR_OCCURRED if error is not None and not moved:
            code, description = error
            return Open(code, description) if _silent(code) else Failed(code, description, "scheme")
        case AdapterState.ERROR_OCCURRED | AdapterState.ABORTED if final and not moved:
            return Failed(state.currentState, "the adapter gave up before the transfer", "adapter")
        case (
            AdapterState.COMPLETED
            | AdapterState.ERROR_OCCURRED
            | AdapterState.ABORTED
            | AdapterState.WAITING_FOR_PARTY_ACCEPTANCE
            | AdapterState.WAITING_FOR_QUOTE_ACCEPTANCE
            | AdapterState.WAITING_FOR_CONVERSION_ACCEPTANCE
            | None
        ):
            return Open(state.currentState, f"transfer state {state.currentState!r}")
        case unreachable:
            assert_never(unreachable)
