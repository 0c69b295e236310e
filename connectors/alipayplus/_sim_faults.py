"""The faults the simulated wallet can be told to inject (``POST /_sim/faults``).

``latency_seconds`` delays every answer after the books are written; ``unknown_status``
makes pay and inquiry answers carry a ``resultStatus`` Alipay+ does not define, the books
being written as usual. The random faults of :class:`connectors.simulation.RandomFaults`
(``reject_rate``, ``error_rate``, ``drop_rate``, ``slow_rate`` with ``slow_seconds``, and
``seed``) strike pay, inquiry, cancel and refund alike. A body sets the keys it names and
leaves the others as they are.
"""

from __future__ import annotations

import copy
from typing import Any

from connectors import simulation

__all__ = ["UNDEFINED_STATUS", "Faults"]

#: Neither S, F nor U: what a wallet that grew a new status would send.
UNDEFINED_STATUS = "P"


class Faults(simulation.RandomFaults):
    """The faults in force; changed at run time through the control API."""

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
