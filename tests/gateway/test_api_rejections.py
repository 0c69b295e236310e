"""Bad requests get a clear, signed F result over HTTP 200, and nothing is persisted."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from connectors import RsaSigner, signed_content
from gateway.api import MAX_BODY_BYTES
from tests.gateway.conftest import LocalHub, pay_body

pytestmark = pytest.mark.anyio

PAY_PATH = "/aps/api/v1/payments/pay"


def _headers(
    hub: LocalHub,
    body: bytes,
    *,
    path: str = PAY_PATH,
    key: str = "SIAM_ACQ",
    content_type: str = "application/json; charset=UTF-8",
    request_time: str | None = None,
) -> dict[str, str]:
    """Headers of a request from SIAM_ACQ, signed for ``path`` with ``key``'s key, at
    ``request_time`` (default: now)."""
    signer = RsaSigner((hub.state_dir / "keys" / f"acquirer-{key}.pem").read_bytes())
    moment = request_time or datetime.now(UTC).isoformat(timespec="seconds")
    content = signed_content("POST", path, "SIAM_ACQ", moment, body)
    return {
        "Content-Type": content_type,
        "Client-Id": "SIAM_ACQ",
        "Request-Time": moment,
        "Signature": signer.header(content),
    }


def _raw(
    hub: LocalHub, body: bytes, *, request_time: str | None = None, signed_body: bytes | None = None
) -> httpx.Request:
    """A pay request carrying ``body`` as is, signed over ``signed_body`` (default: body)."""
    headers = _headers(hub, signed_body or body, request_time=request_time)
    return hub.http.build_request("POST", hub.url + PAY_PATH, content=body, headers=headers)


def _answer(hub: LocalHub, response: httpx.Response) -> dict[str, Any]:
    """The answer in ``response``: over HTTP 200, and signed by the hub (every answer is)."""
    assert response.status_code == 200
    return hub.siam.verify(response.request, response)


async def _send(hub: LocalHub, request: httpx.Request) -> dict[str, Any]:
    return _answer(hub, await hub.http.send(request))


async def _assert_not_persisted(hub: LocalHub, request_id: str) -> None:
    inquiry = await hub.siam.call("inquiryPayment", {"paymentRequestId": request_id})
    assert inquiry["result"]["resultCode"] == "ORDER_NOT_EXIST"
    for route in hub.wallets:
        assert (await hub.stats(route))["pay_requests"] == 0


async def test_an_unknown_client_is_refused(hub: LocalHub) -> None:
    request = hub.siam.build("pay", pay_body("rej-1"))
    request.headers["Client-Id"] = "NOBODY"

    answer = await _send(hub, request)

    assert answer["result"]["resultCode"] == "INVALID_CLIENT"
    await _assert_not_persisted(hub, "rej-1")


@pytest.mark.parametrize(
    "signature",
    [None, "algorithm=RSA256,keyVersion=1,signature=bm90LWEtc2lnbmF0dXJl", "garbage"],
    ids=["missing", "wrong", "malformed"],
)
async def test_a_bad_signature_is_refused(hub: LocalHub, signature: str | None) -> None:
    request = hub.siam.build("pay", pay_body("rej-2"))
    if signature is None:
        del request.headers["Signature"]
    else:
        request.headers["Signature"] = signature

    answer = await _send(hub, request)

    assert answer["result"]["resultCode"] == "INVALID_SIGNATURE"
    await _assert_not_persisted(hub, "rej-2")


async def test_a_body_changed_after_signing_is_refused(hub: LocalHub) -> None:
    signed = json.dumps(pay_body("rej-3", value="100")).encode()
    tampered = json.dumps(pay_body("rej-3", value="100000")).encode()
    request = _raw(hub, tampered, signed_body=signed)

    answer = await _send(hub, request)

    assert answer["result"]["resultCode"] == "INVALID_SIGNATURE"
    await _assert_not_persisted(hub, "rej-3")


@pytest.mark.parametrize("moment", ["99999999999999999999", "yesterday", "2026-11-21T08:00:00"])
async def test_an_unreadable_request_time_is_refused(hub: LocalHub, moment: str) -> None:
    request = _raw(hub, json.dumps(pay_body("rej-7")).encode(), request_time=moment)

    answer = await _send(hub, request)

    assert answer["result"]["resultCode"] == "PARAM_ILLEGAL"
    assert "Request-Time" in answer["result"]["resultMessage"]


async def test_a_stale_request_time_is_refused(hub: LocalHub) -> None:
    # The client signs whatever Request-Time it sends; an old one is refused even when
    # the signature is good.
    stale = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
    request = _raw(hub, json.dumps(pay_body("rej-4")).encode(), request_time=stale)

    answer = await _send(hub, request)

    assert answer["result"]["resultCode"] == "REQUEST_TIME_EXCEED"
    assert answer["result"]["resultStatus"] == "F"
    await _assert_not_persisted(hub, "rej-4")


def _with(path: list[str], value: object) -> dict[str, Any]:
    body = pay_body("rej-5")
    target = body
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (["paymentAmount", "value"], 125000, "paymentAmount.value"),
        (["paymentAmount", "value"], "-5", "paymentAmount.value"),
        (["paymentAmount", "value"], "12.50", "paymentAmount.value"),
        (["paymentAmount", "value"], "0", "paymentAmount.value"),
        (["paymentAmount", "value"], "0125000", "paymentAmount.value"),
        (["paymentAmount", "value"], "10000000000000000000", "paymentAmount.value"),
        (["paymentMethod", "paymentMethodId"], "٢٨١٠٠٢٠٠٠٠٠٠٠٠٠٠٠١٣", "paymentMethodId"),
        (["allowedPspRegions"], ["kr"], "allowedPspRegions.0"),
        (["paymentAmount", "currency"], "XYZ", "paymentAmount.currency"),
        (["paymentAmount", "currency"], "thb", "paymentAmount.currency"),
        (["paymentRequestId"], _DELETE, "paymentRequestId"),
        (["paymentRequestId"], "x" * 65, "paymentRequestId"),
        (["order", "merchant"], _DELETE, "order.merchant"),
        (["order", "orderAmount", "currency"], "USD", "order.orderAmount.currency"),
        (["paymentMethod", "paymentMethodId"], _DELETE, "paymentMethod.paymentMethodId"),
        (["paymentFactor", "inStorePaymentScenario"], "EntryCode", "inStorePaymentScenario"),
    ],
    ids=[
        "number-not-string",
        "negative",
        "fractional",
        "zero",
        "leading-zero",
        "beyond-64-bits",
        "non-ascii-digits",
        "lowercase-region",
        "unknown-currency",
        "lowercase-currency",
        "missing-id",
        "id-too-long",
        "missing-merchant",
        "order-currency-differs",
        "missing-code",
        "unsupported-scenario",
    ],
)
async def test_invalid_fields_are_param_illegal_naming_the_field(
    hub: LocalHub, path: list[str], value: object, named: str
) -> None:
    answer = await hub.siam.call("pay", _with(path, value))

    assert answer["result"]["resultCode"] == "PARAM_ILLEGAL"
    assert answer["result"]["resultStatus"] == "F"
    assert named in answer["result"]["resultMessage"]
    await _assert_not_persisted(hub, "rej-5")


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"", '{"a": "\xff"}'.encode("latin-1")])
async def test_a_body_that_is_not_a_json_object_is_param_illegal(
    hub: LocalHub, body: bytes
) -> None:
    answer = await _send(hub, _raw(hub, body))

    assert answer["result"]["resultCode"] == "PARAM_ILLEGAL"


async def test_an_oversized_body_is_refused_before_it_is_read(hub: LocalHub) -> None:
    body = pay_body("rej-6")
    body["order"]["orderDescription"] = "x" * 100_000
    answer = await hub.siam.call("pay", body)

    assert answer["result"]["resultCode"] == "PARAM_ILLEGAL"
    assert "exceeds" in answer["result"]["resultMessage"]
    await _assert_not_persisted(hub, "rej-6")


async def test_other_methods_and_unknown_apis_get_a_result(hub: LocalHub) -> None:
    got = await hub.http.get(f"{hub.url}/aps/api/v1/payments/pay")
    unknown = await hub.siam.call("capture", {})

    assert got.status_code == 200
    assert got.json()["result"]["resultCode"] == "METHOD_NOT_SUPPORTED"
    assert unknown["result"]["resultCode"] == "INVALID_API"


# Malformed requests of every other kind: each is answered F naming what is wrong, never
# with a 5xx, and nothing is recorded or sent to a wallet for it.


async def _refused(
    hub: LocalHub, response: httpx.Response, code: str, named: str, request_id: str
) -> None:
    """``response`` is a signed F ``code`` whose message names ``named``, and nothing of
    ``request_id`` was recorded or sent."""
    answer = _answer(hub, response)
    assert answer["result"]["resultCode"] == code, answer
    assert answer["result"]["resultStatus"] == "F"
    assert named in answer["result"]["resultMessage"]
    await _assert_not_persisted(hub, request_id)


def _signature_of(hub: LocalHub, body: bytes) -> str:
    """The ``signature=`` part of a good signature over ``body``."""
    return _headers(hub, body)["Signature"].split("signature=", 1)[1]


@pytest.mark.parametrize(
    "header",
    [
        "algorithm=RSA256,keyVersion=1",
        "algorithm=SHA256withRSA,keyVersion=1,signature={good}",
        "algorithm=HMAC256,keyVersion=1,signature={good}",
        "algorithm=RSA256,keyVersion=1,signature=!!not*base64!!",
        "algorithm=RSA256,keyVersion=1,signature=",
        "algorithm=RSA256,keyVersion=1,signature=" + "QUJD" * 3_000,
        "algorithm=RSA256,keyVersion=1,signature={good}{good}",
        "algorithm=RSA256,,,=,keyVersion==1,signature=={good}",
    ],
    ids=[
        "no-signature-part",
        "other-algorithm-name",
        "hmac",
        "not-base64",
        "empty",
        "huge",
        "doubled",
        "stray-separators",
    ],
)
async def test_a_malformed_signature_header_is_refused(hub: LocalHub, header: str) -> None:
    body = json.dumps(pay_body("rej-sig")).encode()
    headers = _headers(hub, body)
    headers["Signature"] = header.format(good=_signature_of(hub, body))

    response = await hub.raw("pay", body, headers)

    await _refused(hub, response, "INVALID_SIGNATURE", "signature", "rej-sig")


@pytest.mark.parametrize("case", ["other-acquirers-key", "signed-for-another-path"])
async def test_a_good_signature_for_something_else_is_refused(hub: LocalHub, case: str) -> None:
    body = json.dumps(pay_body("rej-else")).encode()
    if case == "other-acquirers-key":
        headers = _headers(hub, body, key="TOKYO_ACQ")
    else:
        headers = _headers(hub, body, path="/aps/api/v1/payments/consultPayment")

    response = await hub.raw("pay", body, headers)

    await _refused(hub, response, "INVALID_SIGNATURE", "signature", "rej-else")


@pytest.mark.parametrize("name", ["Client-Id", "Signature", "Request-Time", "Content-Type"])
async def test_a_header_sent_twice_is_refused(hub: LocalHub, name: str) -> None:
    body = json.dumps(pay_body("rej-twice")).encode()
    headers = _headers(hub, body)
    # The good value first: a gateway reading only the first one would accept the request.
    doubled = {"Client-Id": "TOKYO_ACQ", "Signature": "garbage", "Request-Time": "0"}
    pairs = [*headers.items(), (name, doubled.get(name, "application/json"))]
    request = hub.http.build_request("POST", hub.url + PAY_PATH, content=body, headers=pairs)

    response = await hub.http.send(request)

    await _refused(hub, response, "PARAM_ILLEGAL", name, "rej-twice")


@pytest.mark.parametrize("size", [17_000, 200_000])
async def test_oversized_headers_are_refused(hub: LocalHub, size: int) -> None:
    body = json.dumps(pay_body("rej-big-header")).encode()
    headers = {**_headers(hub, body), "X-Padding": "x" * size}

    response = await hub.raw("pay", body, headers)

    await _refused(hub, response, "PARAM_ILLEGAL", "headers exceed", "rej-big-header")


@pytest.mark.parametrize(
    ("content_type", "named"),
    [
        ("text/plain", "application/json"),
        ("application/x-www-form-urlencoded", "application/json"),
        ("multipart/form-data; boundary=x", "application/json"),
        ("application/jsonp", "application/json"),
        ("", "application/json"),
        ("application/json; charset=ISO-8859-1", "UTF-8"),
        ("application/json; charset=utf-16", "UTF-8"),
    ],
)
async def test_a_body_that_is_not_declared_json_is_refused(
    hub: LocalHub, content_type: str, named: str
) -> None:
    body = json.dumps(pay_body("rej-type")).encode()

    response = await hub.raw("pay", body, _headers(hub, body, content_type=content_type))

    await _refused(hub, response, "MEDIA_TYPE_NOT_ACCEPTABLE", named, "rej-type")


async def test_json_declared_in_any_case_and_spacing_is_accepted(hub: LocalHub) -> None:
    body = json.dumps(pay_body("ok-type")).encode()
    headers = _headers(hub, body, content_type='Application/JSON ;  Charset="utf-8"')

    response = await hub.raw("pay", body, headers)

    assert hub.siam.verify(response.request, response)["result"]["resultStatus"] == "S"


def _nested(depth: int) -> bytes:
    return b'{"paymentRequestId": "rej-body", "x": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b'"pay"', "JSON object"),
        (b"42", "JSON object"),
        (b"null", "JSON object"),
        (b"true", "JSON object"),
        (_nested(MAX_BODY_BYTES // 2 - 40), "nested too deeply"),
        (_nested(5_000), "nested too deeply"),
        (b'{"paymentRequestId": "rej-body", "x": 1e999999}', "out of range"),
        (b'{"paymentRequestId": "rej-body", "x": ' + b"9" * 4_000 + b"}", "number"),
        (b'{"paymentRequestId": "rej-body", "x": NaN}', "NaN"),
        (b'{"paymentRequestId": "rej-body", "x": -Infinity}', "Infinity"),
        (b"\xef\xbb\xbf" + json.dumps(pay_body("rej-body")).encode(), "byte-order mark"),
        (json.dumps(pay_body("rej-body")).encode("utf-16"), "UTF-8"),
        (json.dumps(pay_body("rej-body")).encode()[:-1] + b', "x": "\xc3\x28"}', "UTF-8"),
        (
            json.dumps(pay_body("rej-body"))[:-1].encode() + b', "paymentRequestId": "other"}',
            "'paymentRequestId' appears twice",
        ),
        (
            json.dumps(pay_body("rej-body", paymentRequestId="rej-body\u0000")).encode(),
            "NUL",
        ),
        (
            json.dumps({**pay_body("rej-body"), "orderDescription": "\ud83d"}).encode(),
            "surrogate",
        ),
    ],
    ids=[
        "string",
        "number",
        "null",
        "boolean",
        "nested-to-the-limit",
        "nested-5000",
        "huge-float",
        "huge-integer",
        "nan",
        "infinity",
        "bom",
        "utf-16",
        "invalid-utf-8",
        "duplicate-member",
        "nul-in-id",
        "lone-surrogate",
    ],
)
async def test_a_body_that_is_not_plain_json_is_param_illegal(
    hub: LocalHub, body: bytes, named: str
) -> None:
    response = await hub.raw("pay", body, _headers(hub, body))

    await _refused(hub, response, "PARAM_ILLEGAL", named, "rej-body")


async def test_an_oversized_chunked_body_is_refused(hub: LocalHub) -> None:
    # No Content-Length to refuse it by: the gateway stops reading at the limit.
    async def chunks() -> AsyncIterator[bytes]:
        yield json.dumps(pay_body("rej-chunked"))[:-1].encode() + b', "padding": "'
        for _ in range(200):
            yield b"x" * 1024
        yield b'"}'

    headers = _headers(hub, b"not what is sent")
    request = hub.http.build_request("POST", hub.url + PAY_PATH, content=chunks(), headers=headers)
    assert "content-length" not in request.headers

    response = await hub.http.send(request)

    await _refused(hub, response, "PARAM_ILLEGAL", "exceeds", "rej-chunked")


async def _exchange(hub: LocalHub, head: bytes, body: bytes, *, close: bool) -> bytes:
    """Send raw bytes on a fresh connection; what comes back until the server closes or
    goes quiet."""
    host, port = hub.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(head + body)
    await writer.drain()
    if close:
        writer.write_eof()
    try:
        received = b""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                while chunk := await reader.read(65536):
                    received += chunk
        return received
    finally:
        writer.close()


def _head(headers: dict[str, str], length: int) -> bytes:
    lines = [f"POST {PAY_PATH} HTTP/1.1", "Host: gateway", f"Content-Length: {length}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def test_a_body_longer_than_its_content_length_is_cut_there(hub: LocalHub) -> None:
    body = json.dumps(pay_body("rej-long")).encode()
    declared = len(body) - 10  # the rest is read as the start of another request

    received = await _exchange(hub, _head(_headers(hub, body), declared), body, close=False)

    # The server may answer the garbage "request" 400 and close before the first answer;
    # if the first is answered, the part read is not what was signed.
    statuses = [line for line in received.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]
    assert statuses
    assert all(status[9:10] in (b"2", b"4") for status in statuses), statuses
    if statuses[0] == b"HTTP/1.1 200 OK":
        assert b'"resultCode":"INVALID_SIGNATURE"' in received
    await _assert_not_persisted(hub, "rej-long")


async def test_a_body_shorter_than_its_content_length_is_not_processed(hub: LocalHub) -> None:
    body = json.dumps(pay_body("rej-short")).encode()

    received = await _exchange(hub, _head(_headers(hub, body), len(body) + 100), body, close=True)

    # The sender hung up mid-body: nothing useful can be answered, but no server error.
    assert b" 5" not in received.partition(b"\r\n")[0]
    await _assert_not_persisted(hub, "rej-short")


async def test_a_declared_length_above_the_limit_is_refused_unread(hub: LocalHub) -> None:
    body = json.dumps(pay_body("rej-declared")).encode()
    head = _head(_headers(hub, body), MAX_BODY_BYTES + 1)

    received = await _exchange(hub, head, body, close=False)

    assert received.startswith(b"HTTP/1.1 200 OK")
    assert b'"resultCode":"PARAM_ILLEGAL"' in received
    assert b"exceeds" in received
    await _assert_not_persisted(hub, "rej-declared")
