"""The faults a simulated wallet injects on demand (``POST /_sim/faults``).

Not part of SNAP: the conformance kit's control API, the same for every simulator.
"""

from __future__ import annotations

from typing import Any

from connectors import simulation

__all__ = ["Faults"]


class Faults(simulation.Faults):
    """``latency_seconds`` delays every wallet answer (after the books are written);
    ``unknown_status`` makes pay and status answers carry a status SNAP does not define."""

    def distort(self, body: dict[str, Any], service: str) -> dict[str, Any]:
        """``body`` as sent under the faults: with ``unknown_status``, a pay (54) or status
        (55) answer speaks a status SNAP does not define."""
        if not self.unknown_status or service not in ("54", "55"):
            return body
        if "latestTransactionStatus" in body:
            return body | {"latestTransactionStatus": "99"}
        return body | {"responseCode": f"200{service}99", "responseMessage": "Unrecognised"}
