"""The faults the simulated wallet can be told to inject (``POST /_sim/faults``).

``latency_seconds`` delays every answer after the books are written; ``unknown_status``
makes pay and inquiry answers carry a ``resultStatus`` Alipay+ does not define, the books
being written as usual. A body sets the keys it names and leaves the others as they are.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

__all__ = ["UNDEFINED_STATUS", "Faults"]

#: Neither S, F nor U: what a wallet that grew a new status would send.
UNDEFINED_STATUS = "P"


@dataclass
class Faults:
    """The faults in force; changed at run time through the control API."""

    latency_seconds: float = 0.0
    unknown_status: bool = False

    def update(self, wanted: object) -> dict[str, Any]:
        """Set the faults ``wanted`` (a decoded JSON body) names; return what was set.

        Raises ``ValueError`` naming the problem, and changes nothing, when the body is
        not an object of known keys with values of the right type.
        """
        if not isinstance(wanted, dict) or not wanted:
            raise ValueError("the body must be an object naming at least one fault")
        unknown = sorted(set(wanted) - {"latency_seconds", "unknown_status"})
        if unknown:
            raise ValueError(f"unknown faults: {', '.join(unknown)}")
        latency = wanted.get("latency_seconds", self.latency_seconds)
        if isinstance(latency, bool) or not isinstance(latency, int | float) or latency < 0:
            raise ValueError("latency_seconds must be a number >= 0")
        unknown_status = wanted.get("unknown_status", self.unknown_status)
        if not isinstance(unknown_status, bool):
            raise ValueError("unknown_status must be true or false")
        self.latency_seconds = float(latency)
        self.unknown_status = unknown_status
        return {key: getattr(self, key) for key in wanted}

    def disguise(self, answer: dict[str, Any]) -> dict[str, Any]:
        """``answer`` (a pay or inquiry body), with the status that says what happened to
        the payment replaced by an undefined one when ``unknown_status`` is in force.

        A copy: the book keeps the true answer to give again once the fault is cleared.
        """
        if not self.unknown_status:
            return answer
        disguised = copy.deepcopy(answer)
        # In an inquiry answer the payment's state is ``paymentResult``; ``result`` only
        # says the inquiry itself worked.
        disguised.get("paymentResult", disguised["result"])["resultStatus"] = UNDEFINED_STATUS
        return disguised
