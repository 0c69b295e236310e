"""The conformance kit: the standard scenarios every connector must pass.

A connector ships a *target*: how to build it against a base URL, the simulator (or
sandbox) it talks to, and the travellers and amounts the scenarios use. The kit serves the
simulator on loopback, points the connector at it, and runs the scenarios through the real
transport boundary (:func:`connectors.exchange`).

Every simulator answers the same control API (not part of any wallet's protocol), which the
scenarios use to inject faults and to check the wallet's own books::

    GET  /_sim/stats     {"pay_requests": n, "charges": n}   charges = payments that moved money
    GET  /_sim/ledger    [{"kind": "pay" | "reverse" | "refund", ...}, ...]
    POST /_sim/faults    {"latency_seconds": 0.5, "unknown_status": true}
                         latency is applied after the books are written (a timeout hides a
                         real charge); unknown_status makes pay and inquiry answers carry a
                         status the protocol does not define

A target for a sandbox has ``simulator=None`` and a fixed ``base_url``; the scenarios that
need the control API are then skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.types import ASGIApp

from connectors._contract import Connector

__all__ = ["ConformanceTarget"]


@dataclass(frozen=True)
class ConformanceTarget:
    """One connector and the wallet it reaches, ready for the standard scenarios.

    ``connect(base_url)`` builds the connector configured for that base URL.
    ``payer`` and ``poor_payer`` are what :attr:`PayRequest.payment_code` carries for this
    protocol (a payment code, an auth code, a phone number...): the first can pay
    ``pay_to_amount`` (minor units of ``wallet_currency``), the second cannot.
    ``payment_amount`` is the same purchase in ``payment_currency``. ``secrets`` are strings
    (keys, passwords) that must never appear in a ``repr`` or a log line.
    """

    name: str
    connect: Callable[[str], Connector]
    simulator: ASGIApp | None
    wallet_currency: str
    payment_currency: str
    payer: str
    poor_payer: str
    pay_to_amount: int
    payment_amount: int
    base_url: str | None = None
    secrets: tuple[str, ...] = field(default=(), repr=False)
