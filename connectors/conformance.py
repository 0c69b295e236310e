"""The conformance kit: the standard scenarios every connector must pass.

A connector ships a *target*: how to build it against a base URL, the simulator (or
sandbox) it talks to, and the travellers and amounts the scenarios use. The kit serves the
simulator on loopback, points the connector at it, and runs the scenarios through the real
transport boundary (:func:`connectors.exchange`). The scenarios themselves are the pytest
plugin :mod:`connectors.conformance_suite`; this module has no pytest in it, so that a
simulator can import :class:`ConformanceTarget` at run time.

Every simulator answers the same control API (not part of any wallet's protocol), which the
scenarios use to inject faults and to check the wallet's own books::

    GET  /_sim/stats     {"pay_requests": n, "charges": n}   charges = payments that moved money
    GET  /_sim/ledger    [{"kind": "pay" | "reverse" | "refund", ...}, ...]
    POST /_sim/faults    {"latency_seconds": 0.5, "unknown_status": true}
                         latency is applied after the books are written (a timeout hides a
                         real charge); unknown_status makes pay and inquiry answers (and the
                         answers to a refund lookup) carry a status the protocol does not
                         define, the books being written as usual. Either key may be sent
                         alone; each stays until changed.

and, optionally, for a wallet that calls the hub back::

    GET  /_sim/callbacks [{"method": "POST", "path": "/notify?x=1",
                           "headers": {"content-type": "application/json", ...},
                           "body": "<the body, as text>"}, ...]
                         every callback the wallet would have sent, oldest first (recorded,
                         never sent): the path and query on the hub it would call (the
                         callback URL the connector gave it), the headers (signature
                         included) and the exact body.

When the connector is a :class:`~connectors.NotificationParser` and the simulator answers
``/_sim/callbacks`` (a 404 means it does not), the kit hands each recorded callback to
``parse_notification`` as an :class:`httpx.Request` (to ``https://causeway-hub.invalid``
plus its path), checks that ``acknowledge`` answers it with a 2xx, and resolves a pending
pay or refund by what the callbacks say before it inquires or sends the refund again.

When the connector is a :class:`~connectors.RefundInquiry`, the kit looks refunds up as the
core does before it sends one again (:meth:`ConformanceWallet.look_up_refund`): one the
wallet made must be ``FOUND`` under the id the wallet gave it, one never sent ``ABSENT``
(beside another of the same payment and amount too). An answer it cannot read (a spoilt
body, a 5xx) is ``UNKNOWN`` or a :class:`~connectors.WalletProtocolError`, and one that
carries an unknown status is never ``ABSENT``, nor ``FOUND`` for a refund never sent.

A target for a sandbox has ``simulator=None`` and a fixed ``base_url``; the scenarios that
need the control API are then skipped.

Example (a wallet's own script, or a benchmark)::

    async with open_wallet(find_target("alipayplus")) as wallet:
        request = wallet.new_pay()
        result = await wallet.paid(request)  # pending answers resolved as the core would
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from types import ModuleType

import httpx
from starlette.types import ASGIApp

from connectors import Connector
from connectors._conformance_wallet import ConformanceWallet, SimulatorStats
from connectors._loopback import serve_on_loopback
from connectors._registry import kinds, locate

__all__ = [
    "ConformanceTarget",
    "ConformanceWallet",
    "SimulatorStats",
    "conformance_kinds",
    "find_target",
    "open_wallet",
]


@dataclass(frozen=True)
class ConformanceTarget:
    """One connector and the wallet it reaches, ready for the standard scenarios.

    ``connect(base_url)`` builds the connector configured for that base URL.
    ``payer`` and ``poor_payer`` are what :attr:`PayRequest.payment_code` carries for this
    protocol (a payment code, an auth code, a phone number...): the first can pay
    ``pay_to_amount`` (minor units of ``wallet_currency``) many times over, the second not
    once. ``pay_to_amount`` is a multiple of the connector's ``capabilities.amount_step``,
    and at least two steps (a partial refund needs a part); ``payment_amount`` is the same
    purchase in ``payment_currency``, at least 2. ``secrets`` are strings (keys, passwords)
    that must never appear in a ``repr`` or a log line (a multi-line one, such as a PEM
    key, is also looked for line by line, since a ``repr`` escapes newlines).

    ``unknown_payer`` is a well-formed payer the wallet does not know (the decline
    scenario is skipped without one). ``settle_seconds`` bounds how long the scenarios wait
    for a pending answer to become final, by callbacks, inquiring (pay) or sending again
    (cancel, refund): asynchronous protocols and sandboxes need longer than a simulator.
    ``signed_callbacks`` says the wallet signs its callbacks and the connector verifies
    them: a callback altered to name another payment must then be refused, where for an
    unsigned protocol it must parse and name that payment.

    A fresh target (and simulator) per test keeps scenarios apart, but they also work
    against shared state: they use fresh request ids and compare counts before and after.
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
    unknown_payer: str | None = None
    settle_seconds: float = 5.0
    signed_callbacks: bool = False


def find_target(kind: str) -> ConformanceTarget:
    """The target the package of ``kind`` ships: ``<module>.simulator.conformance_target()``,
    where ``<module>`` holds the connector (``connectors.alipayplus``, ``gopay_connector``).
    """
    target: ConformanceTarget = _simulator_of(kind).conformance_target()
    return target


def conformance_kinds() -> list[str]:
    """The registered kinds whose package imports and ships a ``conformance_target``.

    A package that does not import is left out rather than raised: for a bundled kind the
    registry's own tests fail on it, and one broken plug-in must not stop the others' runs.
    """
    return [
        kind
        for kind in kinds()
        if callable(getattr(_importable_simulator(kind), "conformance_target", None))
    ]


def _simulator_of(kind: str) -> ModuleType:
    return importlib.import_module(f"{locate(kind).module}.simulator")


def _importable_simulator(kind: str) -> ModuleType | None:
    try:
        return _simulator_of(kind)
    except Exception:  # whatever a half-written package raises, it is not in the run
        return None


@asynccontextmanager
async def open_wallet(target: ConformanceTarget) -> AsyncIterator[ConformanceWallet]:
    """Serve the target's simulator on loopback (or use its ``base_url`` when it has no
    simulator) and yield its connector connected to it."""
    async with AsyncExitStack() as stack:
        if target.simulator is not None:
            url = await stack.enter_async_context(serve_on_loopback(target.simulator))
        elif target.base_url is not None:
            url = target.base_url.rstrip("/")
        else:
            raise ValueError(f"target {target.name!r} has neither a simulator nor a base_url")
        # Loopback must not be sent through a proxy named in the environment; a sandbox
        # may well need one.
        client = await stack.enter_async_context(
            httpx.AsyncClient(trust_env=target.simulator is None)
        )
        yield ConformanceWallet(target, target.connect(url), client, url)
