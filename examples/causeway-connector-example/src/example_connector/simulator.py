"""A simulated Example Wallet: its API, Causeway's control API, and the conformance target.

The wallet keeps balances, deduplicates charges and refunds by ``idempotency_key``, keeps a
ledger, and lets a void win over a charge (even one that has not arrived yet). The control
API, which every Causeway simulator answers, is under ``/_sim`` (see
``connectors.conformance``).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from secrets import token_hex
from typing import Any

from connectors.conformance import ConformanceTarget
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from example_connector import ExampleConnector

__all__ = ["ExampleWallet", "conformance_target", "create_simulator"]


@dataclass
class _Charge:
    key: str
    body: dict[str, Any]
    customer: str | None = None
    captured: int = 0
    refunded: int = 0


@dataclass
class ExampleWallet:
    """The wallet's state: ``balances`` by payer, in minor units of ``currency``."""

    api_key: str = field(repr=False)
    currency: str
    balances: dict[str, int]
    charges: dict[str, _Charge] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    pay_requests: int = 0
    latency_seconds: float = 0.0
    unknown_status: bool = False

    def charge(self, body: dict[str, Any]) -> dict[str, Any]:
        key, payer, amount = body["idempotency_key"], body["payer"], body["amount"]
        known = self.charges.get(key)
        if known is not None:
            return known.body
        charge = _Charge(key, {"id": f"ch_{len(self.charges) + 1:06d}", "customer": None})
        if payer not in self.balances:
            charge.body |= {"status": "declined", "reason": "unknown_payer"}
        elif body["currency"] != self.currency:
            charge.body |= {"status": "declined", "reason": "unsupported_currency"}
        elif self.balances[payer] < amount:
            charge.body |= {"status": "declined", "reason": "insufficient_funds"}
        else:
            self.balances[payer] -= amount
            charge.customer, charge.captured = payer, amount
            charge.body |= {"status": "captured", "reason": None, "customer": payer}
            self._post("pay", key, payer, amount)
        self.charges[key] = charge
        return charge.body

    def void(self, key: str) -> dict[str, Any]:
        charge = self.charges.setdefault(key, _Charge(key, {"id": None, "customer": None}))
        back = charge.captured - charge.refunded
        if charge.customer is not None and back > 0 and charge.body["status"] != "voided":
            self.balances[charge.customer] += back
            self._post("reverse", key, charge.customer, back)
        charge.body |= {"status": "voided", "reason": None}
        return charge.body

    def refund(self, body: dict[str, Any]) -> dict[str, Any]:
        key = body["idempotency_key"]
        if key in self.refunds:
            return self.refunds[key]
        charge = self.charges.get(body["charge"])
        amount = body["amount"]
        if charge is None or charge.customer is None or charge.body["status"] != "captured":
            answer = {"id": None, "status": "declined", "reason": "not_captured"}
        elif charge.refunded + amount > charge.captured:
            answer = {"id": None, "status": "declined", "reason": "exceeds_charge"}
        else:
            charge.refunded += amount
            self.balances[charge.customer] += amount
            self._post("refund", charge.key, charge.customer, amount)
            answer = {"id": f"rf_{len(self.refunds) + 1:06d}", "status": "refunded", "reason": None}
        self.refunds[key] = answer
        return answer

    def _post(self, kind: str, key: str, customer: str, amount: int) -> None:
        self.ledger.append({"kind": kind, "charge": key, "customer": customer, "amount": amount})


def create_simulator(wallet: ExampleWallet) -> Starlette:
    """The wallet's API and the control API over ``wallet``'s state."""

    async def answer(
        request: Request, key: str, body: dict[str, Any], *, disguise: bool = False
    ) -> Response:
        if request.headers.get("authorization") != f"Bearer {wallet.api_key}":
            return JSONResponse({"error": "unauthorized"}, 401)
        if disguise and wallet.unknown_status:
            body = body | {"status": "on_hold"}  # a status the API does not document
        if wallet.latency_seconds:
            # After the books: a caller that gives up has still been charged.
            await asyncio.sleep(wallet.latency_seconds)
        return JSONResponse({key: body})

    async def charges(request: Request) -> Response:
        wallet.pay_requests += 1
        body = wallet.charge(await request.json())
        return await answer(request, "charge", body, disguise=True)

    async def charge(request: Request) -> Response:
        known = wallet.charges.get(request.path_params["key"])
        if known is None or known.body["id"] is None:
            return JSONResponse({"error": "no_such_charge"}, 404)
        return await answer(request, "charge", known.body, disguise=True)

    async def void(request: Request) -> Response:
        return await answer(request, "charge", wallet.void(request.path_params["key"]))

    async def refunds(request: Request) -> Response:
        return await answer(request, "refund", wallet.refund(await request.json()))

    async def stats(request: Request) -> Response:
        captured = sum(1 for entry in wallet.ledger if entry["kind"] == "pay")
        return JSONResponse({"pay_requests": wallet.pay_requests, "charges": captured})

    async def ledger(request: Request) -> Response:
        return JSONResponse(wallet.ledger)

    async def faults(request: Request) -> Response:
        wanted = json.loads(await request.body())
        wallet.latency_seconds = float(wanted.get("latency_seconds", wallet.latency_seconds))
        wallet.unknown_status = bool(wanted.get("unknown_status", wallet.unknown_status))
        return JSONResponse(wanted)

    return Starlette(
        routes=[
            Route("/v1/charges", charges, methods=["POST"]),
            Route("/v1/charges/{key}", charge, methods=["GET"]),
            Route("/v1/charges/{key}/void", void, methods=["POST"]),
            Route("/v1/refunds", refunds, methods=["POST"]),
            Route("/_sim/stats", stats, methods=["GET"]),
            Route("/_sim/ledger", ledger, methods=["GET"]),
            Route("/_sim/faults", faults, methods=["POST"]),
        ]
    )


def conformance_target() -> ConformanceTarget:
    """A fresh simulated wallet and the connector for it, for Causeway's conformance kit."""
    api_key = f"ex_live_{token_hex(16)}"
    wallet = ExampleWallet(
        api_key=api_key, currency="SGD", balances={"+6590000001": 1_000_000, "+6590000002": 100}
    )
    return ConformanceTarget(
        name="example",
        connect=lambda url: ExampleConnector("example", {"base_url": url, "api_key": api_key}),
        simulator=create_simulator(wallet),
        wallet_currency="SGD",
        payment_currency="JPY",
        payer="+6590000001",
        poor_payer="+6590000002",
        unknown_payer="+6590009999",
        pay_to_amount=1_250,
        payment_amount=1_400,
        secrets=(api_key,),
    )
