"""Daraja bodies as plain JSON, for the simulator.

The simulator reads the wire with these few functions rather than through the connector's
models, so that a field the connector misnames is caught instead of agreed on by both sides.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from starlette.responses import Response

__all__ = [
    "EAT",
    "BadRequest",
    "DarajaFailure",
    "callback",
    "daraja_error",
    "encode",
    "new_id",
    "number",
    "reversal_success",
    "stamp",
    "stk_callback",
    "stk_password",
    "text",
]

EAT = timezone(timedelta(hours=3), "EAT")
_DIGITS = re.compile(r"[0-9]+")


class DarajaFailure(Exception):
    """Raised to answer with Daraja's gateway error body; the HTTP status is the first part
    of ``errorCode`` (``404.001.03`` is an HTTP 404), as Daraja's codes are built."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def response(self) -> Response:
        return daraja_error(self.code, self.message)


class BadRequest(DarajaFailure):
    """Raised when a field is missing or malformed: ``400.002.02 Bad Request - Invalid X``."""

    def __init__(self, field: str) -> None:
        super().__init__("400.002.02", f"Bad Request - Invalid {field}")


def encode(body: object) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def callback(url: str, body: object) -> dict[str, Any]:
    """What M-Pesa would POST to ``url``, as ``GET /_sim/callbacks`` lists it (the shape the
    conformance kit reads): the path and query on the hub, the headers, the body as sent."""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return {
        "method": "POST",
        "path": path,
        "headers": {"content-type": "application/json"},
        "body": encode(body).decode(),
    }


def daraja_error(code: str, message: str) -> Response:
    body = {"requestId": new_id("req"), "errorCode": code, "errorMessage": message}
    return Response(
        encode(body), status_code=int(code.split(".")[0]), media_type="application/json"
    )


def new_id(kind: str) -> str:
    """Ids shaped like Daraja's: ``ws_CO_…`` checkouts, ``AG_…`` conversations, receipts."""
    match kind:
        case "receipt":
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
            return "".join(secrets.choice(alphabet) for _ in range(10))
        case "checkout":
            return f"ws_CO_{secrets.randbelow(10**20):020d}"
        case "conversation":
            return f"AG_{secrets.token_hex(10)}"
        case _:
            return f"{secrets.randbelow(10**5)}-{secrets.randbelow(10**8)}-1"


def stamp(moment: datetime) -> str:
    return moment.astimezone(EAT).strftime("%Y%m%d%H%M%S")


def stk_password(shortcode: str, passkey: str, timestamp: str) -> str:
    return base64.b64encode(f"{shortcode}{passkey}{timestamp}".encode()).decode()


def text(body: Mapping[str, Any], key: str, *, numeric: bool = False) -> str:
    """A non-empty string field; identifiers may come as JSON numbers, as in Daraja's own
    samples (``"PartyA": 254708374149``)."""
    value = body.get(key)
    if numeric and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(key)
    if numeric and not _DIGITS.fullmatch(value):
        raise BadRequest(key)
    return value


def number(body: Mapping[str, Any], key: str) -> int:
    """A positive whole number: Daraja's ``Amount`` ("only whole numbers are supported")."""
    value = body.get(key)
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadRequest(key)
    return value


def stk_callback(
    merchant_request_id: str,
    checkout_request_id: str,
    code: str,
    description: str,
    paid: tuple[str, int, str, datetime] | None,
) -> dict[str, Any]:
    """What M-Pesa POSTs to ``CallBackURL``; ``paid`` is (receipt, shillings, MSISDN, time)
    for a success, whose metadata Daraja sends as numbers where it can."""
    callback: dict[str, Any] = {
        "MerchantRequestID": merchant_request_id,
        "CheckoutRequestID": checkout_request_id,
        "ResultCode": int(code),
        "ResultDesc": description,
    }
    if paid is not None:
        receipt, shillings, msisdn, moment = paid
        callback["CallbackMetadata"] = {
            "Item": [
                {"Name": "Amount", "Value": shillings},
                {"Name": "MpesaReceiptNumber", "Value": receipt},
                {"Name": "Balance"},
                {"Name": "TransactionDate", "Value": int(stamp(moment))},
                {"Name": "PhoneNumber", "Value": int(msisdn)},
            ]
        }
    return {"Body": {"stkCallback": callback}}


def reversal_success(original: str, shillings: int, moment: datetime) -> dict[str, Any]:
    """The ``Result`` of a reversal that moved money (without the conversation ids)."""
    parameters = [
        {"Key": "Amount", "Value": shillings},
        {"Key": "OriginalTransactionID", "Value": original},
        {"Key": "TransCompletedTime", "Value": int(stamp(moment))},
    ]
    return {
        "ResultType": 0,
        "ResultCode": 0,
        "ResultDesc": "The service request is processed successfully.",
        "TransactionID": new_id("receipt"),
        "ResultParameters": {"ResultParameter": parameters},
    }
