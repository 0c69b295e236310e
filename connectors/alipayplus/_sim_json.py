"""Alipay+ bodies as plain JSON, for the simulator.

The simulator reads the wire with these few functions rather than through the connector's
models, so that a field the connector misnames is caught instead of agreed on by both sides.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["BadRequest", "encode", "money", "now", "result", "success", "text"]

_DIGITS = re.compile(r"[0-9]+")


class BadRequest(Exception):
    """Raised when a request body lacks a field or has one of the wrong shape."""


def result(status: str, code: str, message: str) -> dict[str, Any]:
    """An Alipay+ ``result`` response body."""
    return {"result": {"resultCode": code, "resultStatus": status, "resultMessage": message}}


def success(**fields: Any) -> dict[str, Any]:
    return result("S", "SUCCESS", "Success") | fields


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def text(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{key} must be a non-empty string")
    return value


def money(body: Mapping[str, Any], key: str) -> tuple[str, int]:
    value = body.get(key)
    if not isinstance(value, Mapping):
        raise BadRequest(f"{key} must be an amount object")
    digits = text(value, "value")
    # Alipay+ sends minor units as a string of digits: "100", never 100 or "1.00".
    if not _DIGITS.fullmatch(digits) or int(digits) == 0:
        raise BadRequest(f"{key}.value must be a positive integer string")
    return text(value, "currency"), int(digits)


def encode(body: object) -> bytes:
    """Compact UTF-8 JSON, as a wallet would send it."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
