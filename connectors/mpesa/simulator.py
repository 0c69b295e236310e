"""A simulated M-Pesa (Daraja): a small Starlette app for the demo, the tests and chaos.

It answers Daraja's own paths: ``GET /oauth/v1/generate`` (Basic auth of the consumer key
and secret; a bad pair gets ``400.008.01``), and, with a valid bearer token (else
``404.001.03 Invalid Access Token``), ``POST /mpesa/stkpush/v1/processrequest``,
``/mpesa/stkpushquery/v1/query`` and ``/mpesa/reversal/v1/request``. An STK push must name
the paybill and carry ``base64(shortcode + passkey + Timestamp)`` as ``Password`` (else
``500.001.1001 Wrong credentials``); a reversal with the wrong initiator or credential is
acknowledged and fails in its result (``2001``), as M-Pesa's are.

Its own control API, which is **not** part of Daraja::

    GET  /_sim/stats      {"pay_requests": n, "charges": n}
    GET  /_sim/ledger     [{"kind", "account_reference", "receipt", "msisdn", "amount",
                            "currency", "time", "occasion"}, ...]      amounts in cents; a
                          refund's occasion is the reversal's Occasion (null for a pay)
    GET  /_sim/accounts   [{"msisdn", "name", "balance", "currency"}, ...]
    GET  /_sim/callbacks  [{"method": "POST", "path": "/callbacks/mpesa", "headers": {...},
                            "body": "<JSON as sent>"}, ...]  what M-Pesa would POST to
                          CallBackURL and ResultURL, oldest first (kept; sent as well only
                          with ``callback_seconds``)
    GET  /_sim/struck     {"reject": n, "error": n, "drop": n, "slow": n}  random faults so far
    POST /_sim/faults     {"latency_seconds": 0.5, "unknown_status": true, "error_rate": 0.1,
                           "drop_rate": 0.1, "reject_rate": 0.1, "slow_rate": 0.1,
                           "slow_seconds": 3, "seed": 7}  -> the faults in force (a random
                          one only once set; see _sim_faults)

With ``callback_seconds`` set, the simulator also POSTs each callback to its URL that many
seconds after the result is made, once: Daraja documents no retry, so a callback the hub
does not take is lost (a reversal sent again is called back again; see ``_sim_book``).

Example::

    app = create_simulator(SimulatedWallet(shortcode="600584", ...))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors._time import utc_now
from connectors.conformance import ConformanceTarget
from connectors.mpesa import MpesaConnector
from connectors.mpesa._sim_book import MpesaBook
from connectors.mpesa._sim_faults import Faults
from connectors.mpesa._sim_wire import (
    BadRequest,
    DarajaFailure,
    daraja_error,
    encode,
    stk_password,
    text,
)
from connectors.simulation import body_of, control_routes

__all__ = ["SimulatedAccount", "SimulatedWallet", "conformance_target", "create_simulator"]

log = logging.getLogger("connectors.mpesa.simulator")

_TOKEN_LIFETIME = 3599  # seconds, as Daraja's tokens
_UNDEFINED_STATUS = "7777"  # a code Daraja never sends, for the unknown_status fault


@dataclass
class SimulatedAccount:
    """One M-Pesa subscriber; ``balance`` in cents (KES minor units). ``answer`` is what
    they do with a prompt: approve, cancel (1032), ignore (1037) or mistype the PIN (2001)."""

    msisdn: str
    balance: int
    name: str
    answer: Literal["approve", "cancel", "ignore", "wrong_pin"] = "approve"


@dataclass
class SimulatedWallet:
    """How to build a simulated M-Pesa. ``single_payment_limit`` is in cents;
    ``access_token`` is a token valid for good (for callers that cannot fetch one);
    ``clock`` (aware) drives token expiry, the phone's ``approval_delay`` and the dedup
    ``dedup_window``; ``callback_seconds``, when set, is how long after a result M-Pesa
    POSTs it to the ``CallBackURL`` or ``ResultURL`` it was given (unset: never)."""

    shortcode: str
    passkey: str = field(repr=False)
    consumer_key: str
    consumer_secret: str = field(repr=False)
    initiator_name: str
    security_credential: str = field(repr=False)
    accounts: list[SimulatedAccount]
    single_payment_limit: int | None = 25_000_000  # KES 250,000
    approval_delay: timedelta = timedelta(0)
    dedup_window: timedelta = timedelta(hours=24)
    latency_seconds: float = 0.0
    access_token: str | None = field(default=None, repr=False)
    clock: Callable[[], datetime] = field(default=utc_now, repr=False)
    callback_seconds: float | None = None


def create_simulator(wallet: SimulatedWallet) -> Starlette:
    """A fresh M-Pesa app; its state lives in the app, so two apps never share balances.

    Paths and fields are spelt out here, not taken from the connector, so that a name the
    connector gets wrong is caught rather than agreed on by both sides."""
    sending: set[asyncio.Task[None]] = set()  # callbacks on their way (a task needs a holder)

    async def post(url: str, body: bytes) -> None:
        assert wallet.callback_seconds is not None
        await asyncio.sleep(wallet.callback_seconds)
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                answer = await client.post(
                    url, content=body, headers={"content-type": "application/json"}
                )
            if answer.status_code != 200:
                log.info("callback to %s answered HTTP %d; not sent again", url, answer.status_code)
        except httpx.HTTPError as exc:  # the hub is down: Daraja does not try again
            log.info("callback to %s failed (%s); not sent again", url, type(exc).__name__)

    def send(url: str, body: dict[str, Any]) -> None:
        task = asyncio.get_running_loop().create_task(post(url, encode(body)))
        sending.add(task)
        task.add_done_callback(sending.discard)

    book = MpesaBook(
        shortcode=wallet.shortcode,
        initiator=(wallet.initiator_name, wallet.security_credential),
        accounts=wallet.accounts,
        single_payment_limit=wallet.single_payment_limit,
        approval_delay=wallet.approval_delay,
        dedup_window=wallet.dedup_window,
        send=None if wallet.callback_seconds is None else send,
    )
    faults = Faults(latency_seconds=wallet.latency_seconds)
    tokens: dict[str, datetime] = {}
    basic = base64.b64encode(f"{wallet.consumer_key}:{wallet.consumer_secret}".encode()).decode()
    # The book's methods never await, so each runs whole today; the lock keeps them atomic
    # if a fault ever pauses one half-way.
    lock = asyncio.Lock()

    def same(given: str, expected: str) -> bool:
        # bytes: compare_digest refuses non-ASCII str, which a body may well hold.
        return secrets.compare_digest(given.encode(), expected.encode())

    async def token(request: Request) -> Response:
        if not same(request.headers.get("authorization", ""), f"Basic {basic}"):
            return daraja_error("400.008.01", "Invalid Authentication passed")
        if request.query_params.get("grant_type") != "client_credentials":
            return daraja_error("400.008.02", "Invalid grant type passed")
        value = secrets.token_urlsafe(21)
        tokens[value] = wallet.clock() + timedelta(seconds=_TOKEN_LIFETIME)
        return JSONResponse({"access_token": value, "expires_in": str(_TOKEN_LIFETIME)})

    def bearer_ok(request: Request) -> bool:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or not value:
            return False
        if wallet.access_token is not None and same(value, wallet.access_token):
            return True
        expiry = tokens.get(value)
        return expiry is not None and wallet.clock() < expiry

    def check_stk_credentials(body: Mapping[str, Any]) -> None:
        if text(body, "BusinessShortCode", numeric=True) != wallet.shortcode:
            raise DarajaFailure("500.001.1001", "Merchant does not exist")
        stamp = text(body, "Timestamp", numeric=True)
        if len(stamp) != 14:
            raise BadRequest("Timestamp")
        expected = stk_password(wallet.shortcode, wallet.passkey, stamp)
        if not same(text(body, "Password"), expected):
            raise DarajaFailure("500.001.1001", "Wrong credentials")

    async def serve(
        request: Request,
        operation: Callable[[Mapping[str, Any], datetime], dict[str, Any]],
        status_field: str | None,
    ) -> Response:
        if not bearer_ok(request):
            return daraja_error("404.001.03", "Invalid Access Token")
        raw = await body_of(request)
        if isinstance(raw, Response):
            return raw
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            return daraja_error("400.002.05", "Invalid Request Payload")
        refused = faults.refuse()  # before M-Pesa looks at the call: nothing happens
        if refused is not None:
            return refused
        async with lock:
            try:
                if status_field is not None:  # M-Pesa Express: push and query
                    check_stk_credentials(payload)
                answer = operation(payload, wallet.clock())
            except DarajaFailure as exc:
                response = exc.response()
            else:
                if faults.unknown_status and status_field is not None:
                    answer = answer | {status_field: _UNDEFINED_STATUS}
                response = JSONResponse(answer)
        # After the books are written (see RandomFaults.deliver): late, a 500 or nothing.
        return await faults.deliver(response)

    def accounts() -> list[dict[str, Any]]:
        return [
            {"msisdn": a.msisdn, "name": a.name, "balance": a.balance, "currency": "KES"}
            for a in book.accounts
        ]

    async def push(request: Request) -> Response:
        book.pay_requests += 1
        return await serve(request, book.push, "ResponseCode")

    async def query(request: Request) -> Response:
        return await serve(request, book.query, "ResultCode")

    async def reverse(request: Request) -> Response:
        return await serve(request, book.reverse, None)

    return Starlette(
        routes=[
            Route("/oauth/v1/generate", token, methods=["GET"]),
            Route("/mpesa/stkpush/v1/processrequest", push, methods=["POST"]),
            Route("/mpesa/stkpushquery/v1/query", query, methods=["POST"]),
            Route("/mpesa/reversal/v1/request", reverse, methods=["POST"]),
            *control_routes(
                faults,
                stats=lambda: {"pay_requests": book.pay_requests, "charges": book.charges},
                ledger=lambda: [entry.to_json() for entry in book.ledger],
                views={
                    "accounts": accounts,
                    "callbacks": lambda: book.callbacks,
                    "struck": lambda: faults.struck,
                },
                lock=lock,
                # The phone answers lazily: looking at the books lets every due answer happen.
                settle=lambda: book.settle(wallet.clock()),
            ),
        ]
    )


def conformance_target() -> ConformanceTarget:
    """A fresh simulated M-Pesa with generated credentials, a rich and a poor subscriber,
    and a connector for it holding a pre-issued token (the kit cannot fetch one)."""
    credentials = {
        "consumer_key": secrets.token_urlsafe(24),
        "consumer_secret": secrets.token_urlsafe(24),
        "passkey": secrets.token_hex(32),
        "security_credential": base64.b64encode(secrets.token_bytes(256)).decode(),
        "access_token": secrets.token_urlsafe(21),
    }
    wallet = SimulatedWallet(
        shortcode="600584",
        passkey=credentials["passkey"],
        consumer_key=credentials["consumer_key"],
        consumer_secret=credentials["consumer_secret"],
        initiator_name="causeway_api",
        security_credential=credentials["security_credential"],
        accounts=[
            SimulatedAccount("254712345678", 10_000_000, "Wanjiku"),  # KES 100,000
            SimulatedAccount("254722000111", 50_000, "Otieno"),  # KES 500
        ],
        access_token=credentials["access_token"],
    )

    def connect(base_url: str) -> MpesaConnector:
        settings = credentials | {
            "base_url": base_url,
            "shortcode": wallet.shortcode,
            "callback_url": "https://hub.example/callbacks/mpesa",
            "initiator_name": wallet.initiator_name,
            "currencies": ["KES"],
            "regions": ["KE"],
        }
        return MpesaConnector("mpesa-ke", settings)

    secret_names = ("consumer_secret", "passkey", "security_credential", "access_token")
    return ConformanceTarget(
        name="mpesa",
        connect=connect,
        simulator=create_simulator(wallet),
        wallet_currency="KES",
        payment_currency="USD",
        payer="254712345678",
        poor_payer="254722000111",
        pay_to_amount=258_000,  # KES 2,580.00 (whole shillings: Daraja has no cents)
        payment_amount=2_000,  # USD 20.00
        secrets=tuple(credentials[name] for name in secret_names),
        unknown_payer="254799999999",
    )
