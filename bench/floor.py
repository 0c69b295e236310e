"""The floor: the least a signed forward hop must do, to measure Causeway against.

Per payment it verifies the acquirer's signature, inserts one row, signs a pay request to
the wallet, sends it, checks the wallet's signature and answers the acquirer signed: the
same RSA work as the gateway (two signatures, two verifications) and one database write,
with none of the gateway's idempotency, routing, quoting or state machine. It speaks just
enough Alipay+ for the bench's own pay requests. A uvicorn factory: ``bench.floor:app``.

The floor forwards with aiohttp by default; ``--floor-client httpx`` (the gateway's client,
with the gateway's pool limits) shows what the HTTP client alone costs.

``bench.floor:guarded_app`` (target ``guarded``) is the floor plus what the gateway's
invariants cannot do without: the payment's lock in Redis (the gateway's own
:class:`~gateway.coordination.RedisLocks`), a read of the request id before the insert
(idempotency), and the final state written once the wallet has answered. How far it falls
below the floor is how far below the floor any gateway keeping those guarantees must be.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import aiohttp
import asyncpg
import httpx
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench import stage as stages
from connectors import RsaSigner, RsaVerifier, signed_content
from fx import AMOUNT_ROUNDING
from gateway.coordination import RedisLocks
from gateway.store import POOL_SIZE

__all__ = ["FLOOR_TABLE", "app", "guarded_app"]

FLOOR_TABLE = """
CREATE TABLE IF NOT EXISTS floor_payments (
    acquirer_id text NOT NULL,
    payment_request_id text NOT NULL,
    currency text NOT NULL,
    amount bigint NOT NULL,
    status text NOT NULL DEFAULT 'PENDING',
    created_at timestamptz NOT NULL,
    PRIMARY KEY (acquirer_id, payment_request_id)
)"""

_INSERT = """
INSERT INTO floor_payments (acquirer_id, payment_request_id, currency, amount, created_at)
VALUES ($1, $2, $3, $4, now())"""
_FIND = "SELECT status FROM floor_payments WHERE acquirer_id = $1 AND payment_request_id = $2"
_FINISH = "UPDATE floor_payments SET status = $3 WHERE acquirer_id = $1 AND payment_request_id = $2"
#: The guarded floor's lock lapses after this long, as the gateway's does by default.
_LOCK_TTL = 30.0

_PATH = "/aps/api/v1/payments/pay"
_HUB_ID = "CAUSEWAY"
#: KRW per THB minor unit: the floor does no FX, it only needs a plausible amount.
_KRW_PER_SATANG = Decimal("0.39")

#: Sends (url, body, headers) and returns (HTTP status, body, lower-cased headers).
Forward = Callable[[str, bytes, dict[str, str]], Awaitable[tuple[int, bytes, dict[str, str]]]]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _result(status: str, code: str) -> dict[str, Any]:
    return {"result": {"resultStatus": status, "resultCode": code, "resultMessage": code}}


def app() -> Starlette:
    """The floor."""
    return _app(guarded=False)


def guarded_app() -> Starlette:
    """The floor with the gateway's lock, idempotency read and final state."""
    return _app(guarded=True)


def _app(*, guarded: bool) -> Starlette:
    stage = stages.load()
    keys = stage.keys
    signer = RsaSigner((keys / "hub.pem").read_bytes())
    acquirer = RsaVerifier((keys / f"acquirer-{stages.ACQUIRER}.pub.pem").read_bytes())
    wallet = RsaVerifier((keys / f"wallet-{stages.WALLET}.pub.pem").read_bytes())
    wallet_url = stage.url(stage.wallet_port) + _PATH
    state: dict[str, Any] = {}

    def signed(client_id: str, document: dict[str, Any]) -> Response:
        body = json.dumps(document, separators=(",", ":")).encode()
        moment = _now()
        content = signed_content("POST", _PATH, client_id, moment, body)
        headers = {"client-id": client_id, "response-time": moment}
        headers["signature"] = signer.header(content)
        return Response(body, media_type="application/json; charset=UTF-8", headers=headers)

    async def pay(request: Request) -> Response:
        raw = await request.body()
        headers = request.headers
        client_id = headers.get("client-id", "")
        content = signed_content("POST", _PATH, client_id, headers.get("request-time", ""), raw)
        if client_id != stages.ACQUIRER or not acquirer.verify(
            content, headers.get("signature", "")
        ):
            return signed(client_id, _result("F", "INVALID_SIGNATURE"))
        document = json.loads(raw)
        if not guarded:
            status, code = await hop(client_id, document)
            return signed(client_id, _result(status, code))
        request_id = document["paymentRequestId"]
        pool: asyncpg.Pool = state["pool"]
        locks: RedisLocks = state["locks"]
        async with locks.hold(f"payment:{client_id}:{request_id}", ttl=_LOCK_TTL, wait=0):
            if await pool.fetchval(_FIND, client_id, request_id) is not None:
                return signed(client_id, _result("U", "PAYMENT_IN_PROCESS"))
            status, code = await hop(client_id, document)
            await pool.execute(_FINISH, client_id, request_id, status)
        return signed(client_id, _result(status, code))

    async def hop(client_id: str, document: dict[str, Any]) -> tuple[str, str]:
        """Insert, forward signed, check the wallet's signature: its (status, code)."""
        request_id = document["paymentRequestId"]
        amount = document["paymentAmount"]
        pool: asyncpg.Pool = state["pool"]
        await pool.execute(_INSERT, client_id, request_id, amount["currency"], int(amount["value"]))
        krw = (int(amount["value"]) * _KRW_PER_SATANG).to_integral_value(AMOUNT_ROUNDING)
        pay_to = max(1, int(krw))
        outbound = json.dumps(
            {
                "paymentRequestId": f"F{request_id}",
                "paymentAmount": amount,
                "payToAmount": {"currency": "KRW", "value": str(pay_to)},
                "paymentMethod": document["paymentMethod"],
            },
            separators=(",", ":"),
        ).encode()
        moment = _now()
        forward: Forward = state["forward"]
        status, answer, answer_headers = await forward(
            wallet_url,
            outbound,
            {
                "Content-Type": "application/json; charset=UTF-8",
                "Client-Id": _HUB_ID,
                "Request-Time": moment,
                "Signature": signer.header(
                    signed_content("POST", _PATH, _HUB_ID, moment, outbound)
                ),
            },
        )
        checked = signed_content(
            "POST",
            _PATH,
            answer_headers.get("client-id", ""),
            answer_headers.get("response-time", ""),
            answer,
        )
        if status != 200 or not wallet.verify(checked, answer_headers.get("signature", "")):
            return "U", "UNKNOWN_EXCEPTION"
        outcome = json.loads(answer)["result"]
        return outcome["resultStatus"], outcome["resultCode"]

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # As many connections as a gateway process has; closed once idle, so that the
        # targets measured later in the run find the server's connections free.
        pool = await asyncpg.create_pool(
            stage.dsn, min_size=0, max_size=POOL_SIZE, max_inactive_connection_lifetime=5.0
        )
        state["pool"] = pool
        redis = Redis.from_url(stage.redis_url)
        state["locks"] = RedisLocks(redis, prefix=stage.redis_prefix + "floor-lock:")
        try:
            if stage.floor_client == "httpx":
                async with httpx.AsyncClient(
                    timeout=10.0,
                    limits=httpx.Limits(max_connections=200, max_keepalive_connections=100),
                ) as client:
                    state["forward"] = _httpx_forward(client)
                    yield
            else:
                async with aiohttp.ClientSession(
                    timeout=aiohttp.ClientTimeout(total=10),
                    connector=aiohttp.TCPConnector(limit=200),
                ) as session:
                    state["forward"] = _aiohttp_forward(session)
                    yield
        finally:
            await redis.aclose()
            await pool.close()

    return Starlette(routes=[Route(_PATH, pay, methods=["POST"])], lifespan=lifespan)


def _aiohttp_forward(session: aiohttp.ClientSession) -> Forward:
    async def forward(
        url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        async with session.post(url, data=body, headers=headers) as response:
            answer = await response.read()
            return response.status, answer, {k.lower(): v for k, v in response.headers.items()}

    return forward


def _httpx_forward(client: httpx.AsyncClient) -> Forward:
    async def forward(
        url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        response = await client.post(url, content=body, headers=headers)
        return response.status_code, response.content, dict(response.headers)

    return forward
