"""The simulator's fault switch: ``POST /_sim/faults``, as :mod:`connectors.conformance`
documents it."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["Faults", "faults_route"]


@dataclass
class Faults:
    """The faults in force: ``latency_seconds`` delays every wallet answer (after the books
    are written); ``unknown_status`` puts an undefined status in pay and inquiry answers."""

    latency_seconds: float = 0.0
    unknown_status: bool = False


def _invalid(message: str) -> Response:
    return JSONResponse({"error": message}, 400)


def faults_route(faults: Faults) -> Route:
    """``POST /_sim/faults``: change some faults, answer with all of them; 400 and no change
    for anything but ``{"latency_seconds": number >= 0, "unknown_status": bool}`` (either
    key optional)."""

    async def set_faults(request: Request) -> Response:
        try:
            wanted = json.loads(await request.body())
        except ValueError:
            return _invalid("the body must be a JSON object")
        if not isinstance(wanted, dict):
            return _invalid("the body must be a JSON object")
        unknown = sorted(set(wanted) - {"latency_seconds", "unknown_status"})
        if unknown:
            return _invalid(f"unknown faults: {unknown}")
        latency = wanted.get("latency_seconds", faults.latency_seconds)
        if (
            isinstance(latency, bool)
            or not isinstance(latency, int | float)
            or not math.isfinite(latency)
            or latency < 0
        ):
            return _invalid("latency_seconds must be a finite number >= 0")
        unknown_status = wanted.get("unknown_status", faults.unknown_status)
        if not isinstance(unknown_status, bool):
            return _invalid("unknown_status must be true or false")
        faults.latency_seconds = float(latency)
        faults.unknown_status = unknown_status
        return JSONResponse(asdict(faults))

    return Route("/_sim/faults", set_faults, methods=["POST"])
