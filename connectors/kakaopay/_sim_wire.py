"""KakaoPay bodies as plain JSON, and the control API's faults, for the simulator.

The simulator reads and writes the wire with these few functions and constants rather than
through the connector's models, so that a field or a code the connector gets wrong is
caught by the tests instead of agreed on by both sides.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = [
    "CANCEL_AMOUNT_EXCEEDED",
    "INCONSISTENT_ORDER",
    "INVALID_PARAMETER",
    "INVALID_STATUS",
    "ORDER_NOT_FOUND",
    "UNAUTHORIZED",
    "Answer",
    "WalletError",
    "amount",
    "encode",
    "error_body",
    "integer",
    "now",
    "optional_text",
    "text",
]

#: (HTTP status, JSON body): what a KakaoPay endpoint answers.
Answer = tuple[int, dict[str, Any]]

INVALID_PARAMETER = -2
UNAUTHORIZED = -401
INVALID_STATUS = -702
ORDER_NOT_FOUND = -721
INCONSISTENT_ORDER = -726
CANCEL_AMOUNT_EXCEEDED = -798

_KST = timezone(timedelta(hours=9))


def error_body(code: int, message: str, extras: Mapping[str, str] | None = None) -> dict[str, Any]:
    """KakaoPay's open-API error body."""
    body: dict[str, Any] = {"error_code": code, "error_message": message}
    if extras is not None:
        body["extras"] = dict(extras)
    return body


class WalletError(Exception):
    """Raised inside the books for a KakaoPay error answer (HTTP 400 unless told)."""

    def __init__(self, code: int, message: str, *, http_status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status

    def answer(self) -> Answer:
        return self.http_status, error_body(self.code, str(self))


def now() -> str:
    """KakaoPay's timestamp: Korean local time, to the second, without an offset."""
    return datetime.now(_KST).strftime("%Y-%m-%dT%H:%M:%S")


def text(body: Mapping[str, Any], key: str, *, limit: int = 100) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise WalletError(INVALID_PARAMETER, f"{key} must be a string of 1 to {limit} characters")
    return value


def optional_text(body: Mapping[str, Any], key: str, *, limit: int = 200) -> str | None:
    return None if body.get(key) is None else text(body, key, limit=limit)


def integer(body: Mapping[str, Any], key: str, *, minimum: int = 0) -> int:
    value = body.get(key)
    # KakaoPay's amounts are JSON integers: "1000", 1000.0 and true are not.
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise WalletError(INVALID_PARAMETER, f"{key} must be an integer >= {minimum}")
    return value


def amount(total: int, tax_free: int = 0) -> dict[str, int]:
    """An amount object; ``vat`` as KakaoPay derives it, (total - tax free) / 11, rounded."""
    return {
        "total": total,
        "tax_free": tax_free,
        "vat": (total - tax_free + 5) // 11,
        "point": 0,
        "discount": 0,
        "green_deposit": 0,
    }


def encode(body: object) -> bytes:
    """Compact UTF-8 JSON, as KakaoPay sends it."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
