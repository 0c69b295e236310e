"""The faults a simulated wallet injects on demand (``POST /_sim/faults``).

Not part of SNAP: the conformance kit's control API, the same for every simulator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["Faults"]

_KEYS = frozenset({"latency_seconds", "unknown_status"})


@dataclass
class Faults:
    """``latency_seconds`` delays every wallet answer (after the books are written);
    ``unknown_status`` makes pay and status answers carry a status SNAP does not define."""

    latency_seconds: float = 0.0
    unknown_status: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"latency_seconds": self.latency_seconds, "unknown_status": self.unknown_status}

    def update(self, wanted: object) -> str | None:
        """Apply ``wanted`` (decoded JSON, either key optional) whole, or return why not."""
        if not isinstance(wanted, dict) or not wanted.keys() <= _KEYS:
            return f"expected an object with keys among {sorted(_KEYS)}"
        latency = wanted.get("latency_seconds", self.latency_seconds)
        unknown = wanted.get("unknown_status", self.unknown_status)
        if isinstance(latency, bool) or not isinstance(latency, int | float):
            return "latency_seconds must be a number"
        if not math.isfinite(latency) or latency < 0:
            return "latency_seconds must be finite and >= 0"
        if not isinstance(unknown, bool):
            return "unknown_status must be true or false"
        self.latency_seconds, self.unknown_status = float(latency), unknown
        return None

    def distort(self, body: dict[str, Any], service: str) -> dict[str, Any]:
        """``body`` as sent under the faults: with ``unknown_status``, a pay (54) or status
        (55) answer speaks a status SNAP does not define."""
        if not self.unknown_status or service not in ("54", "55"):
            return body
        if "latestTransactionStatus" in body:
            return body | {"latestTransactionStatus": "99"}
        return body | {"responseCode": f"200{service}99", "responseMessage": "Unrecognised"}
