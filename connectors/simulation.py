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

A simulator that can also fail at random (5xx before or after the books are written, a
dropped connection, a slow answer: what ``causeway chaos`` injects) keeps a
:class:`RandomFaults` instead and serves its answers through :meth:`RandomFaults.deliver`.

Not part of the connector SDK proper (``connectors.__all__``): only simulators need
Starlette.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

__all__ = ["DroppedResponse", "Faults", "RandomFaults", "control_routes"]


@dataclass
class Faults:
    """The faults in force; each stays until changed. ``latency_seconds`` delays every
    wallet answer after the books are written; ``unknown_status`` makes pay and inquiry
    answers carry a status the wallet's protocol does not define."""

    KEYS: ClassVar[tuple[str, ...]] = ("latency_seconds", "unknown_status")

    latency_seconds: float = 0.0
    unknown_status: bool = False

    def to_json(self) -> dict[str, Any]:
        """All the faults, as ``POST /_sim/faults`` answers them."""
        return {key: getattr(self, key) for key in self.KEYS}

    def update(self, wanted: object) -> dict[str, Any]:
        """Set the faults ``wanted`` (a decoded JSON body) names; return them as set.

        Raises ``ValueError`` saying what is wrong, and changes nothing, unless ``wanted``
        is an object of known keys (:attr:`KEYS`): ``latency_seconds`` a finite number
        >= 0, ``unknown_status`` true or false.
        """
        if not isinstance(wanted, dict):
            raise ValueError(f"expected an object with keys among {list(self.KEYS)}")
        unknown = sorted(set(wanted) - set(self.KEYS))
        if unknown:
            raise ValueError(f"unknown faults: {unknown}")
        checked = self._checked(wanted)
        for key, value in checked.items():
            setattr(self, key, value)
        return {key: getattr(self, key) for key in wanted}

    def _checked(self, wanted: dict[str, Any]) -> dict[str, Any]:
        """The new values of the keys ``wanted`` names, validated; raises ``ValueError``."""
        checked: dict[str, Any] = {}
        if "latency_seconds" in wanted:
            checked["latency_seconds"] = _seconds("latency_seconds", wanted["latency_seconds"])
        if "unknown_status" in wanted:
            unknown_status = wanted["unknown_status"]
            if not isinstance(unknown_status, bool):
                raise ValueError("unknown_status must be true or false")
            checked["unknown_status"] = unknown_status
        return checked

    async def delay(self) -> None:
        """Wait ``latency_seconds``. Await it after the books are written: a slow answer to
        a committed charge is the case a hub must survive (its timeout hides a payment
        that did happen)."""
        if self.latency_seconds > 0:
            await asyncio.sleep(self.latency_seconds)


@dataclass
class RandomFaults(Faults):
    """:class:`Faults`, plus faults that strike a share of the wallet calls at random, for
    the chaos run (``causeway chaos``). Each rate is a probability in [0, 1], drawn
    independently per call from a generator seeded with ``seed`` (setting ``seed``
    restarts the sequence, so a run can be replayed):

    - ``reject_rate``: answer HTTP 503 *before* the books are written (nothing happened);
    - ``error_rate``: write the books, then answer HTTP 500 (it did happen);
    - ``drop_rate``: write the books, then close the connection without an answer;
    - ``slow_rate``: write the books, then answer only after ``slow_seconds`` (longer
      than the hub's timeout, this is a timeout).

    A simulator calls :meth:`refuse` before touching its books and passes its answer
    through :meth:`deliver` after (which also awaits :meth:`delay`)::

        if (refused := faults.refuse()) is not None:
            return refused
        answer = book.pay(body)
        return await faults.deliver(signed(answer))
    """

    KEYS: ClassVar[tuple[str, ...]] = (
        *Faults.KEYS,
        "reject_rate",
        "error_rate",
        "drop_rate",
        "slow_rate",
        "slow_seconds",
        "seed",
    )

    reject_rate: float = 0.0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 0.0
    seed: int | None = None
    #: How often each random fault struck since the app started, by kind.
    struck: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("reject", "error", "drop", "slow"), 0),
        init=False,
        compare=False,
    )
    _random: random.Random = field(
        default_factory=random.Random, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self._random.seed(self.seed)

    def _checked(self, wanted: dict[str, Any]) -> dict[str, Any]:
        checked = super()._checked(wanted)
        for key in ("reject_rate", "error_rate", "drop_rate", "slow_rate"):
            if key in wanted:
                checked[key] = _rate(key, wanted[key])
        if "slow_seconds" in wanted:
            checked["slow_seconds"] = _seconds("slow_seconds", wanted["slow_seconds"])
        if "seed" in wanted:
            seed = wanted["seed"]
            if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
                raise ValueError("seed must be an integer or null")
            checked["seed"] = seed
        return checked

    def update(self, wanted: object) -> dict[str, Any]:
        changed = super().update(wanted)
        if "seed" in changed:
            self._random.seed(self.seed)
        return changed

    def in_force(self) -> dict[str, Any]:
        """The faults of :class:`Faults`, and each random one set away from its default.

        For a simulator that grew random faults after its callers were written: make its
        :meth:`to_json` this, and a caller who never sets a random fault gets the answer
        it always got from ``POST /_sim/faults``.
        """
        defaults = RandomFaults()
        return {
            key: getattr(self, key)
            for key in self.KEYS
            if key in Faults.KEYS or getattr(self, key) != getattr(defaults, key)
        }

    def _strikes(self, kind: str, rate: float, *, unless: bool = False) -> bool:
        # Draw even at rate 0 (or when ``unless`` rules the fault out), so the sequence a
        # seed gives does not depend on which faults are switched on.
        struck = self._random.random() < rate and not unless
        self.struck[kind] += struck
        return struck

    def refuse(self) -> Response | None:
        """A 503 to send instead of serving the call, or ``None`` to serve it."""
        if self._strikes("reject", self.reject_rate):
            return JSONResponse({"error": "simulated outage: nothing was done"}, 503)
        return None

    async def deliver(self, answer: Response) -> Response:
        """What to send once the books are written: ``answer``, late, a 500 or nothing."""
        await self.delay()
        slow = self._strikes("slow", self.slow_rate)
        error = self._strikes("error", self.error_rate)
        drop = self._strikes("drop", self.drop_rate, unless=error)
        if slow and self.slow_seconds > 0:
            await asyncio.sleep(self.slow_seconds)
        if error:
            return JSONResponse({"error": "simulated failure after the books were written"}, 500)
        if drop:
            return DroppedResponse()
        return answer


async def body_of(request: Request) -> bytes | Response:
    """The request's body, or the 400 to answer instead when the caller went away
    mid-request (a hub that crashed, say): nothing was asked, so nothing is done."""
    try:
        return await request.body()
    except ClientDisconnect:
        return Response(status_code=400)


class DroppedResponse(Response):
    """A response that never arrives: the status line and headers promise a body, then
    the app returns, and the server closes the connection (uvicorn logs that the app
    "returned without completing response"). The client sees the connection end
    mid-answer, after its request was processed."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
            }
        )


def _number(value: object) -> float | None:
    """``value`` as a finite float, or None if it is anything else (a bool included)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _seconds(key: str, value: object) -> float:
    number = _number(value)
    if number is None or number < 0:
        raise ValueError(f"{key} must be a finite number >= 0")
    return number


def _rate(key: str, value: object) -> float:
    number = _number(value)
    if number is None or not 0 <= number <= 1:
        raise ValueError(f"{key} must be a number from 0 to 1")
    return number


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
