"""The Alipay+ connector as a translator: requests it builds, recorded answers it parses."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors import (
    Amount,
    CancelRequest,
    Connector,
    InquireRequest,
    Merchant,
    Operation,
    Outcome,
    PayRequest,
    QuoteTerms,
    RefundRequest,
    RsaSigner,
    RsaVerifier,
    WalletProtocolError,
    build_connector,
    signed_content,
)
from connectors.alipayplus import AlipayPlusConnector

FIXTURES = Path(__file__).parent / "fixtures" / "alipayplus"
PREFIX = "/aps/api/v1/payments"
WALLET_CLIENT_ID = "KRWALLET_0001"

QUOTE = QuoteTerms(
    quote_id="Q-20260301-0007",
    base_currency="JPY",
    quote_currency="KRW",
    price=Decimal("9.18"),
    start=datetime(2026, 3, 1, 7, 59, tzinfo=UTC),
    expiry=datetime(2026, 3, 1, 8, 9, tzinfo=UTC),
)
MERCHANT = Merchant(
    merchant_id="M-000123",
    name="Ramen Ichiban",
    mcc="5812",
    region="JP",
    store_id="S-01",
    store_name="Shibuya",
)
PAY = PayRequest(
    wallet_request_id="pay-7c1f0a3e-w1",
    acquirer_id="CAUSEWAY",
    payment_code="281012020190010133",
    payment_amount=Amount("JPY", 1200),
    pay_to_amount=Amount("KRW", 11016),
    quote=QUOTE,
    merchant=MERCHANT,
    order_description="2 x ramen",
    reference_order_id="ORD-991",
    expiry=datetime(2026, 3, 1, 8, 1, tzinfo=UTC),
)
INQUIRE = InquireRequest(wallet_request_id="pay-7c1f0a3e-w1", acquirer_id="CAUSEWAY")
CANCEL = CancelRequest(wallet_request_id="pay-7c1f0a3e-w1", acquirer_id="CAUSEWAY")
REFUND = RefundRequest(
    refund_request_id="rfd-55-w1",
    wallet_request_id="pay-7c1f0a3e-w1",
    wallet_payment_id="20260301190796060008A0001628707",
    acquirer_id="CAUSEWAY",
    refund_amount=Amount("JPY", 600),
    refund_from_amount=Amount("KRW", 5508),
    quote=QUOTE,
    reason="one ramen was cold",
)


def recorded(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def answer(
    api: str,
    body: bytes,
    keys: tuple[bytes, bytes] | None,
    *,
    status: int = 200,
    sign_path: str | None = None,
) -> httpx.Response:
    """The wallet's response to ``api``, signed with ``keys``' private half (or unsigned)."""
    headers = {"content-type": "application/json; charset=UTF-8"}
    if keys is not None:
        response_time = "2026-03-01T16:00:03+08:00"
        content = signed_content(
            "POST", sign_path or f"{PREFIX}/{api}", WALLET_CLIENT_ID, response_time, body
        )
        headers |= {
            "client-id": WALLET_CLIENT_ID,
            "response-time": response_time,
            "signature": RsaSigner(keys[0]).header(content),
        }
    return httpx.Response(status, headers=headers, content=body)


def sent(request: httpx.Request) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.content)
    return body


def scalars(value: object) -> list[object]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in scalars(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in scalars(item)]
    return [value]


# --- requests -------------------------------------------------------------------------


def test_pay_request_is_the_mpp_pay(connector: AlipayPlusConnector) -> None:
    request = connector.build_pay(PAY)
    assert request.method == "POST"
    assert str(request.url) == "http://wallet.test/aps/api/v1/payments/pay"
    assert sent(request) == {
        "acquirerId": "CAUSEWAY",
        "pspId": "KRWALLET",
        "paymentRequestId": "pay-7c1f0a3e-w1",
        "paymentAmount": {"currency": "JPY", "value": "1200"},
        "payToAmount": {"currency": "KRW", "value": "11016"},
        "paymentQuote": {
            "quoteId": "Q-20260301-0007",
            "quoteCurrencyPair": "JPY/KRW",
            "quotePrice": "9.18",
            "quoteStartTime": "2026-03-01T07:59:00+00:00",
            "quoteExpiryTime": "2026-03-01T08:09:00+00:00",
        },
        "paymentMethod": {
            "paymentMethodType": "CONNECT_WALLET",
            "paymentMethodId": PAY.payment_code,
        },
        "order": {
            "referenceOrderId": "ORD-991",
            "orderDescription": "2 x ramen",
            "orderAmount": {"currency": "JPY", "value": "1200"},
            "merchant": {
                "referenceMerchantId": "M-000123",
                "merchantName": "Ramen Ichiban",
                "merchantMCC": "5812",
                "merchantAddress": {"region": "JP"},
                "store": {"referenceStoreId": "S-01", "storeName": "Shibuya"},
            },
        },
        "paymentExpiryTime": "2026-03-01T08:01:00+00:00",
        "paymentFactor": {"isInStorePayment": "true", "inStorePaymentScenario": "PaymentCode"},
    }


def test_request_headers_are_signed_with_the_hub_key(
    connector: AlipayPlusConnector, hub_keys: tuple[bytes, bytes]
) -> None:
    request = connector.build_pay(PAY)
    assert request.headers["content-type"] == "application/json; charset=UTF-8"
    assert request.headers["client-id"] == "HUB_CLIENT_0001"
    assert request.headers["request-time"] == "2026-03-01T08:00:00+00:00"
    assert request.headers["signature"].startswith("algorithm=RSA256,keyVersion=1,signature=")
    content = signed_content(
        "POST", f"{PREFIX}/pay", "HUB_CLIENT_0001", "2026-03-01T08:00:00+00:00", request.content
    )
    assert RsaVerifier(hub_keys[1]).verify(content, request.headers["signature"])


def test_optional_fields_are_left_out_never_empty(connector: AlipayPlusConnector) -> None:
    bare = replace(
        PAY, quote=None, expiry=None, merchant=replace(MERCHANT, store_id=None, store_name=None)
    )
    body = sent(connector.build_pay(bare))
    assert not {"paymentQuote", "paymentExpiryTime"} & body.keys()
    assert "store" not in body["order"]["merchant"]
    assert all(isinstance(leaf, str) and leaf for leaf in scalars(body))


def test_every_scalar_is_a_string(connector: AlipayPlusConnector) -> None:
    for request in (
        connector.build_pay(PAY),
        connector.build_refund(REFUND),
        connector.build_inquire(INQUIRE),
    ):
        leaves = scalars(sent(request))
        assert leaves
        assert all(isinstance(leaf, str) for leaf in leaves)


def test_quote_price_is_fixed_point(connector: AlipayPlusConnector) -> None:
    quote = replace(QUOTE, price=Decimal("1E+1"))
    body = sent(connector.build_pay(replace(PAY, quote=quote)))
    assert body["paymentQuote"]["quotePrice"] == "10"


def test_naive_times_are_sent_as_utc(connector: AlipayPlusConnector) -> None:
    body = sent(connector.build_pay(replace(PAY, expiry=datetime(2026, 3, 1, 8, 1))))
    assert body["paymentExpiryTime"] == "2026-03-01T08:01:00+00:00"


@pytest.mark.parametrize(
    ("operation", "api"), [("inquire", "inquiryPayment"), ("cancel", "cancelPayment")]
)
def test_inquiry_and_cancel_name_the_payment(
    connector: AlipayPlusConnector, operation: str, api: str
) -> None:
    request = (
        connector.build_inquire(INQUIRE)
        if operation == "inquire"
        else connector.build_cancel(CANCEL)
    )
    assert request.url.path == f"{PREFIX}/{api}"
    assert sent(request) == {
        "acquirerId": "CAUSEWAY",
        "pspId": "KRWALLET",
        "paymentRequestId": "pay-7c1f0a3e-w1",
    }


def test_refund_request(connector: AlipayPlusConnector) -> None:
    request = connector.build_refund(REFUND)
    assert request.url.path == f"{PREFIX}/refund"
    body = sent(request)
    assert body.pop("refundQuote")["quoteCurrencyPair"] == "JPY/KRW"
    assert body == {
        "acquirerId": "CAUSEWAY",
        "pspId": "KRWALLET",
        "paymentRequestId": "pay-7c1f0a3e-w1",
        "paymentId": "20260301190796060008A0001628707",
        "refundRequestId": "rfd-55-w1",
        "refundAmount": {"currency": "JPY", "value": "600"},
        "refundFromAmount": {"currency": "KRW", "value": "5508"},
        "refundReason": "one ramen was cold",
    }
    unknown_id = sent(connector.build_refund(replace(REFUND, wallet_payment_id=None, reason=None)))
    assert not {"paymentId", "refundReason"} & unknown_id.keys()


def test_base_url_path_and_key_version_are_honoured(
    settings: dict[str, Any], hub_keys: tuple[bytes, bytes]
) -> None:
    settings |= {"base_url": "https://wallet.test/mpp/", "path_prefix": "/v2", "key_version": "7"}
    request = AlipayPlusConnector("kr", settings).build_inquire(INQUIRE)
    assert str(request.url) == "https://wallet.test/mpp/v2/inquiryPayment"
    assert "keyVersion=7" in request.headers["signature"]
    content = signed_content(
        "POST",
        "/mpp/v2/inquiryPayment",
        "HUB_CLIENT_0001",
        request.headers["request-time"],
        request.content,
    )
    assert RsaVerifier(hub_keys[1]).verify(content, request.headers["signature"])


# --- recorded answers ------------------------------------------------------------------


def test_pay_success(connector: AlipayPlusConnector, wallet_keys: tuple[bytes, bytes]) -> None:
    result = connector.parse_pay(PAY, answer("pay", recorded("pay_success"), wallet_keys))
    assert result.outcome is Outcome.SUCCEEDED
    assert result.code == "SUCCESS"
    assert result.wallet_payment_id == "20260301190796060008A0001628707"
    assert result.customer_id == "2088102104522391"
    assert result.paid_at == datetime(2026, 3, 1, 8, 0, 2, tzinfo=UTC)


@pytest.mark.parametrize("keys_used", ["wallet", "none"])
def test_pay_declined_for_balance(
    connector: AlipayPlusConnector, wallet_keys: tuple[bytes, bytes], keys_used: str
) -> None:
    keys = wallet_keys if keys_used == "wallet" else None
    result = connector.parse_pay(PAY, answer("pay", recorded("pay_declined_balance"), keys))
    assert result.outcome is Outcome.FAILED
    assert result.code == result.wallet_code == "USER_BALANCE_NOT_ENOUGH"
    assert result.message == "The user balance is not enough for this payment."


def test_pay_in_process_is_pending(
    connector: AlipayPlusConnector, wallet_keys: tuple[bytes, bytes]
) -> None:
    result = connector.parse_pay(PAY, answer("pay", recorded("pay_in_process"), wallet_keys))
    assert result.outcome is Outcome.PENDING
    assert result.wallet_code == "PAYMENT_IN_PROCESS"


@pytest.mark.parametrize("status", ["X", "s", "SUCCESS", ""])
def test_unknown_result_status_is_pending_never_success(
    connector: AlipayPlusConnector, wallet_keys: tuple[bytes, bytes], status: str
) -> None:
    body = recorded("pay_success").replace(
        b'"resultStatus": "S"', f'"resultStatus": "{status}"'.encode()
    )
    for keys in (wallet_keys, None):
        assert connector.parse_pay(PAY, answer("pay", body, keys)).outcome is Outcome.PENDING


def test_inconsistent_repeat_leaves_the_payment_to_an_inquiry(
    connector: AlipayPlusConnector, wallet_keys: tuple[bytes, bytes]
) -> None:
    body = (
        b'{"result":{"resultCode":"REPEAT_REQ_INCONSISTENT","resultStatus":"F",'
        b'"resultMessage":"Repeated request with inconsistent fields."}}'
    )
    result = connector.parse_pay(PAY, answer("pay", body, wallet_keys))
    assert result.outcome is Outcome.PENDING
    assert result.wallet_code == "REPEAT_REQ_INCONSISTENT"


def test_numbers_where_strings_are_due_do_not_lose_a_charge(
    connector: AlipayPlusConnector, wallet_keys: tuple[bytes, bytes]
) -> None:
    body = b'{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"paymentId":2026030100017}'
    result = connector.parse_pay(PAY, answer("pay", body, wallet_keys))
    assert result.outcome is Outcome.SUCCEEDED
    assert result.wallet_payment_id == "2026030100017"
    assert result.paid_at is None


@pytest.mark.parametrize("keys_used", ["wallet", "none"])
def test_inquiry_of_an_unknown_order_is_declined(
    connector: AlipayPlusConnector, wallet_keys: tuple[bytes, bytes], keys_used: str
) -> None:
    keys = wallet_keys if keys_used == "wallet" else None
    response = answer("inquiryPayment", recorded("inquiry_order_not_exist"), keys)
    result = connector.parse_inquire(INQUIRE, response)
    assert result.outcome is Outcome.FAILED
    assert result.code == "ORDER_NOT_EXIST"


def test_inquiry_success(connector: AlipayPlusConnector, wallet_keys: tuple[bytes, bytes]) -> None:
    response = answer("inquiryPayment", recorded("inquiry_success"), wallet_keys)
    result = connector.parse_inquire(INQUIRE, response)
    assert result.outcome is Outcome.SUCCEEDED
    assert result.wallet_payment_id == "20260301190796060008A0001628707"
    assert result.customer_id == "2088102104522391"


def test_inquiry_unknown_payment_status_is_pending(
    connector: AlipayPlusConnector, wallet_keys: tuple[bytes, bytes]
) -> None:
    response = answer("inquiryPayment", recorded("inquiry_unknown_status"), wallet_keys)
    result = connector.parse_inquire(INQUIRE, response)
    assert result.outcome is Outcome.PENDING
    assert result.wallet_code == "WAIT_USER_CONFIRM"


def test_inquiry_falls_back_on_payment_status(
    connector: AlipayPlusConnector, wallet_keys: tuple[bytes, bytes]
) -> None:
    response = answer("inquiryPayment", recorded("inquiry_payment_status_cancelled"), wallet_keys)
    result = connector.parse_inquire(INQUIRE, response)
    assert result.outcome is Outcome.FAILED
    assert result.code == "ORDER_IS_CLOSED"


@pytest.mark.parametrize(
    "body",
    [
        b'{"result":{"resultCode":"PROCESS_FAIL","resultStatus":"F","resultMessage":"busy"}}',
        b'{"result":{"resultCode":"UNKNOWN_EXCEPTION","resultStatus":"U"}}',
        b'{"result":{"resultCode":"SUCCESS","resultStatus":"S"}}',
        b'{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"paymentStatus":"REVIEWING"}',
    ],
    ids=["inquiry-failed", "inquiry-unknown", "no-payment-result", "odd-payment-status"],
)
def test_an_inquiry_that_says_nothing_final_is_pending(
    connector: AlipayPlusConnector, wallet_keys: tuple[bytes, bytes], body: bytes
) -> None:
    result = connector.parse_inquire(INQUIRE, answer("inquiryPayment", body, wallet_keys))
    assert result.outcome is Outcome.PENDING


def test_cancel_answers(connector: AlipayPlusConnector, wallet_keys: tuple[bytes, bytes]) -> None:
    ok = connector.parse_cancel(
        CANCEL, answer("cancelPayment", recorded("cancel_success"), wallet_keys)
    )
    assert ok.outcome is Outcome.SUCCEEDED
    refused = b'{"result":{"resultCode":"ORDER_STATUS_INVALID","resultStatus":"F"}}'
    declined = connector.parse_cancel(CANCEL, answer("cancelPayment", refused, None))
    assert (declined.outcome, declined.code) == (Outcome.FAILED, "ORDER_STATUS_INVALID")
    unsure = b'{"result":{"resultCode":"UNKNOWN_EXCEPTION","resultStatus":"U"}}'
    assert connector.parse_cancel(CANCEL, answer("cancelPayment", unsure, None)).outcome is (
        Outcome.PENDING
    )


def test_refund_answers(connector: AlipayPlusConnector, wallet_keys: tuple[bytes, bytes]) -> None:
    ok = connector.parse_refund(REFUND, answer("refund", recorded("refund_success"), wallet_keys))
    assert ok.outcome is Outcome.SUCCEEDED
    assert ok.wallet_refund_id == "20260301190796060008R0000039021"
    assert ok.refunded_at == datetime(2026, 3, 1, 17, 30, 45, tzinfo=UTC) - timedelta(hours=8)
    exceeded = connector.parse_refund(REFUND, answer("refund", recorded("refund_exceeded"), None))
    assert (exceeded.outcome, exceeded.code) == (Outcome.FAILED, "REFUND_AMOUNT_EXCEED")


# --- signatures, HTTP status, garbage ---------------------------------------------------


def test_unsigned_success_is_rejected(connector: AlipayPlusConnector) -> None:
    with pytest.raises(WalletProtocolError, match="unsigned"):
        connector.parse_pay(PAY, answer("pay", recorded("pay_success"), None))
    with pytest.raises(WalletProtocolError, match="unsigned"):
        connector.parse_inquire(
            INQUIRE, answer("inquiryPayment", recorded("inquiry_success"), None)
        )


@pytest.mark.parametrize("fixture", ["pay_success", "pay_declined_balance"])
def test_a_bad_signature_is_rejected_whatever_the_status(
    connector: AlipayPlusConnector, stranger_keys: tuple[bytes, bytes], fixture: str
) -> None:
    with pytest.raises(WalletProtocolError, match="does not verify") as caught:
        connector.parse_pay(PAY, answer("pay", recorded(fixture), stranger_keys))
    assert caught.value.connector == "kr-wallet"
    assert caught.value.http_status == 200


def test_a_tampered_body_is_rejected(
    connector: AlipayPlusConnector, wallet_keys: tuple[bytes, bytes]
) -> None:
    response = answer("pay", recorded("pay_success"), wallet_keys)
    forged = httpx.Response(
        200, headers=response.headers, content=response.content.replace(b"A00016", b"A00099")
    )
    with pytest.raises(WalletProtocolError, match="does not verify"):
        connector.parse_pay(PAY, forged)


def test_a_signature_for_another_api_is_rejected(
    connector: AlipayPlusConnector, wallet_keys: tuple[bytes, bytes]
) -> None:
    response = answer("refund", recorded("refund_success"), wallet_keys, sign_path=f"{PREFIX}/pay")
    with pytest.raises(WalletProtocolError, match="does not verify"):
        connector.parse_refund(REFUND, response)


def test_a_half_signed_response_is_rejected(
    connector: AlipayPlusConnector, wallet_keys: tuple[bytes, bytes]
) -> None:
    response = answer("pay", recorded("pay_declined_balance"), wallet_keys)
    headers = {k: v for k, v in response.headers.items() if k != "response-time"}
    with pytest.raises(WalletProtocolError, match="half-signed"):
        connector.parse_pay(PAY, httpx.Response(200, headers=headers, content=response.content))


def test_signature_header_names_are_case_insensitive(
    connector: AlipayPlusConnector, wallet_keys: tuple[bytes, bytes]
) -> None:
    response = answer("pay", recorded("pay_success"), wallet_keys)
    shouted = [(k.title(), v) for k, v in response.headers.items()]
    result = connector.parse_pay(
        PAY, httpx.Response(200, headers=shouted, content=response.content)
    )
    assert result.outcome is Outcome.SUCCEEDED


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_pending_for_every_operation(connector: AlipayPlusConnector, status: int) -> None:
    response = httpx.Response(status, content=b"<html>Bad Gateway</html>")
    outcomes = [
        connector.parse_pay(PAY, response).outcome,
        connector.parse_inquire(INQUIRE, response).outcome,
        connector.parse_cancel(CANCEL, response).outcome,
        connector.parse_refund(REFUND, response).outcome,
    ]
    assert outcomes == [Outcome.PENDING] * 4


@pytest.mark.parametrize("status", [201, 301, 400, 401, 404, 429])
def test_other_non_200_is_a_protocol_error(connector: AlipayPlusConnector, status: int) -> None:
    with pytest.raises(WalletProtocolError) as caught:
        connector.parse_pay(PAY, httpx.Response(status, content=recorded("pay_declined_balance")))
    assert caught.value.http_status == status


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html>gateway</html>",
        b"[]",
        b'{"paymentId":"123"}',
        b'{"result":{"resultCode":"SUCCESS"}}',
        b'{"result":"S"}',
        b"\xff\xfe{}",
    ],
    ids=["empty", "html", "list", "no-result", "no-status", "result-not-object", "not-utf8"],
)
def test_garbage_is_a_protocol_error(connector: AlipayPlusConnector, body: bytes) -> None:
    with pytest.raises(WalletProtocolError, match="malformed") as caught:
        connector.parse_pay(PAY, httpx.Response(200, content=body))
    assert caught.value.http_status == 200


# --- configuration and contract ---------------------------------------------------------


def test_it_is_a_connector_with_its_capabilities(connector: AlipayPlusConnector) -> None:
    assert isinstance(connector, Connector)
    assert connector.name == "kr-wallet"
    assert connector.capabilities.operations == frozenset(Operation)
    assert connector.capabilities.currencies == {"KRW"}
    assert connector.capabilities.regions == {"KR"}
    assert connector.capabilities.modes == {"PaymentCode"}


def test_the_registry_builds_it(settings: dict[str, Any]) -> None:
    built = build_connector("alipayplus", "kr", settings)
    assert isinstance(built, AlipayPlusConnector)
    assert built.name == "kr"


def test_an_answer_about_another_payment_is_rejected(
    connector: AlipayPlusConnector, wallet_keys: tuple[bytes, bytes]
) -> None:
    body = recorded("inquiry_success").replace(b"pay-7c1f0a3e-w1", b"pay-someone-else")
    response = answer("inquiryPayment", body, wallet_keys)
    with pytest.raises(WalletProtocolError, match="pay-someone-else"):
        connector.parse_inquire(INQUIRE, response)
    ours = connector.parse_inquire(
        INQUIRE, answer("inquiryPayment", recorded("inquiry_success"), wallet_keys)
    )
    assert ours.outcome is Outcome.SUCCEEDED
