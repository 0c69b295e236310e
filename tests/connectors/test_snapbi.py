"""The SNAP BI connector's requests: bodies, headers, the symmetric signature, amounts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from connectors import (
    Amount,
    CancelRequest,
    Connector,
    InquireRequest,
    Merchant,
    Operation,
    PayRequest,
    QuoteTerms,
    RefundRequest,
)
from connectors.snapbi import SnapBiConnector
from connectors.snapbi._signature import minify
from connectors.snapbi._wire import decimal_value

NOW = datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)  # 15:00 in Jakarta
SECRET = "hub-client-secret-7f3a"
TOKEN = "eyJhbGciOiJIUzUxMiJ9.b2b.token"
SETTINGS: dict[str, Any] = {
    "base_url": "https://api.wallet.test",
    "partner_id": "HUB-PARTNER-01",
    "client_secret": SECRET,
    "access_token": TOKEN,
    "channel_id": "95221",
    "merchant_id": "216620000000000001",
    "currencies": ["IDR"],
    "regions": ["ID"],
}
QUOTE = QuoteTerms(
    quote_id="Q-20260301-0007",
    base_currency="JPY",
    quote_currency="IDR",
    price=Decimal("106.0"),
    start=NOW - timedelta(minutes=1),
    expiry=NOW + timedelta(minutes=9),
)
PAY = PayRequest(
    wallet_request_id="pay-7c1f0a3e-w1",
    acquirer_id="CAUSEWAY",
    payment_code="cust-token-rina-0001",
    payment_amount=Amount("JPY", 1200),
    pay_to_amount=Amount("IDR", 12_720_000),
    quote=QUOTE,
    merchant=Merchant("M-000123", "Ramen Ichiban", "5812", "JP"),
    order_description="2 x ramen",
    reference_order_id="ORD-991",
    expiry=NOW + timedelta(minutes=1),
)
REFUND = RefundRequest(
    refund_request_id="rfd-55-w1",
    wallet_request_id=PAY.wallet_request_id,
    wallet_payment_id="2026030111212800100166301400001",
    acquirer_id="CAUSEWAY",
    refund_amount=Amount("JPY", 600),
    refund_from_amount=Amount("IDR", 6_360_000),
    quote=QUOTE,
    reason="one ramen was cold",
)


@pytest.fixture
def connector() -> SnapBiConnector:
    return SnapBiConnector("dana", SETTINGS, clock=lambda: NOW)


def sent(request: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.content)
    return body


def expected_signature(path: str, body: bytes, timestamp: str) -> str:
    """The SNAP recipe, written out again with nothing but the standard library."""
    digest = hashlib.sha256(body).hexdigest().lower()
    text = f"POST:{path}:{TOKEN}:{digest}:{timestamp}"
    mac = hmac.new(SECRET.encode(), text.encode(), hashlib.sha512).digest()
    return base64.b64encode(mac).decode()


def test_pay_body(connector: SnapBiConnector) -> None:
    request = connector.build_pay(PAY)
    assert request.method == "POST"
    assert str(request.url) == "https://api.wallet.test/v1.0/debit/payment-host-to-host"
    assert sent(request) == {
        "partnerReferenceNo": "pay-7c1f0a3e-w1",
        "merchantId": "216620000000000001",
        "amount": {"value": "127200.00", "currency": "IDR"},
        "validUpTo": "2026-03-01T15:01:00+07:00",
        "additionalInfo": {
            "mcc": "5812",
            "order": {
                "orderTitle": "2 x ramen",
                "orderMemo": "Ramen Ichiban (JP)",
                "internationalOrderInfo": {
                    "originOrderAmount": {"value": "1200", "currency": "JPY"},
                    "exchangeRate": {"rate": "106.0", "exchangeRelation": "JPY/IDR"},
                    "totalAmount": {"value": "127200.00", "currency": "IDR"},
                },
            },
        },
    }


def test_pay_headers_carry_the_snap_credentials(connector: SnapBiConnector) -> None:
    request = connector.build_pay(PAY)
    headers = request.headers
    assert headers["content-type"] == "application/json"
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["authorization-customer"] == "Bearer cust-token-rina-0001"
    assert headers["x-timestamp"] == "2026-03-01T15:00:00+07:00"
    assert headers["x-partner-id"] == "HUB-PARTNER-01"
    assert headers["channel-id"] == "95221"
    assert len(headers["x-external-id"]) == 32
    assert headers["x-external-id"].isdigit()


@pytest.mark.parametrize("code", ["", "two words", "line\nbreak", "caf\u00e9"])
def test_a_payment_code_that_cannot_be_a_header_is_refused_unseen(
    connector: SnapBiConnector, code: str
) -> None:
    with pytest.raises(ValueError, match="customer token") as caught:
        connector.build_pay(replace(PAY, payment_code=code))
    assert code not in str(caught.value) or not code


def test_the_signature_is_hmac_sha512_over_the_snap_string(connector: SnapBiConnector) -> None:
    for request in (
        connector.build_pay(PAY),
        connector.build_inquire(InquireRequest(PAY.wallet_request_id, "CAUSEWAY")),
        connector.build_refund(REFUND),
    ):
        timestamp = request.headers["x-timestamp"]
        expected = expected_signature(request.url.path, request.content, timestamp)
        assert request.headers["x-signature"] == expected


def test_the_signed_path_includes_the_base_urls_path() -> None:
    connector = SnapBiConnector("dana", SETTINGS | {"base_url": "https://api.test/rest/"})
    request = connector.build_cancel(CancelRequest(PAY.wallet_request_id, "CAUSEWAY"))
    assert request.url.path == "/rest/v1.0/debit/cancel"
    expected = expected_signature(
        "/rest/v1.0/debit/cancel", request.content, request.headers["x-timestamp"]
    )
    assert request.headers["x-signature"] == expected


def test_bodies_are_sent_minified(connector: SnapBiConnector) -> None:
    content = connector.build_pay(PAY).content
    assert minify(content) == content
    assert b": " not in content
    assert b", " not in content


def test_minify_strips_whitespace_between_tokens_only() -> None:
    pretty = b'{\n  "a" : "x y\\" z",\n\t"b": [1, 2],\r\n "c": "caf\xc3\xa9 "\n}'
    assert minify(pretty) == b'{"a":"x y\\" z","b":[1,2],"c":"caf\xc3\xa9 "}'


def test_external_ids_are_deterministic_per_operation_and_request(
    connector: SnapBiConnector,
) -> None:
    def external(request: Any) -> str:
        value: str = request.headers["x-external-id"]
        return value

    pay = external(connector.build_pay(PAY))
    assert external(connector.build_pay(PAY)) == pay
    assert external(connector.build_pay(replace(PAY, wallet_request_id="pay-2"))) != pay
    cancel = external(connector.build_cancel(CancelRequest(PAY.wallet_request_id, "X")))
    refund = external(connector.build_refund(REFUND))
    assert len({pay, cancel, refund}) == 3
    assert external(connector.build_refund(REFUND)) == refund


def test_each_inquiry_is_a_new_message() -> None:
    moments = iter([NOW, NOW + timedelta(seconds=5)])
    connector = SnapBiConnector("dana", SETTINGS, clock=lambda: next(moments))
    inquiry = InquireRequest(PAY.wallet_request_id, "CAUSEWAY")
    first = connector.build_inquire(inquiry).headers["x-external-id"]
    second = connector.build_inquire(inquiry).headers["x-external-id"]
    assert first != second


def test_status_cancel_and_refund_bodies(connector: SnapBiConnector) -> None:
    status = connector.build_inquire(InquireRequest(PAY.wallet_request_id, "CAUSEWAY"))
    assert status.url.path == "/v1.0/debit/status"
    assert sent(status) == {
        "originalPartnerReferenceNo": "pay-7c1f0a3e-w1",
        "serviceCode": "54",
        "merchantId": "216620000000000001",
    }
    cancel = connector.build_cancel(CancelRequest(PAY.wallet_request_id, "CAUSEWAY"))
    assert cancel.url.path == "/v1.0/debit/cancel"
    assert sent(cancel) == {
        "originalPartnerReferenceNo": "pay-7c1f0a3e-w1",
        "merchantId": "216620000000000001",
    }
    refund = connector.build_refund(REFUND)
    assert refund.url.path == "/v1.0/debit/refund"
    assert sent(refund) == {
        "originalPartnerReferenceNo": "pay-7c1f0a3e-w1",
        "originalReferenceNo": "2026030111212800100166301400001",
        "partnerRefundNo": "rfd-55-w1",
        "refundAmount": {"value": "63600.00", "currency": "IDR"},
        "merchantId": "216620000000000001",
        "reason": "one ramen was cold",
    }
    for request in (status, cancel, refund):
        assert "authorization-customer" not in request.headers


def test_optional_fields_are_left_out_never_empty(connector: SnapBiConnector) -> None:
    body = sent(connector.build_pay(replace(PAY, quote=None, expiry=None)))
    assert "validUpTo" not in body
    assert "exchangeRate" not in body["additionalInfo"]["order"]["internationalOrderInfo"]
    refund = sent(connector.build_refund(replace(REFUND, wallet_payment_id=None, reason=None)))
    assert not {"originalReferenceNo", "reason"} & refund.keys()


def test_naive_expiry_is_read_as_utc(connector: SnapBiConnector) -> None:
    body = sent(connector.build_pay(replace(PAY, expiry=datetime(2026, 3, 1, 8, 1))))
    assert body["validUpTo"] == "2026-03-01T15:01:00+07:00"


def test_rates_are_fixed_point(connector: SnapBiConnector) -> None:
    quote = replace(QUOTE, price=Decimal("1.06E+2"))
    body = sent(connector.build_pay(replace(PAY, quote=quote)))
    assert body["additionalInfo"]["order"]["internationalOrderInfo"]["exchangeRate"] == {
        "rate": "106",
        "exchangeRelation": "JPY/IDR",
    }


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Amount("IDR", 1_000_000), "10000.00"),
        (Amount("IDR", 5), "0.05"),
        (Amount("IDR", 0), "0.00"),
        (Amount("JPY", 1200), "1200"),
        (Amount("KWD", 1_234_567), "1234.567"),
    ],
)
def test_amounts_use_the_iso_4217_exponent(amount: Amount, text: str) -> None:
    assert decimal_value(amount) == text


@pytest.mark.parametrize("amount", [Amount("XAU", 1), Amount("ZZZ", 1), Amount("IDR", -1)])
def test_amounts_that_snap_cannot_write_are_refused(amount: Amount) -> None:
    with pytest.raises(ValueError, match="cannot be written as a SNAP amount"):
        decimal_value(amount)


def test_it_is_a_connector_with_its_capabilities(connector: SnapBiConnector) -> None:
    assert isinstance(connector, Connector)
    assert connector.name == "dana"
    assert connector.capabilities.operations == frozenset(Operation)
    assert connector.capabilities.currencies == {"IDR"}
    assert connector.capabilities.regions == {"ID"}
    assert connector.capabilities.modes == {"PaymentCode"}
