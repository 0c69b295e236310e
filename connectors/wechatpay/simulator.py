"""A simulated WeChat Pay (cross-border, API v2): a small Starlette app for demos and tests.

It answers ``POST /pay/micropay``, ``/pay/orderquery``, ``/secapi/pay/reverse`` and
``/secapi/pay/refund`` as the wallet would, in signed ``<xml>``: it refuses a request with a
bad signature or another merchant's number unprocessed (``return_code`` ``FAIL``,
unsigned), converts the merchant's currency to CNY at its own rates, keeps balances in fen,
deduplicates on ``out_trade_no`` and ``out_refund_no``, and keeps a ledger. Payments above
``password_free_limit`` answer ``USERPAYING``; the payer "types the password"
``password_seconds`` later, after which an ``orderquery`` finds the final state. Mutual TLS
on ``/secapi/`` is not simulated.

Its control API, which is **not** part of WeChat Pay and is unsigned, is the one
:mod:`connectors.conformance` documents, plus ``GET /_sim/accounts``, ``GET /_sim/struck``
and the random faults ``causeway chaos`` injects::

    GET  /_sim/ledger    [{"kind", "out_trade_no", "out_refund_no", "openid", "amount",
                           "currency", "time"}, ...]             amounts in fen
    GET  /_sim/accounts  [{"openid", "name", "balance", "currency"}, ...]
    GET  /_sim/stats     {"pay_requests": n, "charges": n}
    GET  /_sim/struck    {"reject": n, "error": n, "drop": n, "slow": n}  random faults so far
    POST /_sim/faults    {"latency_seconds": 0.5, "unknown_status": true, "error_rate": 0.1,
                          "drop_rate": 0.1, "reject_rate": 0.1, "slow_rate": 0.1,
                          "slow_seconds": 3, "seed": 7}  -> the faults in force (a random
                          one only once set; see _sim_faults)

Example::

    app = create_simulator(SimulatedWallet(appid="wx...", mch_id="10000100", ...))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    # or: uvicorn.run(app, host="127.0.0.1", port=8802)
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.conformance import ConformanceTarget
from connectors.simulation import body_of, control_routes
from connectors.wechatpay import WeChatPayConnector
from connectors.wechatpay._sim_book import WalletBook
from connectors.wechatpay._sim_faults import Faults
from connectors.wechatpay._sim_wire import BadRequest, failure, refused
from connectors.wechatpay._xml import Signer, XmlError, decode, encode

__all__ = ["SimulatedAccount", "SimulatedWallet", "conformance_target", "create_simulator"]

_XML = "text/xml; charset=UTF-8"

_Operation = Callable[[Mapping[str, str]], dict[str, str]]


@dataclass
class SimulatedAccount:
    """One WeChat user. ``auth_code`` is the 18-digit payment code they show (here it stays
    valid; a real one lasts a minute); ``balance`` is in fen."""

    openid: str
    auth_code: str = field(repr=False)  # a bearer credential while it is valid
    balance: int
    name: str


@dataclass
class SimulatedWallet:
    """How to build a simulated wallet for one merchant account.

    ``rates`` are CNY per major unit of each merchant currency (CNY itself is 1);
    ``single_payment_limit`` and ``password_free_limit`` are in fen.
    """

    appid: str
    mch_id: str
    api_key: str = field(repr=False)
    accounts: list[SimulatedAccount]
    rates: Mapping[str, Decimal]
    single_payment_limit: int | None = None
    password_free_limit: int | None = None
    password_seconds: float = 0.0
    latency_seconds: float = 0.0


def create_simulator(wallet: SimulatedWallet) -> Starlette:
    """A fresh wallet app; its state lives in the app, so two apps never share balances."""
    signer = Signer(wallet.api_key)
    book = WalletBook(
        accounts=wallet.accounts,
        rates=wallet.rates,
        single_payment_limit=wallet.single_payment_limit,
        password_free_limit=wallet.password_free_limit,
        password_seconds=wallet.password_seconds,
    )
    faults = Faults(latency_seconds=wallet.latency_seconds)
    # WalletBook's methods never await, so today each runs whole; the lock keeps each
    # request's read-decide-write atomic should that ever change.
    lock = asyncio.Lock()

    def answer(raw: bytes, operation: _Operation, status_field: str | None) -> dict[str, str]:
        try:
            fields = decode(raw)
        except XmlError:
            return refused("XML format error")
        if fields.get("mch_id") != wallet.mch_id:
            return refused("mch_id does not exist")
        if fields.get("sign_type") != "HMAC-SHA256" or not signer.verify(fields):
            return refused("signature error")
        if fields.get("appid") != wallet.appid:
            business = failure("APPID_MCHID_NOT_MATCH", "appid and mch_id do not match")
        elif not fields.get("nonce_str"):
            business = failure("PARAM_ERROR", "nonce_str is required")
        else:
            try:
                business = operation(fields)
            except BadRequest as exc:
                business = failure("PARAM_ERROR", str(exc))
            # A copy: the book may have handed out an answer it keeps for repeats.
            business = faults.disguise(business, status_field)
        return signed(fields, business)

    def signed(request: Mapping[str, str], business: dict[str, str]) -> dict[str, str]:
        # The wallet echoes the identifiers it was sent, as WeChat Pay's answers do.
        echoed = {name: request[name] for name in ("appid", "sub_mch_id") if request.get(name)}
        head = {"return_code": "SUCCESS", "return_msg": "OK", "mch_id": wallet.mch_id}
        body = head | echoed | {"nonce_str": secrets.token_hex(8)} | business
        body["sign"] = signer.sign(body)
        return body

    async def serve(
        request: Request, operation: _Operation, status_field: str | None = None
    ) -> Response:
        raw = await body_of(request)
        if isinstance(raw, Response):
            return raw
        refused_call = faults.refuse()  # before the wallet looks at the call: nothing happens
        if refused_call is not None:
            return refused_call
        async with lock:
            book.settle_due(time.monotonic())
            body = answer(raw, operation, status_field)
        # After the books are written (see RandomFaults.deliver): late, a 500 or nothing.
        return await faults.deliver(Response(encode(body), media_type=_XML))

    async def micropay(request: Request) -> Response:
        book.pay_requests += 1
        return await serve(request, lambda f: book.micropay(f, time.monotonic()), "result_code")

    async def orderquery(request: Request) -> Response:
        return await serve(request, book.orderquery, "trade_state")

    async def reverse(request: Request) -> Response:
        return await serve(request, book.reverse)

    async def refund(request: Request) -> Response:
        return await serve(request, book.refund)

    return Starlette(
        routes=[
            Route("/pay/micropay", micropay, methods=["POST"]),
            Route("/pay/orderquery", orderquery, methods=["POST"]),
            Route("/secapi/pay/reverse", reverse, methods=["POST"]),
            Route("/secapi/pay/refund", refund, methods=["POST"]),
            *control_routes(
                faults,
                stats=lambda: {"pay_requests": book.pay_requests, "charges": book.charges},
                ledger=lambda: [entry.to_json() for entry in book.ledger],
                views={"accounts": book.accounts_json, "struck": lambda: faults.struck},
                lock=lock,
                settle=lambda: book.settle_due(time.monotonic()),
            ),
        ]
    )


def _payment_code() -> str:
    # Mainland users' codes start 10 to 14; 18 digits in all.
    return "13" + "".join(secrets.choice("0123456789") for _ in range(16))


def conformance_target() -> ConformanceTarget:
    """A fresh simulator with a generated API key, a rich payer, a poor one and a code
    that belongs to no one.

    The purchase is ¥1,200 (JPY), which the simulated wallet charges as CNY 57.36 at its
    rate of 0.0478 CNY per yen.
    """
    api_key = secrets.token_hex(16)
    appid, mch_id = "wx" + secrets.token_hex(8), "1900000109"
    rich, poor, stranger = _payment_code(), _payment_code(), _payment_code()
    wallet = SimulatedWallet(
        appid=appid,
        mch_id=mch_id,
        api_key=api_key,
        accounts=[
            SimulatedAccount("o-traveller-rich", rich, 1_000_000, "Li Wei"),
            SimulatedAccount("o-traveller-poor", poor, 1_000, "Wang Fang"),
        ],
        rates={"JPY": Decimal("0.0478")},
    )

    def connect(base_url: str) -> WeChatPayConnector:
        settings = {
            "base_url": base_url,
            "appid": appid,
            "mch_id": mch_id,
            "api_key": api_key,
            "currencies": ["CNY"],
            "regions": ["CN"],
        }
        return WeChatPayConnector("wechatpay", settings)

    return ConformanceTarget(
        name="wechatpay",
        connect=connect,
        simulator=create_simulator(wallet),
        wallet_currency="CNY",
        payment_currency="JPY",
        payer=rich,
        poor_payer=poor,
        pay_to_amount=5736,
        payment_amount=1200,
        secrets=(api_key,),
        unknown_payer=stranger,
    )
