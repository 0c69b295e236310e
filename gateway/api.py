"""The acquiring API over HTTP: authenticate, parse, dispatch, answer signed.

Every answer is HTTP 200 with a ``result`` and a signature, whatever went wrong: a merchant
never sees a 5xx or a stack trace. Authentication follows the Alipay+ rules: the client is
known, ``Request-Time`` is within the skew window, and the signature covers the raw bytes
as received.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors import signed_content
from gateway import metrics, render, wallet_api, wire
from gateway.config import Settings
from gateway.errors import CoordinationUnavailable, RequestRejected, StorageUnavailable
from gateway.hub import HEALTH_TIMEOUT_SECONDS, Acquirer, Hub
from gateway.openapi import OPENAPI_PATH, serve_openapi
from gateway.results import ResultCode
from gateway.wallet_api import WalletClient

__all__ = ["MAX_BODY_BYTES", "create_app"]

log = logging.getLogger("causeway.api")

MAX_BODY_BYTES = wire.MAX_BODY_BYTES

# What an acquirer reads when a service behind the gateway is down. Both are U: call again
# with the same request id (or inquire), which is always safe.
_LEDGER_DOWN = (
    "The gateway's ledger is unavailable. Inquire, or call again with the same request id."
)
_LOCKS_DOWN = (
    "The gateway's lock service is unavailable; nothing was recorded or sent to a wallet. "
    "Call again with the same request id."
)

Endpoint = Callable[[Hub, Acquirer, bytes], Awaitable[dict[str, Any]]]
WalletEndpoint = Callable[[Hub, WalletClient, bytes], Awaitable[dict[str, Any]]]
Client = TypeVar("Client", Acquirer, WalletClient)


async def _pay(hub: Hub, acquirer: Acquirer, body: bytes) -> dict[str, Any]:
    request = wire.parse(wire.PayRequest, body)
    factor = request.paymentFactor
    if factor.inStorePaymentScenario == "OrderCode" or factor.isCashierPayment == "true":
        return render.order(await hub.orders.create(acquirer.config, request), hub.cashier_url)
    answer = await hub.engine.pay(acquirer.config, request)
    return render.pay(answer, hub.engine.router)


async def _inquiry(hub: Hub, acquirer: Acquirer, body: bytes) -> dict[str, Any]:
    request = wire.parse(wire.InquiryPaymentRequest, body)
    try:
        payment = await hub.engine.inquire(acquirer.config, request)
    except RequestRejected as exc:
        # A request id may name an order no wallet has claimed yet.
        if exc.code is not ResultCode.ORDER_NOT_EXIST or not request.paymentRequestId:
            raise
        answer = await hub.orders.answer_for(acquirer.config, request.paymentRequestId)
        if answer is None:
            raise
        return render.order_inquiry(answer, request.paymentRequestId)
    return render.inquiry(payment, hub.engine.router)


async def _cancel(hub: Hub, acquirer: Acquirer, body: bytes) -> dict[str, Any]:
    request = wire.parse(wire.CancelPaymentRequest, body)
    answer = await hub.cancels.cancel(acquirer.config, request)
    return render.cancel(answer, hub.engine.router)


async def _refund(hub: Hub, acquirer: Acquirer, body: bytes) -> dict[str, Any]:
    request = wire.parse(wire.RefundRequest, body)
    answer = await hub.refunds.refund(acquirer.config, request)
    return render.refund(answer, hub.engine.router)


async def _consult(hub: Hub, acquirer: Acquirer, body: bytes) -> dict[str, Any]:
    request = wire.parse(wire.ConsultPaymentRequest, body)
    return render.consult(await hub.engine.consult(request))


async def _user_initiated_pay(hub: Hub, client: WalletClient, body: bytes) -> dict[str, Any]:
    return await wallet_api.user_initiated_pay(hub.orders, client, body)


async def _wallet_notify(hub: Hub, client: WalletClient, body: bytes) -> dict[str, Any]:
    return await wallet_api.notify_payment(hub.engine, client, body)


#: What wallets call (in the Alipay+ MPP form), authenticated by the wallet's own key.
WALLET_ENDPOINTS: dict[str, WalletEndpoint] = {
    "userInitiatedPay": _user_initiated_pay,
    "notifyPayment": _wallet_notify,
}

ENDPOINTS: dict[str, Endpoint] = {
    "pay": _pay,
    "inquiryPayment": _inquiry,
    "cancelPayment": _cancel,
    "refund": _refund,
    "consultPayment": _consult,
}


def _parse_request_time(value: str) -> datetime | None:
    """Alipay+ clients send ISO 8601 (Python, docs) or epoch milliseconds (Java SDK)."""
    try:
        if value.isascii() and value.isdigit():
            return datetime.fromtimestamp(int(value) / 1000, UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return moment if moment.tzinfo else None


def _authenticate(hub: Hub, request: Request, body: bytes, clients: Mapping[str, Client]) -> Client:
    client_id = request.headers.get("client-id")
    client = clients.get(client_id or "")
    if client is None or client_id is None:
        raise RequestRejected(ResultCode.INVALID_CLIENT, "Client-Id is missing or not known")
    request_time = request.headers.get("request-time")
    if not request_time:
        raise RequestRejected(ResultCode.PARAM_ILLEGAL, "the Request-Time header is required")
    moment = _parse_request_time(request_time)
    if moment is None:
        raise RequestRejected(
            ResultCode.PARAM_ILLEGAL,
            "Request-Time must be ISO 8601 with an offset, or epoch milliseconds",
        )
    skew = abs((datetime.now(UTC) - moment).total_seconds())
    if skew > hub.settings.hub.request_time_skew_seconds:
        raise RequestRejected(
            ResultCode.REQUEST_TIME_EXCEED,
            f"Request-Time is {int(skew)} s from the gateway's clock; "
            f"at most {hub.settings.hub.request_time_skew_seconds} s is allowed",
        )
    signature = request.headers.get("signature")
    content = signed_content("POST", request.url.path, client_id, request_time, body)
    if not signature or not client.verifier.verify(content, signature):
        raise RequestRejected(ResultCode.INVALID_SIGNATURE)
    return client


async def _handle(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    started = time.perf_counter()
    api = request.path_params["api"]
    client_id = request.headers.get("client-id", "")
    try:
        if request.method != "POST":
            raise RequestRejected(ResultCode.METHOD_NOT_SUPPORTED)
        if api == "pay" and hub.engine.saturated:
            # Refused before the body is read, parsed or verified, and with an answer
            # signed at most once a second: shedding an overload must cost next to
            # nothing. (The engine checks again.)
            refusals: _Refusals = request.app.state.refusals
            return refusals.answer(hub, request.url.path, client_id)
        if api in ENDPOINTS:
            body = await _read_json_body(request)
            acquirer = _authenticate(hub, request, body, hub.acquirers)
            document = await ENDPOINTS[api](hub, acquirer, body)
        elif api in WALLET_ENDPOINTS:
            body = await _read_json_body(request)
            wallet = _authenticate(hub, request, body, hub.wallet_clients)
            document = await WALLET_ENDPOINTS[api](hub, wallet, body)
        else:
            raise RequestRejected(ResultCode.INVALID_API, f"no API named {api!r}")
    except RequestRejected as exc:
        document = {"result": wire.result_json(exc.code, exc.message)}
    except StorageUnavailable as exc:
        # The outcome may be recorded or not (the wallet may even have answered): the
        # acquirer inquires or calls again with the same request id, which is safe.
        log.warning("api=%s client=%s %s", api, client_id, exc)
        document = {"result": wire.result_json(ResultCode.UNKNOWN_EXCEPTION, _LEDGER_DOWN)}
    except CoordinationUnavailable as exc:
        log.warning("api=%s client=%s %s", api, client_id, exc)
        document = {"result": wire.result_json(ResultCode.UNKNOWN_EXCEPTION, _LOCKS_DOWN)}
    except Exception:
        # Never a 500 or a trace to a merchant: the outcome is unknown, so the acquirer
        # inquires or retries with the same request id, which is safe.
        log.exception("api=%s client=%s unexpected error", api, client_id)
        document = {"result": wire.result_json(ResultCode.UNKNOWN_EXCEPTION)}
    result = document["result"]
    hub.engine.metrics.answered(
        api, result["resultStatus"], result["resultCode"], time.perf_counter() - started
    )
    log.info(
        "api=%s client=%s result=%s/%s ms=%.1f",
        api,
        client_id,
        result["resultCode"],
        result["resultStatus"],
        (time.perf_counter() - started) * 1000,
    )
    return _signed(hub, request, client_id, document)


#: Headers read once each: sent twice, which one counts would be a guess.
_SINGLE_HEADERS = ("Client-Id", "Request-Time", "Signature", "Content-Type")
#: All header lines together; a signed request needs under one kilobyte. (uvicorn's
#: httptools parser sets no limit of its own.)
_MAX_HEADER_BYTES = 16 * 1024


async def _read_json_body(request: Request) -> bytes:
    """The body of an Alipay+-form call, once its headers are not ambiguous and, when a
    ``Content-Type`` is sent, it is JSON in UTF-8."""
    if sum(len(name) + len(value) for name, value in request.headers.raw) > _MAX_HEADER_BYTES:
        raise RequestRejected(
            ResultCode.PARAM_ILLEGAL, f"the headers exceed {_MAX_HEADER_BYTES} bytes"
        )
    for name in _SINGLE_HEADERS:
        if len(request.headers.getlist(name)) > 1:
            raise RequestRejected(ResultCode.PARAM_ILLEGAL, f"the {name} header is sent twice")
    content_type = request.headers.get("content-type")
    if content_type is not None:
        media_type, *parameters = (part.strip().lower() for part in content_type.split(";"))
        if media_type != "application/json":
            raise RequestRejected(
                ResultCode.MEDIA_TYPE_NOT_ACCEPTABLE,
                "Content-Type must be application/json",
            )
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip() == "charset" and value.strip().strip('"') not in ("utf-8", "utf8"):
                raise RequestRejected(
                    ResultCode.MEDIA_TYPE_NOT_ACCEPTABLE, "the body's charset must be UTF-8"
                )
    return await _read_body(request)


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise RequestRejected(ResultCode.PARAM_ILLEGAL, f"the body exceeds {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise RequestRejected(
                    ResultCode.PARAM_ILLEGAL, f"the body exceeds {MAX_BODY_BYTES} bytes"
                )
            chunks.append(chunk)
    except ClientDisconnect as exc:
        # Nobody reads the answer; this keeps a body cut short out of the error log.
        raise RequestRejected(ResultCode.PARAM_ILLEGAL, "the body was cut short") from exc
    return b"".join(chunks)


def _signed(hub: Hub, request: Request, client_id: str, document: dict[str, Any]) -> Response:
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    response_time = datetime.now(UTC).isoformat(timespec="milliseconds")
    content = signed_content("POST", request.url.path, client_id, response_time, body)
    return Response(
        body,
        media_type="application/json; charset=UTF-8",
        headers={
            "client-id": client_id,
            "response-time": response_time,
            "signature": hub.signer.header(content),
        },
    )


class _Refusals:
    """The signed answer to a pay refused because the gateway is saturated, made at most
    once a second for each client.

    Under overload most calls are refused, and an RSA signature for each refusal (about a
    quarter of a millisecond) took CPU from the payments being served. The answer's body
    never changes, and its ``Response-Time`` to the second is true of every refusal made in
    that second, so one signature serves them all. Only the current second's answers are
    kept: a flood of made-up client ids costs what it did before, and no memory. Refusals
    are logged as one line a second with their number, not one each.
    """

    _BODY = json.dumps(
        {"result": wire.result_json(ResultCode.REQUEST_TRAFFIC_EXCEED_LIMIT)},
        separators=(",", ":"),
    ).encode()

    def __init__(self) -> None:
        self._second = ""
        self._signatures: dict[tuple[str, str], str] = {}
        self._refused = 0

    def answer(self, hub: Hub, path: str, client_id: str) -> Response:
        second = datetime.now(UTC).isoformat(timespec="seconds")
        if second != self._second:
            if self._refused:
                log.warning(
                    "%d pays refused in %s: the limit of %d in flight was reached",
                    self._refused,
                    self._second,
                    hub.engine.payments_in_flight,
                )
            self._second, self._signatures, self._refused = second, {}, 0
        self._refused += 1
        hub.engine.metrics.pays_refused.inc()
        signature = self._signatures.get((path, client_id))
        if signature is None:
            content = signed_content("POST", path, client_id, second, self._BODY)
            signature = self._signatures[path, client_id] = hub.signer.header(content)
        return Response(
            self._BODY,
            media_type="application/json; charset=UTF-8",
            headers={"client-id": client_id, "response-time": second, "signature": signature},
        )


async def _callback(request: Request) -> Response:
    """A wallet's callback on its own protocol, for its route's connector to read."""
    hub: Hub = request.app.state.hub
    route = request.path_params["route"]
    try:
        body = await _read_body(request)
        inbound = httpx.Request(
            request.method, str(request.url), headers=request.headers.raw, content=body
        )
        answer = await wallet_api.connector_callback(hub.engine, hub.refunds, route, inbound)
    except RequestRejected:
        return Response(status_code=413)
    except Exception:
        # The wallet calls back again; our failure must not look like an acknowledgement.
        log.exception("route=%s callback failed", route)
        return Response(status_code=503)
    return Response(answer.content, answer.status_code, dict(answer.headers))


async def _health(request: Request) -> Response:
    """Liveness and readiness in one: 200 while the ledger and Redis answer, 503 (with
    which one is down) otherwise, so a load balancer sends traffic elsewhere."""
    hub: Hub = request.app.state.hub
    services = await hub.check_services()
    ready = all(state in ("ok", "in-process") for state in services.values())
    return JSONResponse(
        {
            "status": "ok" if ready else "degraded",
            "services": services,
            "routes": sorted(r.name for r in hub.engine.router.routes),
            "disabled_routes": hub.skipped_routes,
        },
        status_code=200 if ready else 503,
    )


async def _metrics(request: Request) -> Response:
    """The gateway's counters for Prometheus (:mod:`gateway.metrics`), with the ledger's
    unresolved counts; while the ledger is down, the counters without them."""
    hub: Hub = request.app.state.hub
    try:
        unresolved = await asyncio.wait_for(hub.store.unresolved_counts(), HEALTH_TIMEOUT_SECONDS)
    except (StorageUnavailable, TimeoutError):
        unresolved = {}
    return Response(hub.engine.metrics.render(unresolved), media_type=metrics.CONTENT_TYPE)


def create_app(settings: Settings) -> Starlette:
    """The ASGI app; the hub is built in its lifespan, so importing builds nothing."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        hub = await Hub.start(settings)
        hub.start_background()
        app.state.hub = hub
        try:
            yield
        finally:
            await hub.close()

    app = Starlette(
        routes=[
            Route(
                "/aps/api/v1/payments/{api}",
                _handle,
                methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            ),
            Route("/wallets/{route}/notify", _callback, methods=["POST"]),
            Route("/health", _health, methods=["GET"]),
            Route("/metrics", _metrics, methods=["GET"]),
            Route(OPENAPI_PATH, serve_openapi, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.refusals = _Refusals()
    return app
