"""A simulated Mojaloop scheme behind a wallet's SDK scheme adapter: a small Starlette app.

It answers the adapter's outbound API as a wallet DFSP's adapter (with auto-accept on)
would: ``POST {path_prefix}/transfers`` runs party lookup, quote and transfer and answers
``COMPLETED`` or the adapter's error body; ``GET {path_prefix}/transfers/{transferId}``
answers from the switch's records. With a ``bearer_token`` it refuses requests without it
(HTTP 401, as a gateway in front would). The scheme's rules are in ``_sim_scheme``.

Its own control API, which is **not** part of Mojaloop::

    GET  /_sim/stats     {"pay_requests": n, "charges": n}
    GET  /_sim/ledger    [{"kind": "pay" | "refund", "transfer_id", "home_transaction_id",
                           "original_transfer_id", "payer", "payee", "amount", "fee",
                           "currency", "time"}, ...]    a refund names the payment's transfer
    GET  /_sim/accounts  [{"name", "id_type", "balance", "currency"}, ...]
    GET  /_sim/struck    {"reject": n, "error": n, "drop": n, "slow": n}  random faults so far
    POST /_sim/faults    {"latency_seconds": 0.5, "unknown_status": true, "error_rate": 0.1,
                          "drop_rate": 0.1, "reject_rate": 0.1, "slow_rate": 0.1,
                          "slow_seconds": 3, "seed": 7}  (any of them) -> the faults in
                         force (a random one only once set; see _sim_faults); 400 on a bad
                         value

Example::

    app = create_simulator(SimulatedWallet(dfsp_id="tzwallet", currency="TZS", ...))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    # or: uvicorn.run(app, host="127.0.0.1", port=8802)
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors import Connector
from connectors.conformance import ConformanceTarget
from connectors.mojaloop import MojaloopConnector
from connectors.mojaloop._sim_faults import Faults
from connectors.mojaloop._sim_json import BadRequest, encode, with_undefined_states
from connectors.mojaloop._sim_scheme import Answer, SchemeBook
from connectors.simulation import body_of, control_routes

__all__ = ["SimulatedAccount", "SimulatedWallet", "conformance_target", "create_simulator"]


@dataclass
class SimulatedAccount:
    """A party in the scheme: a traveller of the wallet, or the account collecting for
    merchants. ``balance`` is in minor units of the wallet currency."""

    id_value: str = field(repr=False)  # an MSISDN is personal data
    name: str
    balance: int
    id_type: str = "MSISDN"


@dataclass
class SimulatedWallet:
    """How to build a simulated scheme. ``currency_exponent`` reads the FSPIOP amounts;
    ``single_payment_limit`` and ``payee_fee`` (what the payee DFSP keeps of each payment)
    are in minor units."""

    dfsp_id: str
    currency: str
    currency_exponent: int
    accounts: list[SimulatedAccount]
    bearer_token: str | None = field(default=None, repr=False)
    single_payment_limit: int | None = None
    payee_fee: int = 0
    latency_seconds: float = 0.0
    path_prefix: str = ""


def _error(status: int, message: str) -> Response:
    return JSONResponse({"statusCode": str(status), "message": message}, status)


def create_simulator(wallet: SimulatedWallet) -> Starlette:
    """A fresh scheme; its state lives in the app, so two apps never share balances."""
    book = SchemeBook(
        dfsp_id=wallet.dfsp_id,
        currency=wallet.currency,
        exponent=wallet.currency_exponent,
        accounts=wallet.accounts,
        single_payment_limit=wallet.single_payment_limit,
        payee_fee=wallet.payee_fee,
        secret=secrets.token_bytes(32),
    )
    faults = Faults(latency_seconds=wallet.latency_seconds)
    stats = {"pay_requests": 0}
    # The book's methods never await, so today each runs whole; the lock keeps them atomic
    # if one ever pauses half-way.
    lock = asyncio.Lock()

    def authorised(request: Request) -> bool:
        if wallet.bearer_token is None:
            return True
        given = request.headers.get("authorization", "").encode()
        return hmac.compare_digest(given, f"Bearer {wallet.bearer_token}".encode())

    async def serve(operation: Callable[[], Answer], *, disguise: bool) -> Response:
        refused = faults.refuse()  # before the scheme looks at the call: nothing happens
        if refused is not None:
            return refused
        async with lock:
            try:
                status, answer = operation()
            except BadRequest as exc:
                return await faults.deliver(_error(400, str(exc)))
        if disguise and faults.unknown_status:
            answer = with_undefined_states(answer)
        # After the books are written (see RandomFaults.deliver): late, a 500 or nothing.
        return await faults.deliver(Response(encode(answer), status, media_type="application/json"))

    async def post_transfers(request: Request) -> Response:
        raw = await body_of(request)
        if isinstance(raw, Response):
            return raw
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        refund = isinstance(payload, dict) and book.is_refund(payload)
        if not refund:
            stats["pay_requests"] += 1
        if not authorised(request):
            return _error(401, "Unauthorized")
        if not isinstance(payload, dict):
            return _error(400, "the body is not a JSON object")
        return await serve(lambda: book.post_transfer(payload), disguise=not refund)

    async def get_transfer(request: Request) -> Response:
        if not authorised(request):
            return _error(401, "Unauthorized")
        transfer_id: str = request.path_params["transfer_id"]
        return await serve(lambda: book.get_transfer(transfer_id), disguise=True)

    prefix = wallet.path_prefix.rstrip("/")
    return Starlette(
        routes=[
            Route(f"{prefix}/transfers", post_transfers, methods=["POST"]),
            Route(f"{prefix}/transfers/{{transfer_id}}", get_transfer, methods=["GET"]),
            *control_routes(
                faults,
                stats=lambda: {"pay_requests": stats["pay_requests"], "charges": book.charges},
                ledger=lambda: [entry.to_json() for entry in book.ledger],
                views={"accounts": book.accounts_json, "struck": lambda: faults.struck},
                lock=lock,
            ),
        ]
    )


def conformance_target() -> ConformanceTarget:
    """A fresh Tanzanian wallet scheme (TZS) with a rich and a poor traveller, a merchant
    collecting account and a generated bearer token; a Nairobi purchase of KES 1,500.00
    is TZS 30,000.00 to the traveller."""
    token = secrets.token_urlsafe(32)
    rich, poor, merchants = "255712345001", "255712345002", "255700900900"
    wallet = SimulatedWallet(
        dfsp_id="tzwallet",
        currency="TZS",
        currency_exponent=2,
        accounts=[
            SimulatedAccount(rich, "Asha", 50_000_000),
            SimulatedAccount(poor, "Baraka", 100_000),
            SimulatedAccount(merchants, "Causeway merchants", 0),
        ],
        bearer_token=token,
        single_payment_limit=500_000_000,
    )
    settings = {
        "dfsp_id": "tzwallet",
        "payee_id_type": "MSISDN",
        "payee_id_value": merchants,
        "currency_exponent": 2,
        "bearer_token": token,
        "currencies": ["TZS"],
        "regions": ["TZ"],
    }

    def connect(base_url: str) -> Connector:
        return MojaloopConnector("mojaloop-tz", settings | {"base_url": base_url})

    return ConformanceTarget(
        name="mojaloop",
        connect=connect,
        simulator=create_simulator(wallet),
        wallet_currency="TZS",
        payment_currency="KES",
        payer=rich,
        poor_payer=poor,
        pay_to_amount=3_000_000,
        payment_amount=150_000,
        secrets=(token,),
        unknown_payer="255799999999",
    )
