"""The faults the simulated wallet injects on demand (``POST /_sim/faults``).

Not part of WeChat Pay: the conformance kit's control API (``latency_seconds``,
``unknown_status``), plus the random faults of :class:`connectors.simulation.RandomFaults`
(``reject_rate``, ``error_rate``, ``drop_rate``, ``slow_rate`` with ``slow_seconds``, and
``seed``) that ``causeway chaos`` injects; they strike micropay, orderquery, reverse and
refund alike. A body sets the keys it names and leaves the others as they are.
"""

from __future__ import annotations

from typing import Any

from connectors import simulation

__all__ = ["UNDEFINED_STATUS", "Faults"]

#: The value the ``unknown_status`` fault puts where a status belongs: not a WeChat one.
UNDEFINED_STATUS = "PROCESSING"


class Faults(simulation.RandomFaults):
    """The faults in force; changed at run time through the control API."""

    def to_json(self) -> dict[str, Any]:
        # The random faults are shown once set: callers who set none see what they did.
        return self.in_force()

    def disguise(self, business: dict[str, str], status_field: str | None) -> dict[str, str]:
        """``business`` (the operation's part of an answer) with the status in
        ``status_field`` (or ``result_code`` where the answer has none) replaced by an
        undefined one while ``unknown_status`` is in force. A copy."""
        if not self.unknown_status or status_field is None:
            return business
        where = status_field if status_field in business else "result_code"
        return business | {where: UNDEFINED_STATUS}
