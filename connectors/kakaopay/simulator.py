"""A simulated KakaoPay: a small Starlette app for the demo, the tests and chaos.

It answers ``POST {path_prefix}/ready``, ``/order`` and ``/cancel`` as KakaoPay's online
payment API would, with the liberties the package docstring lists (``order`` and ``cancel``
look a payment up by ``tid``, as KakaoPay does, or by ``partner_order_id`` when no ``tid``
is sent; full cancel without ``cancel_amount``; refund dedup by ``payload``, unless
``refunds_deduplicated`` is off, as with the real wallet; the failed approval's ``extras``
in ``order``). It checks ``Authorization: SECRET_KEY
<key>`` (anything else gets HTTP 401 with error -401), keeps balances, deduplicates, keeps a
ledger, and plays every traveller: ``approval_delay_seconds`` after ``ready`` the traveller
approves, which charges their KakaoPay Money or fails the payment (unknown user, above
``single_payment_limit``, balance too low). There is no ``approve`` endpoint: nobody but
the simulated traveller ever approves.

Its control API, which is **not** part of KakaoPay::

    GET  /_sim/ledger    [{"kind", "tid", "partner_order_id", "aid", "payload",
                           "account_id", "amount", "currency", "time"}, ...]
    GET  /_sim/accounts  [{"account_id", "name", "balance", "currency"}, ...]
    GET  /_sim/stats     {"pay_requests": n, "charges": n}
    POST /_sim/faults    {"latency_seconds": 0.5, "unknown_status": true}
                         -> the faults now in force (either key optional; 400 if bad)

Example::

    app = create_simulator(SimulatedWallet(cid="TC0ONETIME", secret_key="DEV...", ...))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    # or: uvicorn.run(app, host="127.0.0.1", port=8802)
"""

from __future__ import annotations

import asyncio
import hmac
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

from connectors.conformance import ConformanceTarget
from connectors.kakaopay import KakaoPayConnector
from connectors.kakaopay._sim_book import WalletBook
from connectors.kakaopay._sim_wire import (
    INVALID_PARAMETER,
    UNAUTHORIZED,
    Answer,
    WalletError,
    encode,
    error_body,
)
from connectors.simulation import Faults, control_routes

__all__ = [
    "UNDEFINED_STATUS",
    "SimulatedAccount",
    "SimulatedWallet",
    "conformance_target",
    "create_simulator",
]

_JSON = "application/json;charset=UTF-8"
#: What ``unknown_status`` puts where a status goes: a value KakaoPay does not define.
UNDEFINED_STATUS = "HOLD_PAYMENT"


@dataclass
class SimulatedAccount:
    """One KakaoPay user. ``user_id`` is what the hub sends as ``partner_user_id`` (the
    traveller's payment code); ``balance`` is KakaoPay Money, in won."""

    account_id: str
    user_id: str = field(repr=False)  # the traveller's payment code: a bearer credential
    balance: int
    name: str


@dataclass
class SimulatedWallet:
    """How to build a simulated KakaoPay. ``cid`` and ``secret_key`` are what the hub must
    present; ``single_payment_limit`` is in won; ``clock`` (monotonic seconds) times the
    travellers' approvals, so tests can move it. ``refunds_deduplicated=False`` makes
    refunds behave as the real KakaoPay's: a cancel sent twice with one ``payload`` refunds
    twice (the ``payload`` is only recorded)."""

    cid: str
    secret_key: str = field(repr=False)
    accounts: list[SimulatedAccount]
    single_payment_limit: int | None = None
    approval_delay_seconds: float = 0.0
    latency_seconds: float = 0.0
    path_prefix: str = "/online/v1/payment"
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    refunds_deduplicated: bool = True


def create_simulator(wallet: SimulatedWallet) -> Starlette:
    """A fresh wallet app; its state lives in the app, so two apps never share balances."""
    book = WalletBook(
        cid=wallet.cid,
        accounts=wallet.accounts,
        single_payment_limit=wallet.single_payment_limit,
        approval_delay_seconds=wallet.approval_delay_seconds,
        clock=wallet.clock,
        refunds_deduplicated=wallet.refunds_deduplicated,
    )
    faults = Faults(latency_seconds=wallet.latency_seconds)
    expected = f"SECRET_KEY {wallet.secret_key}".encode()
    # WalletBook's methods never await, so each runs whole today; the lock keeps them
    # atomic should one ever pause half-way.
    lock = asyncio.Lock()

    def reply(answer: Answer) -> Response:
        status, body = answer
        return Response(encode(body), status_code=status, media_type=_JSON)

    async def serve(
        request: Request, operation: Callable[[Mapping[str, Any]], Answer], *, has_status: bool
    ) -> Response:
        raw = await request.body()
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return reply((401, error_body(UNAUTHORIZED, "the secret key is not valid")))
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            answer = WalletError(INVALID_PARAMETER, "the body is not a JSON object").answer()
        else:
            async with lock:
                try:
                    answer = operation(payload)
                except WalletError as exc:
                    answer = exc.answer()
        await faults.delay()  # after the books are written
        status, body = answer
        if has_status and status == 200 and faults.unknown_status:
            body = body | {"status": UNDEFINED_STATUS}
        return reply((status, body))

    async def ready(request: Request) -> Response:
        book.pay_requests += 1
        return await serve(request, book.ready, has_status=True)

    async def order(request: Request) -> Response:
        return await serve(request, book.order, has_status=True)

    async def cancel(request: Request) -> Response:
        return await serve(request, book.cancel, has_status=False)

    prefix = wallet.path_prefix
    return Starlette(
        routes=[
            Route(f"{prefix}/ready", ready, methods=["POST"]),
            Route(f"{prefix}/order", order, methods=["POST"]),
            Route(f"{prefix}/cancel", cancel, methods=["POST"]),
            *control_routes(
                faults,
                stats=lambda: {"pay_requests": book.pay_requests, "charges": book.charges},
                ledger=lambda: [entry.to_json() for entry in book.ledger],
                views={"accounts": book.accounts_json},
                lock=lock,
                settle=book.settle,
            ),
        ]
    )


def conformance_target() -> ConformanceTarget:
    """A fresh simulated KakaoPay with new credentials, a rich and a poor traveller, and
    the connector for it: a ¥1,200 purchase in Japan, charged as ₩11,016."""
    cid = "CW" + secrets.token_hex(4).upper()
    secret_key = "DEV" + secrets.token_hex(16).upper()
    payer, poor_payer = "281002" + "0" * 11 + "7", "281002" + "0" * 11 + "8"
    wallet = SimulatedWallet(
        cid=cid,
        secret_key=secret_key,
        accounts=[
            SimulatedAccount("KP-0001", payer, 2_000_000, "Kim Min-jun"),
            SimulatedAccount("KP-0002", poor_payer, 5_000, "Lee Seo-yeon"),
        ],
        single_payment_limit=3_000_000,
    )

    def connect(base_url: str) -> KakaoPayConnector:
        settings = {
            "base_url": base_url,
            "cid": cid,
            "secret_key": secret_key,
            "approval_url": "https://hub.causeway.test/kakaopay/return",
            "currencies": ["KRW"],
            "regions": ["KR"],
        }
        return KakaoPayConnector("kakaopay", settings)

    return ConformanceTarget(
        name="kakaopay",
        connect=connect,
        simulator=create_simulator(wallet),
        wallet_currency="KRW",
        payment_currency="JPY",
        payer=payer,
        poor_payer=poor_payer,
        pay_to_amount=11_016,
        payment_amount=1_200,
        secrets=(secret_key,),
        unknown_payer="281002" + "0" * 11 + "9",
    )
