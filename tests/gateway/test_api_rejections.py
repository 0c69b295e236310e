"""Bad requests get a clear, signed F result over HTTP 200, and nothing is persisted."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from connectors import RsaSigner, signed_content
from tests.gateway.conftest import LocalHub, pay_body

pytestmark = pytest.mark.anyio

PAY_PATH = "/aps/api/v1/payments/pay"


def _raw(
    hub: LocalHub, body: bytes, *, request_time: str | None = None, signed_body: bytes | None = None
) -> httpx.Request:
    """A pay request carrying ``body`` as is, signed over ``signed_body`` (default: body)."""
    signer = RsaSigner((hub.state_dir / "keys" / "acquirer-SIAM_ACQ.pem").read_bytes())
    moment = request_time or datetime.now(UTC).isoformat(timespec="seconds")
    content = signed_content("POST", PAY_PATH, "SIAM_ACQ", moment, signed_body or body)
    headers = {
        "Content-Type": "application/json; charset=UTF-8",
        "Client-Id": "SIAM_ACQ",
        "Request-Time": moment,
        "Signature": signer.header(content),
    }
    return hub.http.build_request("POST", hub.url + PAY_PATH, content=body, headers=headers)


async def _send(hub: LocalHub, request: httpx.Request) -> dict[str, Any]:
    response = await hub.http.send(request)
    assert response.status_code == 200
    return hub.siam.verify(request, response)  # every answer is signed by the hub


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
