"""The control API every simulator answers, ready-made (see :mod:`connectors.conformance`).

A simulator keeps a :class:`Faults` and serves :func:`control_routes` next to its wallet
routes; it reads ``faults.unknown_status`` where it writes a status and awaits
:meth:`Faults.delay` once its books are written::

    faults = Faults(latency_seconds=wallet.latency_seconds)
    app = Starlette(routes=[
        Route("/charges", charge, methods=["POST"]),
        *control_routes(
            faults,
            stats=lambda: {"pay_requests": book.pay_requests, "charges": book.charges},
            ledger=lambda: [entry.to_json() for entry in book.ledger],
            views={"accounts": book.accounts_json},
            lock=lock,
        ),
    ])

Not part of the connector SDK proper (``connectors.__all__``): only simulators need
Starlette.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["Faults", "control_routes"]

_KEYS = ("latency_seconds", "unknown_status")


@dataclass
class Faults:
    """The faults in force; each stays until changed. ``latency_seconds`` delays every
    wallet answer after the books are written; ``unknown_status`` makes pay and inquiry
    answers carry a status the wallet's protocol does not define."""

    latency_seconds: float = 0.0
    unknown_status: bool = False

    def to_json(self) -> dict[str, Any]:
        """All the faults, as ``POST /_sim/faults`` answers them."""
        return {"latency_seconds": self.latency_seconds, "unknown_status": self.unknown_status}

    def update(self, wanted: object) -> dict[str, Any]:
        """Set the faults ``wanted`` (a decoded JSON body) names; return them as set.

        Raises ``ValueError`` saying what is wrong, and changes nothing, unless ``wanted``
        is an object of known keys: ``latency_seconds`` a finite number >= 0,
        ``unknown_status`` true or false.
        """
        if not isinstance(wanted, dict):
            raise ValueError(f"expected an object with keys among {list(_KEYS)}")
        unknown = sorted(set(wanted) - set(_KEYS))
        if unknown:
            raise ValueError(f"unknown faults: {unknown}")
        latency = wanted.get("latency_seconds", self.latency_seconds)
        if (
            isinstance(latency, bool)
            or not isinstance(latency, int | float)
            or not math.isfinite(latency)
            or latency < 0
        ):
            raise ValueError("latency_seconds must be a finite number >= 0")
        unknown_status = wanted.get("unknown_status", self.unknown_status)
        if not isinstance(unknown_status, bool):
            raise ValueError("unknown_status must be true or false")
        self.latency_seconds, self.unknown_status = float(latency), unknown_status
        return {key: getattr(self, key) for key in wanted}

    async def delay(self) -> None:
        """Wait ``latency_seconds``. Await it after the books are written: a slow answer to
        a committed charge is the case a hub must survive (its timeout hides a payment
        that did happen)."""
        if self.latency_seconds > 0:
            await asyncio.sleep(self.latency_seconds)


def control_routes(
    faults: Faults,
    *,
    stats: Callable[[], object],
    ledger: Callable[[], object],
    views: Mapping[str, Callable[[], object]] | None = None,
    lock: asyncio.Lock | None = None,
    settle: Callable[[], object] | None = None,
    answer: Literal["in force", "set"] = "in force",
) -> list[Route]:
    """``GET /_sim/stats``, ``GET /_sim/ledger``, ``GET /_sim/<name>`` for each of ``views``
    and ``POST /_sim/faults``.

    Each ``GET`` answers what its callable returns, as JSON, read under ``lock`` after
    ``settle()`` (a wallet that does things later, such as a traveller approving, catches
    up first). ``POST /_sim/faults`` applies :meth:`Faults.update` whole or answers 400
    with ``{"error": ...}`` and changes nothing; it answers all the faults in force, or
    with ``answer="set"`` only those the body named (a body naming none is then a 400).
    """
    guard = lock if lock is not None else asyncio.Lock()

    def reader(view: Callable[[], object]) -> Callable[[Request], Any]:
        async def read(request: Request) -> Response:
            async with guard:
                if settle is not None:
                    settle()
                return JSONResponse(view())

        return read

    async def set_faults(request: Request) -> Response:
        try:
            wanted = json.loads(await request.body())
        except ValueError:  # json.JSONDecodeError is one
            return JSONResponse({"error": "the body is not JSON"}, 400)
        if answer == "set" and not wanted:
            return JSONResponse({"error": "the body must name at least one fault"}, 400)
        try:
            changed = faults.update(wanted)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse(changed if answer == "set" else faults.to_json())

    readers = {"stats": stats, "ledger": ledger, **(views or {})}
    return [
        *(Route(f"/_sim/{name}", reader(view), methods=["GET"]) for name, view in readers.items()),
        Route("/_sim/faults", set_faults, methods=["POST"]),
    ]
