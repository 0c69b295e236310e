"""The faults a simulated wallet injects on demand (``POST /_sim/faults``).

Not part of SNAP: the conformance kit's control API, the same for every simulator, plus
the random faults of :class:`connectors.simulation.RandomFaults` (``reject_rate``,
``error_rate``, ``drop_rate``, ``slow_rate`` with ``slow_seconds``, and ``seed``) that
``causeway chaos`` injects; they strike pay, status, cancel and refund alike.
"""

from __future__ import annotations

from typing import Any

from connectors import simulation

__all__ = ["Faults"]


class Faults(simulation.RandomFaults):
    """``latency_seconds`` delays every wallet answer (after the books are written);
    ``unknown_status`` makes pay and status answers carry a status SNAP does not define;
    the random faults strike a share of the calls (see :class:`RandomFaults`)."""

    def to_json(self) -> dict[str, Any]:
        # The random faults are shown once set: callers who set none see what they did.
        return self.in_force()

    def distort(self, body: dict[str, Any], service: str) -> dict[str, Any]:
        """``body`` as sent under the faults: with ``unknown_status``, a pay (54) or status
        (55) answer speaks a status SNAP does not define."""
        if not self.unknown_status or service not in ("54", "55"):
            return body
        if "latestTransactionStatus" in body:
            return body | {"latestTransactionStatus": "99"}
        return body | {"responseCode": f"200{service}99", "responseMessage": "Unrecognised"}
