"""Scheme adapter bodies as plain JSON, for the simulator.

The simulator reads the wire with these few functions rather than through the connector's
models, so that a field (or an amount) the connector gets wrong is caught instead of agreed
on by both sides.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

__all__ = [
    "ORIGINAL",
    "UUID",
    "BadRequest",
    "TransferAsk",
    "encode",
    "error_answer",
    "extensions",
    "fulfilment_pair",
    "major",
    "minor",
    "now",
    "party",
    "quote",
    "read_transfer",
    "text",
    "with_undefined_states",
]

_AMOUNT = re.compile(r"([0]|([1-9][0-9]{0,17}))([.][0-9]{0,3}[1-9])?")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
#: The quote extension that makes a transfer the refund of a payment.
ORIGINAL = "originalTransferId"

#: The FSPIOP errors the simulated scheme answers with (names from the API definition).
_ERRORS = {
    "3100": "Generic validation error",
    "3106": "Modified request",
    "3202": "Payer FSP ID not found",
    "3204": "Party not found",
    "3208": "Transfer ID not found",
    "4001": "Payer FSP insufficient liquidity",
    "4103": "Payer unsupported currency",
    "4200": "Payer limit error",
    "5103": "Payee FSP rejected quote",
}


class BadRequest(Exception):
    """Raised when a request body lacks a field or has one of the wrong shape (HTTP 400)."""


def text(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{key} must be a non-empty string")
    return value


def party(body: Mapping[str, Any], key: str) -> tuple[str, str, str | None]:
    """``(idType, idValue, fspId)`` of a ``transferParty``."""
    value = body.get(key)
    if not isinstance(value, Mapping):
        raise BadRequest(f"{key} must be a party object")
    fsp = value.get("fspId")
    if fsp is not None and not isinstance(fsp, str):
        raise BadRequest(f"{key}.fspId must be a string")
    return text(value, "idType"), text(value, "idValue"), fsp


def extensions(body: Mapping[str, Any], key: str) -> dict[str, str]:
    value = body.get(key, [])
    if not isinstance(value, list) or not all(
        isinstance(item, Mapping) and isinstance(item.get("key"), str) for item in value
    ):
        raise BadRequest(f"{key} must be a list of {{key, value}}")
    return {item["key"]: str(item.get("value")) for item in value}


@dataclass(frozen=True, slots=True)
class TransferAsk:
    """What a ``POST /transfers`` asks for: equal asks are the same request."""

    home: str
    payer: tuple[str, str]
    payer_fsp: str | None
    payee: tuple[str, str]
    amount_type: str
    currency: str
    amount: int
    original: str | None
    skip_lookup: bool


def read_transfer(
    body: Mapping[str, Any], exponent: int
) -> tuple[str, TransferAsk, dict[str, Any]]:
    """``(transferId, ask, state)`` of a ``transferRequest``, ``state`` being what the
    adapter echoes of it; raises :class:`BadRequest` for what the API refuses."""
    transfer_id = body.get("transferId") or str(uuid.uuid4())  # as the adapter does
    if not isinstance(transfer_id, str) or not UUID.fullmatch(transfer_id):
        raise BadRequest("transferId must be a UUID")
    amount_type = text(body, "amountType")
    if amount_type not in ("SEND", "RECEIVE") or text(body, "transactionType") != "TRANSFER":
        raise BadRequest("amountType must be SEND or RECEIVE, transactionType TRANSFER")
    amount = minor(text(body, "amount"), exponent)
    if amount == 0:
        raise BadRequest("amount must be positive")
    payer_type, payer_id, payer_fsp = party(body, "from")
    payee_type, payee_id, payee_fsp = party(body, "to")
    skip_lookup = body.get("skipPartyLookup", False)
    if not isinstance(skip_lookup, bool) or (skip_lookup and payee_fsp is None):
        raise BadRequest("skipPartyLookup must be a boolean, and needs to.fspId")
    ask = TransferAsk(
        home=text(body, "homeTransactionId"),
        payer=(payer_type, payer_id),
        payer_fsp=payer_fsp,
        payee=(payee_type, payee_id),
        amount_type=amount_type,
        currency=text(body, "currency"),
        amount=amount,
        original=extensions(body, "quoteRequestExtensions").get(ORIGINAL),
        skip_lookup=skip_lookup,
    )
    echoed = ("homeTransactionId", "from", "to", "amountType", "currency", "amount")
    state = {key: body[key] for key in echoed} | {
        "transferId": transfer_id,
        "transactionType": "TRANSFER",
        "direction": "OUTBOUND",
    }
    return transfer_id, ask, state


def minor(amount: str, exponent: int) -> int:
    """An FSPIOP amount in minor units; more decimals than the currency has are refused."""
    if not _AMOUNT.fullmatch(amount):
        raise BadRequest(f"amount {amount!r} is not an FSPIOP Amount")
    scaled = Decimal(amount).scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise BadRequest(f"amount {amount!r} has more than {exponent} decimals")
    return int(scaled)


def major(value: int, exponent: int) -> str:
    shown = format(Decimal(value).scaleb(-exponent), "f")
    return shown.rstrip("0").rstrip(".") if "." in shown else shown


def now(offset_seconds: int = 0) -> str:
    """An FSPIOP DateTime (milliseconds, UTC)."""
    moment = datetime.now(UTC) + timedelta(seconds=offset_seconds)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def fulfilment_pair(secret: bytes, transfer_id: str) -> tuple[str, str]:
    """``(fulfilment, condition)``: a preimage only this payee can produce, and its hash."""
    preimage = hashlib.sha256(secret + transfer_id.encode()).digest()
    return _b64url(preimage), _b64url(hashlib.sha256(preimage).digest())


def quote(
    *, currency: str, send: int, fee: int, exponent: int, condition: str, payee_fsp: str
) -> dict[str, Any]:
    """The quote fields of a transfer's state: the payer sends ``send``, the payee DFSP
    keeps ``fee`` of it."""

    def money(value: int) -> dict[str, str]:
        return {"currency": currency, "amount": major(value, exponent)}

    body = {
        "transferAmount": money(send),
        "payeeReceiveAmount": money(send - fee),
        "payeeFspFee": money(fee),
        "expiration": now(60),
        "ilpPacket": condition,  # opaque to everyone but the payee
        "condition": condition,
    }
    return {
        "quoteId": str(uuid.uuid4()),
        "quoteResponse": {"body": body, "headers": {"fspiop-source": payee_fsp}},
        "quoteResponseSource": payee_fsp,
    }


def error_answer(code: str, state: Mapping[str, Any], detail: str | None = None) -> dict[str, Any]:
    """The adapter's error body (``handleError``) for an FSPIOP error at some step."""
    description = _ERRORS[code] + (f": {detail}" if detail else "")
    last_error = {
        "httpStatusCode": 500,
        "mojaloopError": {"errorInformation": {"errorCode": code, "errorDescription": description}},
    }
    return {
        "message": description,
        "statusCode": code,
        "transferState": {**state, "currentState": "ERROR_OCCURRED", "lastError": last_error},
    }


def with_undefined_states(answer: Mapping[str, Any]) -> dict[str, Any]:
    """``answer`` with every state replaced by a value the API does not define."""
    changed = copy.deepcopy(dict(answer))
    for state in (changed, changed.get("transferState")):
        if isinstance(state, dict):
            if "currentState" in state:
                state["currentState"] = "PROCESSING"
            fulfil = state.get("fulfil")
            if isinstance(fulfil, dict) and isinstance(fulfil.get("body"), dict):
                fulfil["body"]["transferState"] = "SETTLING"
    return changed


def encode(body: object) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
