"""The simulator's control API: not part of Daraja, the same for every Causeway simulator.

``GET /_sim/stats``, ``/_sim/ledger``, ``/_sim/accounts`` and ``/_sim/callbacks`` read the
books (letting every due phone answer first); ``POST /_sim/faults`` changes the faults in
force (see :mod:`connectors.conformance`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.mpesa._sim_book import MpesaBook

__all__ = ["Faults", "control_routes"]

_FAULTS = frozenset({"latency_seconds", "unknown_status"})


@dataclass
class Faults:
    """What the simulator is told to get wrong; each stays until changed."""

    latency_seconds: float = 0.0
    unknown_status: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"latency_seconds": self.latency_seconds, "unknown_status": self.unknown_status}


def control_routes(
    book: MpesaBook, faults: Faults, lock: asyncio.Lock, clock: Callable[[], datetime]
) -> list[Route]:
    async def settled() -> MpesaBook:
        # The phone answers lazily: looking at the books lets every due answer happen.
        async with lock:
            book.settle(clock())
        return book

    async def stats(request: Request) -> Response:
        books = await settled()
        return JSONResponse({"pay_requests": books.pay_requests, "charges": books.charges})

    async def ledger(request: Request) -> Response:
        return JSONResponse([entry.to_json() for entry in (await settled()).ledger])

    async def accounts(request: Request) -> Response:
        return JSONResponse(
            [
                {"msisdn": a.msisdn, "name": a.name, "balance": a.balance, "currency": "KES"}
                for a in (await settled()).accounts
            ]
        )

    async def callbacks(request: Request) -> Response:
        return JSONResponse((await settled()).callbacks)

    async def set_faults(request: Request) -> Response:
        try:
            wanted = json.loads(await request.body())
        except ValueError:
            wanted = None
        if not isinstance(wanted, dict) or not set(wanted) <= _FAULTS:
            return JSONResponse({"error": "expected latency_seconds and/or unknown_status"}, 400)
        latency = wanted.get("latency_seconds", faults.latency_seconds)
        unknown = wanted.get("unknown_status", faults.unknown_status)
        if isinstance(latency, bool) or not isinstance(latency, int | float) or latency < 0:
            return JSONResponse({"error": "latency_seconds must be a number >= 0"}, 400)
        if not isinstance(unknown, bool):
            return JSONResponse({"error": "unknown_status must be true or false"}, 400)
        faults.latency_seconds, faults.unknown_status = float(latency), unknown
        return JSONResponse(faults.to_json())

    return [
        Route("/_sim/stats", stats, methods=["GET"]),
        Route("/_sim/ledger", ledger, methods=["GET"]),
        Route("/_sim/accounts", accounts, methods=["GET"]),
        Route("/_sim/callbacks", callbacks, methods=["GET"]),
        Route("/_sim/faults", set_faults, methods=["POST"]),
    ]
