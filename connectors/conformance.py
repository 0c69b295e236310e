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
                         real charge); unknown_status makes pay and inquiry answers carry a
                         status the protocol does not define, the books being written as
                         usual. Either key may be sent alone; each stays until changed.

A target for a sandbox has ``simulator=None`` and a fixed ``base_url``; the scenarios that
need the control API are then skipped.

Example (a wallet's own script, or a benchmark)::

    async with open_wallet(find_target("alipayplus")) as wallet:
        request = wallet.new_pay()
        result = await wallet.until_final(
            lambda: wallet.pay(request), lambda: wallet.inquire(request.wallet_request_id)
        )
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from secrets import token_hex
from types import ModuleType
from typing import Any, TypeVar

import httpx
from starlette.types import ASGIApp

from connectors import (
    Amount,
    CancelRequest,
    CancelResult,
    Connector,
    InquireRequest,
    Merchant,
    Outcome,
    PaymentResult,
    PayRequest,
    QuoteTerms,
    RefundRequest,
    RefundResult,
    exchange,
)
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

_Request = TypeVar("_Request", PayRequest, InquireRequest, CancelRequest, RefundRequest)
_Result = TypeVar("_Result", PaymentResult, CancelResult, RefundResult)

#: Who the scenarios' payments are for; connectors may need a merchant, never this one.
_MERCHANT = Merchant("M-CONFORMANCE", "Conformance Kit Store", "5812", "SG")


@dataclass(frozen=True)
class ConformanceTarget:
    """One connector and the wallet it reaches, ready for the standard scenarios.

    ``connect(base_url)`` builds the connector configured for that base URL.
    ``payer`` and ``poor_payer`` are what :attr:`PayRequest.payment_code` carries for this
    protocol (a payment code, an auth code, a phone number...): the first can pay
    ``pay_to_amount`` (minor units of ``wallet_currency``) many times over, the second not
    once. ``payment_amount`` is the same purchase in ``payment_currency``; both amounts must
    be at least 2 (a partial refund needs a part). ``secrets`` are strings (keys, passwords)
    that must never appear in a ``repr`` or a log line (a multi-line one, such as a PEM
    key, is also looked for line by line, since a ``repr`` escapes newlines).

    ``unknown_payer`` is a well-formed payer the wallet does not know (the decline
    scenario is skipped without one). ``settle_seconds`` bounds how long the scenarios wait
    for a pending answer to become final, by inquiring (pay) or sending again (cancel,
    refund): asynchronous protocols and sandboxes need longer than a simulator.

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


@dataclass(frozen=True, slots=True)
class SimulatorStats:
    """``GET /_sim/stats``: pay requests received, and those that moved money."""

    pay_requests: int
    charges: int


def _new_id(prefix: str) -> str:
    # The shape of the gateway's own ids, so a connector meets realistic lengths.
    return f"{prefix}{datetime.now(UTC):%Y%m%d%H%M%S}{token_hex(8)}"


class ConformanceWallet:
    """A target's connector connected to its wallet: what every scenario drives.

    Each call builds a request with the connector, sends it through
    :func:`connectors.exchange` and parses the answer; everything built and parsed is kept
    in :attr:`exchanged`, for the scenario that looks for secrets in their reprs.
    """

    def __init__(
        self, target: ConformanceTarget, connector: Connector, client: httpx.AsyncClient, url: str
    ) -> None:
        self.target = target
        self.connector = connector
        self.url = url
        self.exchanged: list[object] = []
        self._client = client
        # The wallet's own ids from its answers, as the core keeps them with a payment:
        # some protocols can only be inquired or cancelled by those.
        self._wallet_ids: dict[str, str] = {}

    @property
    def simulated(self) -> bool:
        """Whether the control API is there (a simulator, not a sandbox)."""
        return self.target.simulator is not None

    def new_pay(self, payer: str | None = None) -> PayRequest:
        """A purchase of the target's amounts by ``payer`` (the target's payer by default),
        with fresh ids and a quote of the ratio of the two amounts."""
        target = self.target
        now = datetime.now(UTC)
        price = Decimal(target.pay_to_amount) / Decimal(target.payment_amount)
        return PayRequest(
            wallet_request_id=_new_id("P"),
            acquirer_id="CONFORMANCE_ACQ",
            payment_code=target.payer if payer is None else payer,
            payment_amount=Amount(target.payment_currency, target.payment_amount),
            pay_to_amount=Amount(target.wallet_currency, target.pay_to_amount),
            quote=QuoteTerms(
                quote_id=_new_id("Q"),
                base_currency=target.payment_currency,
                quote_currency=target.wallet_currency,
                price=price.quantize(Decimal("0.00000001"), ROUND_HALF_EVEN),
                start=now,
                expiry=now + timedelta(minutes=10),
            ),
            merchant=_MERCHANT,
            order_description="conformance scenario",
            reference_order_id=_new_id("O"),
        )

    def new_refund(self, pay: PayRequest, paid: PaymentResult, wallet_value: int) -> RefundRequest:
        """A refund of ``wallet_value`` minor units (wallet currency) of ``pay``, with a
        fresh id; the payment-currency amount is its share, rounded down (at least 1)."""
        share = pay.payment_amount.value * wallet_value // pay.pay_to_amount.value
        return RefundRequest(
            refund_request_id=_new_id("R"),
            wallet_request_id=pay.wallet_request_id,
            wallet_payment_id=paid.wallet_payment_id,
            acquirer_id=pay.acquirer_id,
            refund_amount=Amount(pay.payment_amount.currency, max(1, share)),
            refund_from_amount=Amount(pay.pay_to_amount.currency, wallet_value),
            quote=pay.quote,
            reason="conformance scenario",
        )

    async def pay(self, request: PayRequest, *, deadline: float | None = None) -> PaymentResult:
        result = await self._call(
            self.connector.build_pay, self.connector.parse_pay, request, deadline
        )
        self._remember(request.wallet_request_id, result)
        return result

    async def inquire(self, wallet_request_id: str) -> PaymentResult:
        request = InquireRequest(
            wallet_request_id, "CONFORMANCE_ACQ", self._wallet_ids.get(wallet_request_id)
        )
        result = await self._call(
            self.connector.build_inquire, self.connector.parse_inquire, request, None
        )
        self._remember(wallet_request_id, result)
        return result

    def _remember(self, wallet_request_id: str, result: PaymentResult) -> None:
        if result.wallet_payment_id is not None:
            self._wallet_ids[wallet_request_id] = result.wallet_payment_id

    async def cancel(self, wallet_request_id: str) -> CancelResult:
        request = CancelRequest(
            wallet_request_id, "CONFORMANCE_ACQ", self._wallet_ids.get(wallet_request_id)
        )
        return await self._call(
            self.connector.build_cancel, self.connector.parse_cancel, request, None
        )

    async def refund(self, request: RefundRequest) -> RefundResult:
        return await self._call(
            self.connector.build_refund, self.connector.parse_refund, request, None
        )

    async def until_final(
        self,
        first: Callable[[], Awaitable[_Result]],
        again: Callable[[], Awaitable[_Result]] | None = None,
    ) -> _Result:
        """``first()``, then while the answer is pending, ``again()`` (``first`` by default)
        with growing pauses, for at most the target's ``settle_seconds``."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.target.settle_seconds
        pause = 0.02
        result = await first()
        while result.outcome is Outcome.PENDING and loop.time() < give_up:
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.5)
            result = await (again or first)()
        return result

    async def stats(self) -> SimulatorStats:
        body = await self._control("GET", "stats")
        return SimulatorStats(pay_requests=body["pay_requests"], charges=body["charges"])

    async def ledger(self) -> list[Mapping[str, Any]]:
        entries: list[Mapping[str, Any]] = await self._control("GET", "ledger")
        return entries

    async def set_faults(
        self, *, latency_seconds: float = 0.0, unknown_status: bool = False
    ) -> None:
        """Put these faults in force (both keys are always sent: no fault is left over)."""
        await self._control(
            "POST", "faults", {"latency_seconds": latency_seconds, "unknown_status": unknown_status}
        )

    async def _call(
        self,
        build: Callable[[_Request], httpx.Request],
        parse: Callable[[_Request, httpx.Response], _Result],
        request: _Request,
        deadline: float | None,
    ) -> _Result:
        built = build(request)
        self.exchanged.extend((request, built))
        response = await exchange(
            self._client, built, connector=self.connector.name, deadline=deadline
        )
        result = parse(request, response)
        self.exchanged.append(result)
        return result

    async def _control(self, method: str, path: str, body: object = None) -> Any:
        if not self.simulated:
            raise RuntimeError(f"{self.target.name}: a sandbox has no simulator control API")
        response = await self._client.request(method, f"{self.url}/_sim/{path}", json=body)
        response.raise_for_status()
        return response.json()


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
