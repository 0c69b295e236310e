"""SNAP bodies, and the simulator's own records, as plain JSON.

The simulator reads the wire with these few functions rather than through the connector's
models, so that a field the connector misnames is caught instead of agreed on by both sides.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal

__all__ = [
    "Answer",
    "LedgerEntry",
    "SnapError",
    "encode",
    "money",
    "now",
    "ok",
    "optional_text",
    "text",
]

_WIB = timezone(timedelta(hours=7))
# SNAP amounts are "ISO 4217 (16,2)": digits, a point, exactly two decimals.
_AMOUNT = re.compile(r"([0-9]{1,14})\.([0-9]{2})")


@dataclass(frozen=True, slots=True)
class Answer:
    """One SNAP answer, before the service code is known: ``Answer(403, "14", ...)`` is
    ``4035414`` when service 54 sends it, with HTTP status 403."""

    http: int
    case: str
    message: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def code(self, service: str) -> str:
        return f"{self.http}{service}{self.case}"

    def body(self, service: str) -> dict[str, Any]:
        return {"responseCode": self.code(service), "responseMessage": self.message, **self.fields}


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One movement of money on a customer's account (minor units)."""

    kind: Literal["pay", "reverse", "refund"]
    partner_reference_no: str
    partner_refund_no: str | None
    customer_id: str
    amount: int
    currency: str
    time: str

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def ok(**fields: Any) -> Answer:
    return Answer(200, "00", "Successful", fields)


class SnapError(Exception):
    """Raised with the answer to give when a request cannot be served as it stands."""

    def __init__(self, http: int, case: str, message: str) -> None:
        super().__init__(message)
        self.answer = Answer(http, case, message)


def now() -> str:
    """The wallet's clock, as SNAP writes times (Jakarta)."""
    return datetime.now(UTC).astimezone(_WIB).isoformat(timespec="seconds")


def text(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None or value == "":
        raise SnapError(400, "02", f"Invalid Mandatory Field {key}")
    if not isinstance(value, str):
        raise SnapError(400, "01", f"Invalid Field Format {key}")
    return value


def optional_text(body: Mapping[str, Any], key: str) -> str | None:
    return None if body.get(key) in (None, "") else text(body, key)


def money(body: Mapping[str, Any], key: str) -> tuple[str, int]:
    """``(currency, minor units)`` of an amount object, whose currency has two decimals."""
    value = body.get(key)
    if not isinstance(value, Mapping):
        raise SnapError(400, "02", f"Invalid Mandatory Field {key}")
    matched = _AMOUNT.fullmatch(text(value, "value"))
    if matched is None or int(matched[1] + matched[2]) == 0:
        raise SnapError(400, "01", f"Invalid Field Format {key}.value")
    return text(value, "currency"), int(matched[1]) * 100 + int(matched[2])


def encode(body: object) -> bytes:
    """Compact UTF-8 JSON, as a wallet would send it."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
