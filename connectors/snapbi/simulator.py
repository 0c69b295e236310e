"""A simulated SNAP BI e-wallet: a small Starlette app for the demo, the tests and chaos.

It answers ``POST {path_prefix}/v1.0/debit/payment-host-to-host``, ``/status``,
``/cancel`` and ``/refund`` as a DANA-like wallet would: it checks the hub's headers, B2B
token and HMAC signature and the per-day uniqueness of ``X-EXTERNAL-ID`` (``_sim_gate``),
keeps balances, deduplicates, keeps a ledger (``_sim_book``), and answers with the HTTP
status its ``responseCode`` begins with. SNAP does not sign these answers, so neither does
the simulator.

Its own control API, which is **not** part of SNAP::

    GET  /_sim/ledger    [{"kind", "partner_reference_no", "partner_refund_no",
                           "customer_id", "amount", "currency", "time"}, ...]
    GET  /_sim/accounts  [{"customer_id", "name", "balance", "currency"}, ...]
    GET  /_sim/stats     {"pay_requests": n, "charges": n}
    GET  /_sim/struck    {"reject": n, "error": n, "drop": n, "slow": n}  random faults so far
    POST /_sim/faults    {"latency_seconds": 0.5, "unknown_status": true, "error_rate": 0.1,
                          "drop_rate": 0.1, "reject_rate": 0.1, "slow_rate": 0.1,
                          "slow_seconds": 3, "seed": 7}  -> the faults in force (a random
                          one only once set; see _sim_faults)

Example::

    app = create_simulator(SimulatedWallet(partner_id="HUB", client_secret=..., ...))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    # or: uvicorn.run(app, host="127.0.0.1", port=8805)
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors import Connector
from connectors.conformance import ConformanceTarget
from connectors.simulation import body_of, control_routes
from connectors.snapbi import SnapBiConnector
from connectors.snapbi._sim_book import WalletBook
from connectors.snapbi._sim_faults import Faults
from connectors.snapbi._sim_gate import Gate
from connectors.snapbi._sim_wire import Answer, SnapError, encode, now

__all__ = ["SimulatedAccount", "SimulatedWallet", "conformance_target", "create_simulator"]


@dataclass
class SimulatedAccount:
    """One user of the simulated wallet; ``balance`` in minor units of the wallet currency.

    ``customer_token`` is what the hub sends as ``Authorization-Customer`` (the traveller's
    payment code). ``approves_in_app``: a payment opens an order the traveller approves in
    the app ``SimulatedWallet.approval_seconds`` later, rather than a direct debit.
    """

    customer_id: str
    customer_token: str = field(repr=False)  # a bearer credential
    balance: int
    name: str
    approves_in_app: bool = False


@dataclass
class SimulatedWallet:
    """How to build a simulated wallet: the one partner (hub) it trusts, with its secret and
    B2B token, the merchant it pays, and its users. ``single_payment_limit`` is in minor
    units of ``currency``, whose ISO 4217 exponent must be 2 (SNAP writes "(16,2)")."""

    partner_id: str
    client_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    merchant_id: str
    accounts: list[SimulatedAccount]
    currency: str = "IDR"
    single_payment_limit: int | None = None
    latency_seconds: float = 0.0
    approval_seconds: float = 0.0
    path_prefix: str = ""


def create_simulator(wallet: SimulatedWallet) -> Starlette:
    """A fresh wallet app; its state lives in the app, so two apps never share balances."""
    book = WalletBook(wallet, clock=time.monotonic)
    gate = Gate(
        partner_id=wallet.partner_id,
        client_secret=wallet.client_secret,
        access_token=wallet.access_token,
    )
    faults = Faults(latency_seconds=wallet.latency_seconds)
    # WalletBook's methods never await, so today each runs whole; the lock keeps them
    # atomic if a fault ever pauses one half-way.
    lock = asyncio.Lock()

    async def serve(
        request: Request, service: str, operation: Callable[[Mapping[str, Any]], Answer]
    ) -> Response:
        raw = await body_of(request)
        if isinstance(raw, Response):
            return raw
        refused = faults.refuse()  # before the wallet looks at the call: nothing happens
        if refused is not None:
            return refused
        path = request.url.path
        async with lock:
            book.settle()
            try:
                gate.admit(request.method, path, request.headers, raw)
                try:
                    payload = json.loads(raw)
                except ValueError:
                    payload = None
                if not isinstance(payload, dict):
                    raise SnapError(400, "00", "Bad Request")
                gate.remember(path, request.headers, raw)
                answer = operation(payload)
            except SnapError as exc:
                answer = exc.answer
        body = faults.distort(answer.body(service), service)
        status = int(body["responseCode"][:3])
        # After the books are written (see RandomFaults.deliver): late, a 500 or nothing.
        return await faults.deliver(
            Response(
                encode(body),
                status_code=status,
                media_type="application/json",
                headers={"X-TIMESTAMP": now()},
            )
        )

    async def pay(request: Request) -> Response:
        book.pay_requests += 1
        header = request.headers.get("Authorization-Customer", "")
        scheme, _, token = header.partition(" ")
        customer = token if scheme == "Bearer" and token else None
        return await serve(request, "54", lambda body: book.pay(body, customer))

    async def status(request: Request) -> Response:
        return await serve(request, "55", book.status)

    async def cancel(request: Request) -> Response:
        return await serve(request, "57", book.cancel)

    async def refund(request: Request) -> Response:
        return await serve(request, "58", book.refund)

    prefix = f"{wallet.path_prefix}/v1.0/debit"
    return Starlette(
        routes=[
            Route(f"{prefix}/payment-host-to-host", pay, methods=["POST"]),
            Route(f"{prefix}/status", status, methods=["POST"]),
            Route(f"{prefix}/cancel", cancel, methods=["POST"]),
            Route(f"{prefix}/refund", refund, methods=["POST"]),
            *control_routes(
                faults,
                stats=lambda: {"pay_requests": book.pay_requests, "charges": book.charges},
                ledger=lambda: [entry.to_json() for entry in book.ledger],
                views={"accounts": book.accounts_json, "struck": lambda: faults.struck},
                lock=lock,
                settle=book.settle,  # an approval that fell due shows in the books as it would
            ),
        ]
    )


def conformance_target() -> ConformanceTarget:
    """A fresh simulator with new credentials, a rich and a poor traveller (and a customer
    token nobody holds), and a connector for it: a ¥1,200 purchase charged as Rp127,200.00
    (about 106 IDR per JPY)."""
    secret, token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    rich, poor, stranger = (secrets.token_urlsafe(24) for _ in range(3))
    wallet = SimulatedWallet(
        partner_id="CAUSEWAY-HUB",
        client_secret=secret,
        access_token=token,
        merchant_id="216620000000000001",
        accounts=[
            SimulatedAccount("ID-0001", rich, 50_000_000_000, "Rina"),
            SimulatedAccount("ID-0002", poor, 1_000_000, "Budi"),
        ],
        single_payment_limit=2_000_000_000,
    )

    def connect(base_url: str) -> Connector:
        settings = {
            "base_url": base_url,
            "partner_id": wallet.partner_id,
            "client_secret": secret,
            "access_token": token,
            "channel_id": "95221",
            "merchant_id": wallet.merchant_id,
            "currencies": ["IDR"],
            "regions": ["ID"],
        }
        return SnapBiConnector("snapbi", settings)

    return ConformanceTarget(
        name="snapbi",
        connect=connect,
        simulator=create_simulator(wallet),
        wallet_currency="IDR",
        payment_currency="JPY",
        payer=rich,
        poor_payer=poor,
        pay_to_amount=12_720_000,
        payment_amount=1200,
        secrets=(secret, token),
        unknown_payer=stranger,
    )
