"""A simulated Alipay+ wallet (MPP): a small Starlette app for the demo, the tests and chaos.

It answers ``POST {path_prefix}/pay``, ``/inquiryPayment``, ``/cancelPayment`` and
``/refund`` as a wallet would: it verifies the hub's signature (a bad one gets HTTP 200 with
``F INVALID_SIGNATURE``, unsigned), keeps balances, deduplicates, keeps a ledger, and signs
every other answer with the wallet's key under lowercase ``client-id``, ``response-time`` and
``signature`` headers.

Its own control API, which is **not** part of Alipay+ and is unsigned::

    GET  /_sim/ledger    [{"kind", "payment_request_id", "refund_request_id",
                           "customer_id", "amount", "currency", "time"}, ...]
    GET  /_sim/accounts  [{"customer_id", "name", "balance", "currency"}, ...]
    GET  /_sim/stats     {"pay_requests": n, "charges": n}
    GET  /_sim/inquiries {"<paymentRequestId>": n, ...}  the inquiries it took up, per id
    GET  /_sim/struck    {"reject": n, "error": n, "drop": n, "slow": n}  random faults so far
    POST /_sim/faults    {"latency_seconds": 0.5, "unknown_status": true, "error_rate": 0.1,
                          "drop_rate": 0.1, "reject_rate": 0.1, "slow_rate": 0.1,
                          "slow_seconds": 3, "seed": 7}  -> the faults set (see _sim_faults)
    POST /_sim/hub       {"url": "http://127.0.0.1:8080"}  where the wallet's app calls the hub
    POST /_sim/scan      {"code_value", "customer_id", "reports": 1, "report_delay_seconds": 0}
                         the traveller scans an order code: userInitiatedPay, the charge,
                         then ``reports`` times notifyPayment (0 = the report is lost, 2 =
                         it is duplicated), sent ``report_delay_seconds`` later (0-600; a
                         late report is sent in the background and not in the answer);
                         502 when the hub cannot be reached
    GET  /cashier?codeValue=...   the wallet's checkout page for a cashier order (HTML);
    POST /cashier                 the traveller confirms there
                         (either key alone; see ``_sim_faults``)

:func:`conformance_target` is a fresh simulated wallet with the connector for it, for the
conformance kit (``connectors.conformance``).

Example::

    app = create_simulator(SimulatedWallet(psp_id="KRWALLET", currency="KRW", ...))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    # or: uvicorn.run(app, host="127.0.0.1", port=8801)
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from connectors import RsaSigner, RsaVerifier, generate_rsa_key_pair, signed_content
from connectors.alipayplus import AlipayPlusConnector
from connectors.alipayplus._sim_book import WalletBook
from connectors.alipayplus._sim_faults import Faults
from connectors.alipayplus._sim_json import BadRequest, encode, now, result
from connectors.alipayplus._sim_traveller import Traveller, cashier_page, receipt_page
from connectors.conformance import ConformanceTarget
from connectors.simulation import body_of, control_routes

__all__ = ["SimulatedAccount", "SimulatedWallet", "conformance_target", "create_simulator"]

_JSON = "application/json; charset=UTF-8"


@dataclass
class SimulatedAccount:
    """One user of the simulated wallet; ``balance`` in minor units of the wallet currency."""

    customer_id: str
    payment_code: str = field(repr=False)  # a bearer credential while it is valid
    balance: int
    name: str


@dataclass
class SimulatedWallet:
    """How to build a simulated wallet. ``private_key`` is the wallet's (PEM), used to sign
    its answers; ``hub_public_key`` (PEM) checks the hub's requests; ``client_id`` is what
    the wallet calls itself in its response headers; ``single_payment_limit`` is in minor
    units of ``currency``."""

    psp_id: str
    currency: str
    client_id: str
    private_key: bytes = field(repr=False)
    hub_public_key: bytes = field(repr=False)
    accounts: list[SimulatedAccount]
    single_payment_limit: int | None = None
    latency_seconds: float = 0.0
    path_prefix: str = "/aps/api/v1/payments"


def create_simulator(wallet: SimulatedWallet) -> Starlette:
    """A fresh wallet app; its state lives in the app, so two apps never share balances."""
    signer = RsaSigner(wallet.private_key)
    verifier = RsaVerifier(wallet.hub_public_key)
    book = WalletBook(
        psp_id=wallet.psp_id,
        currency=wallet.currency,
        accounts=wallet.accounts,
        single_payment_limit=wallet.single_payment_limit,
    )
    faults = Faults(latency_seconds=wallet.latency_seconds)
    # WalletBook's methods never await, so today each runs whole; the lock keeps them
    # atomic if a fault ever pauses one half-way.
    lock = asyncio.Lock()

    def from_hub(request: Request, raw: bytes) -> bool:
        headers = request.headers
        if not all(name in headers for name in ("signature", "client-id", "request-time")):
            return False
        content = signed_content(
            "POST", request.url.path, headers["client-id"], headers["request-time"], raw
        )
        return verifier.verify(content, headers["signature"])

    def signed(request: Request, body: dict[str, Any]) -> Response:
        raw = encode(body)
        response_time = now()
        content = signed_content("POST", request.url.path, wallet.client_id, response_time, raw)
        headers = {
            "client-id": wallet.client_id,
            "response-time": response_time,
            "signature": signer.header(content),
        }
        return Response(raw, media_type=_JSON, headers=headers)

    async def serve(
        request: Request, operation: Callable[[Mapping[str, Any]], dict[str, Any]]
    ) -> Response:
        raw = await body_of(request)
        if isinstance(raw, Response):
            return raw
        if not from_hub(request, raw):
            failure = result("F", "INVALID_SIGNATURE", "the request signature does not verify")
            return Response(encode(failure), media_type=_JSON)
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        refused = faults.refuse()
        if refused is not None:
            return refused
        if not isinstance(payload, dict):
            answer = result("F", "PARAM_ILLEGAL", "the body is not a JSON object")
        else:
            async with lock:
                try:
                    answer = operation(payload)
                except BadRequest as exc:
                    answer = result("F", "PARAM_ILLEGAL", str(exc))
        # After the books are written (see RandomFaults.deliver): the wallet did the work,
        # whatever reaches the hub.
        return await faults.deliver(signed(request, answer))

    async def pay(request: Request) -> Response:
        book.pay_requests += 1
        return await serve(request, lambda body: faults.disguise(book.pay(body)))

    async def inquire(request: Request) -> Response:
        return await serve(request, lambda body: faults.disguise(book.inquire(body)))

    async def cancel(request: Request) -> Response:
        return await serve(request, book.cancel)

    async def refund(request: Request) -> Response:
        return await serve(request, book.refund)

    traveller = Traveller(book, lock, wallet.client_id, signer, verifier)

    async def set_hub(request: Request) -> Response:
        wanted = await request.json()
        url = wanted.get("url") if isinstance(wanted, dict) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return JSONResponse({"error": "url must be an http(s) URL"}, 400)
        traveller.hub_url = url
        return JSONResponse({"url": url})

    async def scan(request: Request) -> Response:
        wanted = await request.json()
        if not isinstance(wanted, dict):
            return JSONResponse({"error": "a JSON object is expected"}, 400)
        code, customer = wanted.get("code_value"), wanted.get("customer_id")
        reports = wanted.get("reports", 1)
        if not isinstance(code, str) or not isinstance(customer, str):
            return JSONResponse({"error": "code_value and customer_id are required"}, 400)
        if isinstance(reports, bool) or not isinstance(reports, int) or not 0 <= reports <= 5:
            return JSONResponse({"error": "reports must be 0 to 5"}, 400)
        late = wanted.get("report_delay_seconds", 0)
        if isinstance(late, bool) or not isinstance(late, int | float) or not 0 <= late <= 600:
            return JSONResponse({"error": "report_delay_seconds must be 0 to 600"}, 400)
        try:
            summary = await traveller.pay_order(code, customer, reports=reports, late=late)
        except LookupError as exc:
            return JSONResponse({"error": str(exc)}, 409)
        except (httpx.HTTPError, PermissionError, ValueError) as exc:
            # The hub is down or answered nonsense: the traveller's app shows an error.
            return JSONResponse({"error": f"the hub: {type(exc).__name__}"}, 502)
        return JSONResponse(summary)

    async def cashier(request: Request) -> Response:
        if request.method == "GET":
            code = request.query_params.get("codeValue", "")
            return HTMLResponse(cashier_page(wallet.psp_id, code, book.accounts_json()))
        form = await request.form()
        code_field, customer_field = form.get("codeValue"), form.get("customerId")
        if not isinstance(code_field, str) or not isinstance(customer_field, str):
            return HTMLResponse("codeValue and customerId are required", 400)
        summary = await traveller.pay_order(code_field, customer_field)
        return HTMLResponse(receipt_page(summary))

    prefix = wallet.path_prefix
    return Starlette(
        routes=[
            Route(f"{prefix}/pay", pay, methods=["POST"]),
            Route(f"{prefix}/inquiryPayment", inquire, methods=["POST"]),
            Route(f"{prefix}/cancelPayment", cancel, methods=["POST"]),
            Route(f"{prefix}/refund", refund, methods=["POST"]),
            *control_routes(
                faults,
                stats=lambda: {"pay_requests": book.pay_requests, "charges": book.charges},
                ledger=lambda: [entry.to_json() for entry in book.ledger],
                views={
                    "accounts": book.accounts_json,
                    "inquiries": lambda: dict(book.inquiries),
                    "struck": lambda: faults.struck,
                },
                lock=lock,
                answer="set",
            ),
            Route("/_sim/hub", set_hub, methods=["POST"]),
            Route("/_sim/scan", scan, methods=["POST"]),
            Route("/cashier", cashier, methods=["GET", "POST"]),
        ]
    )


@functools.cache
def _conformance_keys() -> tuple[tuple[bytes, bytes], tuple[bytes, bytes]]:
    # (hub, wallet) key pairs. Made once per process: 2048-bit generation takes a while and
    # a key pair holds no state a scenario could leave behind.
    return generate_rsa_key_pair(), generate_rsa_key_pair()


def conformance_target() -> ConformanceTarget:
    """A fresh simulated Alipay+ wallet (its own books) and the connector for it."""
    (hub_private, hub_public), (wallet_private, wallet_public) = _conformance_keys()
    wallet = SimulatedWallet(
        psp_id="CONFORMWALLET",
        currency="KRW",
        client_id="CONFORMWALLET",
        private_key=wallet_private,
        hub_public_key=hub_public,
        accounts=[
            SimulatedAccount("K-RICH", "281000000000000001", 100_000_000, "Kim Min-jun"),
            SimulatedAccount("K-POOR", "281000000000000002", 1_000, "Lee Ji-eun"),
        ],
    )
    private_pem = hub_private.decode()
    settings = {
        "client_id": "CONFORMANCE_HUB",
        "psp_id": "CONFORMWALLET",
        "private_key": private_pem,
        "wallet_public_key": wallet_public.decode(),
        "currencies": ["KRW"],
        "regions": ["KR"],
    }
    return ConformanceTarget(
        name="alipayplus",
        connect=lambda base_url: AlipayPlusConnector(
            "alipayplus", settings | {"base_url": base_url}
        ),
        simulator=create_simulator(wallet),
        wallet_currency="KRW",
        payment_currency="JPY",
        payer="281000000000000001",
        poor_payer="281000000000000002",
        unknown_payer="281000000000009999",
        pay_to_amount=11016,
        payment_amount=1200,
        secrets=(private_pem,),
    )
