"""The faults the simulated scheme injects on demand (``POST /_sim/faults``).

Not part of Mojaloop: the conformance kit's control API (``latency_seconds``,
``unknown_status``), plus the random faults of :class:`connectors.simulation.RandomFaults`
(``reject_rate``, ``error_rate``, ``drop_rate``, ``slow_rate`` with ``slow_seconds``, and
``seed``) that ``causeway chaos`` injects; they strike payments, refunds and inquiries
alike. A body sets the keys it names and leaves the others as they are.
"""

from __future__ import annotations

from typing import Any

from connectors import simulation

__all__ = ["Faults"]


class Faults(simulation.RandomFaults):
    """The faults in force; changed at run time through the control API."""

    def to_json(self) -> dict[str, Any]:
        # The random faults are shown once set: callers who set none see what they did.
        return self.in_force()
