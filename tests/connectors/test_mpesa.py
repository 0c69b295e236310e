"""The M-Pesa connector as a translator: requests it builds, recorded answers it parses.

The fixtures are Daraja's published samples where Safaricom or its users published one
(push and query answers, the STK callback, the gateway errors); the reversal ``Result``
bodies are composed from the documented fields.
"""

from __future__ import annotations

import base64
import importlib
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors import (
    Amount,
    CancelRequest,
    Connector,
    ConnectorConfigError,
    ConnectorError,
    InquireRequest,
    Merchant,
    NotificationParser,
    Operation,
    OperationNotSupported,
    Outcome,
    PayRequest,
    RefundRequest,
    WalletNotification,
    WalletProtocolError,
)
from connectors.mpesa import AccessToken, MpesaConnector
from connectors.mpesa._translate import account_reference, password, whole_shillings

FIXTURES = Path(__file__).parent / "fixtures" / "mpesa"
NOW = datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)  # 11:00:00 in Nairobi
PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
CHECKOUT = "ws_CO_13012021093521236557"

PAY = PayRequest(
    wallet_request_id="pay-7c1f0a3e-w1",
    acquirer_id="CAUSEWAY",
    payment_code="254712345678",
    payment_amount=Amount("USD", 2000),
    pay_to_amount=Amount("KES", 258_000),
    quote=None,
    merchant=Merchant("M-000123", "Java House Nairobi", "5812", "US"),
    order_description="2 x coffee",
    reference_order_id="ORD-991",
)
REFUND = RefundRequest(
    refund_request_id="rfd-55-w1",
    wallet_request_id="pay-7c1f0a3e-w1",
    wallet_payment_id="SAP62GXMDU",
    acquirer_id="CAUSEWAY",
    refund_amount=Amount("USD", 1000),
    refund_from_amount=Amount("KES", 129_000),
    quote=None,
    reason="one coffee was cold",
)
INQUIRE = InquireRequest("pay-7c1f0a3e-w1", "CAUSEWAY", wallet_payment_id=CHECKOUT)


@pytest.fixture
def mpesa_settings() -> dict[str, Any]:
    return {
        "base_url": "https://api.safaricom.test",
        "consumer_key": "hub-consumer-key",
        "consumer_secret": "consumer-secret-0042",
        "shortcode": "174379",
        "passkey": PASSKEY,
        "callback_url": "https://hub.example/callbacks/mpesa",
        "initiator_name": "causeway_api",
        "security_credential": "ENCRYPTED-CREDENTIAL-0042==",
        "currencies": ["KES"],
        "regions": ["KE"],
        "access_token": "c9SQxWWhmdVRlyh0zh8gZDTkubVF",
    }


@pytest.fixture
def mpesa(mpesa_settings: dict[str, Any]) -> MpesaConnector:
    return MpesaConnector("mpesa-ke", mpesa_settings, clock=lambda: NOW)


def recorded(name: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=(FIXTURES / f"{name}.json").read_bytes())


def sent(request: httpx.Request) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.content)
    return body


def pay_url(mpesa: MpesaConnector) -> str:
    """The CallBackURL of the push for ``PAY``."""
    return str(sent(mpesa.build_pay(PAY))["CallBackURL"])


def refund_url(mpesa: MpesaConnector) -> str:
    """The ResultURL of the reversal for ``REFUND``."""
    return str(sent(mpesa.build_refund(REFUND))["ResultURL"])


# --- identity, token -------------------------------------------------------------------


def test_it_is_a_connector_without_cancel(mpesa: MpesaConnector) -> None:
    assert isinstance(mpesa, Connector)
    assert isinstance(mpesa, NotificationParser)
    assert mpesa.capabilities.operations == {Operation.PAY, Operation.INQUIRE, Operation.REFUND}
    assert mpesa.capabilities.currencies == {"KES"}
    assert mpesa.capabilities.regions == {"KE"}
    # Daraja queries a push by its CheckoutRequestID alone, and moves whole shillings.
    assert mpesa.capabilities.inquiry_by_request_id is False
    assert mpesa.capabilities.amount_step == 100
    cancel = CancelRequest("pay-7c1f0a3e-w1", "CAUSEWAY")
    with pytest.raises(OperationNotSupported):
        mpesa.build_cancel(cancel)
    with pytest.raises(OperationNotSupported):
        mpesa.parse_cancel(cancel, httpx.Response(200))


def test_no_secret_in_repr(mpesa: MpesaConnector, mpesa_settings: dict[str, Any]) -> None:
    token = mpesa.parse_token(recorded("token_success"))
    shown = repr(mpesa) + repr(mpesa.with_access_token(token)) + repr(token) + repr(vars(mpesa))
    assert "174379" in shown
    for key in ("consumer_secret", "passkey", "security_credential", "access_token"):
        assert mpesa_settings[key] not in shown


def test_token_request_is_basic_client_credentials(mpesa: MpesaConnector) -> None:
    request = mpesa.build_token_request()
    assert request.method == "GET"
    assert str(request.url) == (
        "https://api.safaricom.test/oauth/v1/generate?grant_type=client_credentials"
    )
    scheme, _, encoded = request.headers["authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded) == b"hub-consumer-key:consumer-secret-0042"


def test_token_answer_is_kept_with_a_safety_margin(mpesa: MpesaConnector) -> None:
    token = mpesa.parse_token(recorded("token_success"))
    assert token.value == "c9SQxWWhmdVRlyh0zh8gZDTkubVF"
    assert token.expires_at == NOW + timedelta(seconds=3599 - 60)


def test_refused_credentials_are_a_configuration_fault(mpesa: MpesaConnector) -> None:
    with pytest.raises(ConnectorConfigError, match="'consumer_key'/'consumer_secret'") as caught:
        mpesa.parse_token(recorded("token_invalid_authentication", 400))
    assert "consumer-secret-0042" not in str(caught.value)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, content=b'{"access_token": "", "expires_in": "3599"}'),
        httpx.Response(200, content=b'{"access_token": "x", "expires_in": "soon"}'),
        httpx.Response(200, content=b'{"access_token": "x", "expires_in": "0"}'),
        httpx.Response(200, content=b"<html>"),
        httpx.Response(503, content=b"upstream down"),
    ],
)
def test_an_unreadable_token_answer_is_a_protocol_error(
    mpesa: MpesaConnector, response: httpx.Response
) -> None:
    with pytest.raises(WalletProtocolError):
        mpesa.parse_token(response)


def test_every_call_carries_the_bearer_token(mpesa: MpesaConnector) -> None:
    fetched = AccessToken("fresh-token", NOW + timedelta(minutes=5))
    assert mpesa.build_pay(PAY).headers["authorization"] == "Bearer c9SQxWWhmdVRlyh0zh8gZDTkubVF"
    renewed = mpesa.with_access_token(fetched)
    assert renewed.build_inquire(INQUIRE).headers["authorization"] == "Bearer fresh-token"
    assert mpesa.build_refund(REFUND).headers["authorization"].endswith("kubVF")


def test_without_a_fresh_token_nothing_is_built(mpesa_settings: dict[str, Any]) -> None:
    del mpesa_settings["access_token"]
    bare = MpesaConnector("mpesa-ke", mpesa_settings, clock=lambda: NOW)
    with pytest.raises(ConnectorConfigError, match="no access token"):
        bare.build_pay(PAY)
    stale = bare.with_access_token(AccessToken("old", NOW))
    with pytest.raises(ConnectorConfigError, match="expired"):
        stale.build_pay(PAY)


# --- requests --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["connectors.mpesa", "connectors.mpesa.simulator"])
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    exported: list[str] = module.__all__
    assert exported == sorted(exported)
    assert all(hasattr(module, member) for member in exported)
    defined = {
        member
        for member, value in vars(module).items()
        if not member.startswith("_") and getattr(value, "__module__", None) == name
    }
    assert defined <= set(exported)


@given(st.integers(min_value=0, max_value=10**12))
def test_whole_shillings_are_exact_or_refused(cents: int) -> None:
    if cents % 100:
        with pytest.raises(ConnectorError):
            whole_shillings(Amount("KES", cents), "ke")
    else:
        assert whole_shillings(Amount("KES", cents), "ke") * 100 == cents


@given(st.text(min_size=1, max_size=200))
def test_every_request_id_has_a_daraja_account_reference(request_id: str) -> None:
    reference = account_reference(request_id)
    assert len(reference) == 12
    assert set(reference) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def test_published_password_vector() -> None:
    # Daraja's sample request: shortcode 174379, the sandbox passkey, 20160216165627.
    assert password("174379", PASSKEY, "20160216165627") == (
        "MTc0Mzc5YmZiMjc5ZjlhYTliZGJjZjE1OGU5N2RkNzFhNDY3Y2QyZTBjODkzMDU5YjEwZjc4ZTZi"
        "NzJhZGExZWQyYzkxOTIwMTYwMjE2MTY1NjI3"
    )


def test_pay_is_an_stk_push(mpesa: MpesaConnector) -> None:
    request = mpesa.build_pay(PAY)
    assert request.method == "POST"
    assert str(request.url) == "https://api.safaricom.test/mpesa/stkpush/v1/processrequest"
    assert request.headers["content-type"] == "application/json"
    assert sent(request) == {
        "BusinessShortCode": "174379",
        "Password": password("174379", PASSKEY, "20260301110000"),
        "Timestamp": "20260301110000",
        "TransactionType": "CustomerPayBillOnline",
        "Amount": 2580,
        "PartyA": "254712345678",
        "PartyB": "174379",
        "PhoneNumber": "254712345678",
        "CallBackURL": pay_url(mpesa),
        "AccountReference": account_reference("pay-7c1f0a3e-w1"),
        "TransactionDesc": "Java House Na",
    }
    # The push's own callback URL: the route's, with our id for the payment, signed.
    url = httpx.URL(pay_url(mpesa))
    assert url.copy_with(query=None) == httpx.URL("https://hub.example/callbacks/mpesa")
    assert url.params["ref"] == "pay-7c1f0a3e-w1"
    assert re.fullmatch("[0-9a-f]{32}", url.params["sig"])


def test_callback_urls_keep_the_routes_query_and_sign_each_request_apart(
    mpesa_settings: dict[str, Any],
) -> None:
    routed = MpesaConnector(
        "mpesa-ke",
        mpesa_settings | {"callback_url": "https://hub.example/cb?route=ke"},
        clock=lambda: NOW,
    )
    url = httpx.URL(sent(routed.build_pay(PAY))["CallBackURL"])
    assert (url.path, url.params["route"], url.params["ref"]) == (
        "/cb",
        "ke",
        PAY.wallet_request_id,
    )
    other = httpx.URL(
        sent(routed.build_pay(replace(PAY, wallet_request_id="pay-2")))["CallBackURL"]
    )
    assert other.params["sig"] != url.params["sig"]
    # A refund's URL is signed as a refund's: the same id on a push is signed otherwise.
    refund = httpx.URL(sent(routed.build_refund(REFUND))["ResultURL"])
    same_id = replace(PAY, wallet_request_id=REFUND.refund_request_id)
    push = httpx.URL(sent(routed.build_pay(same_id))["CallBackURL"])
    assert refund.params["ref"] == push.params["ref"] == REFUND.refund_request_id
    assert refund.params["sig"] != push.params["sig"]


@pytest.mark.parametrize("request_id", ["pay-7c1f0a3e-w1", "x", "ü" * 64, "pay-7c1f0a3e-w2"])
def test_account_reference_is_short_alphanumeric_and_deterministic(request_id: str) -> None:
    reference = account_reference(request_id)
    assert len(reference) == 12
    assert set(reference) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert reference == account_reference(request_id)
    assert reference != account_reference(request_id + "-again")


def test_the_phone_loses_its_plus(mpesa: MpesaConnector) -> None:
    body = sent(mpesa.build_pay(replace(PAY, payment_code="+254712345678")))
    assert body["PartyA"] == body["PhoneNumber"] == "254712345678"


@pytest.mark.parametrize(
    "amount", [Amount("KES", 258_050), Amount("KES", 1), Amount("USD", 258_000)]
)
def test_amounts_daraja_cannot_express_are_refused(mpesa: MpesaConnector, amount: Amount) -> None:
    with pytest.raises(ConnectorError, match=r"whole shillings|charges in KES"):
        mpesa.build_pay(replace(PAY, pay_to_amount=amount))
    with pytest.raises(ConnectorError):
        mpesa.build_refund(replace(REFUND, refund_from_amount=amount))


def test_inquiry_is_the_stk_query_of_the_checkout(mpesa: MpesaConnector) -> None:
    request = mpesa.build_inquire(INQUIRE)
    assert str(request.url) == "https://api.safaricom.test/mpesa/stkpushquery/v1/query"
    assert sent(request) == {
        "BusinessShortCode": "174379",
        "Password": password("174379", PASSKEY, "20260301110000"),
        "Timestamp": "20260301110000",
        "CheckoutRequestID": CHECKOUT,
    }


def test_an_inquiry_without_the_checkout_id_cannot_be_built(mpesa: MpesaConnector) -> None:
    # Not a configuration fault: the protocol has no query by our id.
    with pytest.raises(OperationNotSupported, match="CheckoutRequestID"):
        mpesa.build_inquire(InquireRequest("pay-7c1f0a3e-w1", "CAUSEWAY"))
    with pytest.raises(OperationNotSupported):
        mpesa.build_inquire(replace(INQUIRE, wallet_payment_id=""))
    with pytest.raises(OperationNotSupported):
        mpesa.parse_inquire(replace(INQUIRE, wallet_payment_id=None), recorded("stkquery_success"))


def test_refund_is_a_reversal_of_the_receipt(mpesa: MpesaConnector) -> None:
    request = mpesa.build_refund(REFUND)
    assert str(request.url) == "https://api.safaricom.test/mpesa/reversal/v1/request"
    assert sent(request) == {
        "Initiator": "causeway_api",
        "SecurityCredential": "ENCRYPTED-CREDENTIAL-0042==",
        "CommandID": "TransactionReversal",
        "TransactionID": "SAP62GXMDU",
        "Amount": 1290,
        "ReceiverParty": "174379",
        "RecieverIdentifierType": "11",
        "ResultURL": refund_url(mpesa),
        "QueueTimeOutURL": refund_url(mpesa),
        "Remarks": "one coffee was cold",
        "Occasion": "rfd-55-w1",
    }
    assert sent(mpesa.build_refund(replace(REFUND, reason=None)))["Remarks"] == "Refund"
    with pytest.raises(ConnectorError, match="receipt"):
        mpesa.build_refund(replace(REFUND, wallet_payment_id=None))


# --- recorded answers: pay -------------------------------------------------------------


def test_an_accepted_push_is_pending_with_its_checkout_id(mpesa: MpesaConnector) -> None:
    result = mpesa.parse_pay(PAY, recorded("stkpush_accepted"))
    assert result.outcome is Outcome.PENDING
    assert result.code == "PAYMENT_IN_PROCESS"
    assert result.wallet_payment_id == "ws_CO_191220191020363925"


def test_an_unknown_phone_is_declined(mpesa: MpesaConnector) -> None:
    result = mpesa.parse_pay(PAY, recorded("stkpush_invalid_phone", 400))
    assert (result.outcome, result.code) == (Outcome.FAILED, "USER_NOT_EXIST")
    assert result.wallet_code == "400.002.02"


@pytest.mark.parametrize("status", [401, 404])
def test_a_refused_token_declines_the_push(mpesa: MpesaConnector, status: int) -> None:
    result = mpesa.parse_pay(PAY, recorded("error_invalid_access_token", status))
    assert (result.outcome, result.code) == (Outcome.FAILED, "PROCESS_FAIL")
    assert result.wallet_code == "404.001.03"


@pytest.mark.parametrize(
    "body",
    [
        b'{"errorCode": "500.001.1001", "errorMessage": "Unable to lock subscriber"}',
        b'{"errorCode": "418.000.01", "errorMessage": "Something new"}',
        b'{"MerchantRequestID": "1", "CheckoutRequestID": "ws_CO_1", "ResponseCode": "5"}',
    ],
    ids=["ambiguous-code", "unknown-code", "unknown-response-code"],
)
def test_what_is_not_understood_as_final_is_pending(mpesa: MpesaConnector, body: bytes) -> None:
    result = mpesa.parse_pay(
        PAY, httpx.Response(400 if b"errorCode" in body else 200, content=body)
    )
    assert result.outcome is Outcome.PENDING


def test_an_unknown_response_code_keeps_the_checkout_id(mpesa: MpesaConnector) -> None:
    body = (FIXTURES / "stkpush_accepted.json").read_bytes().replace(b'"0"', b'"7"')
    result = mpesa.parse_pay(PAY, httpx.Response(200, content=body))
    assert (result.outcome, result.wallet_code) == (Outcome.PENDING, "7")
    assert result.wallet_payment_id == "ws_CO_191220191020363925"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_5xx_is_pending_whatever_the_body(mpesa: MpesaConnector, status: int) -> None:
    for content in (b"", b"<html>Bad gateway</html>", b'{"errorCode": "400.002.02"}'):
        result = mpesa.parse_pay(PAY, httpx.Response(status, content=content))
        assert result.outcome is Outcome.PENDING


@pytest.mark.parametrize(
    ("status", "content"),
    [
        (200, b"<html>"),
        (200, b"[]"),
        (200, b'{"ResponseDescription": "no code"}'),
        (200, b'{"errorMessage": "no code"}'),
        (400, b"Bad Request"),
        (403, b"{}"),
    ],
)
def test_garbage_is_a_protocol_error(mpesa: MpesaConnector, status: int, content: bytes) -> None:
    with pytest.raises(WalletProtocolError) as caught:
        mpesa.parse_pay(PAY, httpx.Response(status, content=content))
    assert caught.value.http_status == status
    assert caught.value.connector == "mpesa-ke"


# --- recorded answers: query -----------------------------------------------------------


def test_a_query_finds_the_payment_made(mpesa: MpesaConnector) -> None:
    result = mpesa.parse_inquire(INQUIRE, recorded("stkquery_success"))
    assert (result.outcome, result.code) == (Outcome.SUCCEEDED, "SUCCESS")
    assert result.wallet_payment_id == CHECKOUT


@pytest.mark.parametrize(
    ("fixture", "code", "wallet_code"),
    [
        ("stkquery_insufficient_balance", "USER_BALANCE_NOT_ENOUGH", "1"),
        ("stkquery_cancelled", "PROCESS_FAIL", "1032"),
    ],
)
def test_a_query_finds_a_decline(
    mpesa: MpesaConnector, fixture: str, code: str, wallet_code: str
) -> None:
    result = mpesa.parse_inquire(INQUIRE, recorded(fixture))
    assert (result.outcome, result.code, result.wallet_code) == (Outcome.FAILED, code, wallet_code)


@pytest.mark.parametrize(
    ("result_code", "outcome", "code"),
    [
        ("3", Outcome.FAILED, "PAYMENT_AMOUNT_EXCEED_LIMIT"),
        ("2001", Outcome.FAILED, "PROCESS_FAIL"),
        ("1037", Outcome.FAILED, "PROCESS_FAIL"),
        ("4999", Outcome.PENDING, "PAYMENT_IN_PROCESS"),
        ("7777", Outcome.PENDING, "PAYMENT_IN_PROCESS"),
        ("", Outcome.PENDING, "PAYMENT_IN_PROCESS"),
        ("00", Outcome.PENDING, "PAYMENT_IN_PROCESS"),
    ],
)
def test_result_codes(mpesa: MpesaConnector, result_code: str, outcome: Outcome, code: str) -> None:
    body = (
        (FIXTURES / "stkquery_success.json")
        .read_text()
        .replace('"ResultCode": "0"', f'"ResultCode": "{result_code}"')
    )
    result = mpesa.parse_inquire(INQUIRE, httpx.Response(200, text=body))
    assert (result.outcome, result.code) == (outcome, code)


def test_a_prompt_not_yet_answered_is_pending(mpesa: MpesaConnector) -> None:
    result = mpesa.parse_inquire(INQUIRE, recorded("stkquery_processing", 500))
    assert result.outcome is Outcome.PENDING


def test_an_unknown_checkout_is_no_order(mpesa: MpesaConnector) -> None:
    result = mpesa.parse_inquire(INQUIRE, recorded("stkquery_invalid_checkout", 400))
    assert (result.outcome, result.code) == (Outcome.FAILED, "ORDER_NOT_EXIST")


def test_a_refused_query_says_nothing_of_the_payment(mpesa: MpesaConnector) -> None:
    result = mpesa.parse_inquire(INQUIRE, recorded("error_invalid_access_token", 404))
    assert (result.outcome, result.wallet_code) == (Outcome.PENDING, "404.001.03")


def test_an_answer_about_another_checkout_is_refused(mpesa: MpesaConnector) -> None:
    other = replace(INQUIRE, wallet_payment_id="ws_CO_00000000000000000000")
    with pytest.raises(WalletProtocolError, match="not 'ws_CO_0000"):
        mpesa.parse_inquire(other, recorded("stkquery_success"))


# --- recorded answers: reversal --------------------------------------------------------


def test_an_accepted_reversal_is_pending_with_its_conversation(mpesa: MpesaConnector) -> None:
    result = mpesa.parse_refund(REFUND, recorded("reversal_accepted"))
    assert result.outcome is Outcome.PENDING
    assert result.wallet_refund_id == "AG_20240122_00004e4e9b8b9d9e9f9g"


@pytest.mark.parametrize(
    ("response", "outcome", "code"),
    [
        (recorded("error_invalid_access_token", 404), Outcome.FAILED, "PROCESS_FAIL"),
        (
            httpx.Response(
                400,
                json={
                    "errorCode": "400.002.02",
                    "errorMessage": "Bad Request - Invalid TransactionID",
                },
            ),
            Outcome.FAILED,
            "ORDER_NOT_EXIST",
        ),
        (httpx.Response(500, content=b""), Outcome.PENDING, "UNKNOWN_EXCEPTION"),
        (httpx.Response(200, json={"ResponseCode": "9"}), Outcome.PENDING, "UNKNOWN_EXCEPTION"),
    ],
)
def test_reversal_refusals(
    mpesa: MpesaConnector, response: httpx.Response, outcome: Outcome, code: str
) -> None:
    result = mpesa.parse_refund(REFUND, response)
    assert (result.outcome, result.code) == (outcome, code)
    assert result.wallet_refund_id is None


def test_a_garbled_reversal_answer_is_a_protocol_error(mpesa: MpesaConnector) -> None:
    with pytest.raises(WalletProtocolError):
        mpesa.parse_refund(REFUND, httpx.Response(200, content=b'{"ConversationID": "AG_1"}'))


# --- callbacks -------------------------------------------------------------------------


def test_the_stk_callback_names_the_receipt(mpesa: MpesaConnector) -> None:
    body = (FIXTURES / "stk_callback_success.json").read_bytes()
    checkout, result = mpesa.parse_stk_callback(body)
    assert checkout == "ws_CO_27072017154747416"
    assert result.outcome is Outcome.SUCCEEDED
    assert result.wallet_payment_id == "LGR7OWQX0R"
    assert result.customer_id == "254721566839"
    assert result.paid_at == datetime(2017, 7, 27, 12, 48, tzinfo=UTC)


def test_a_cancelled_callback_is_a_decline(mpesa: MpesaConnector) -> None:
    checkout, result = mpesa.parse_stk_callback(
        (FIXTURES / "stk_callback_cancelled.json").read_bytes()
    )
    assert checkout == "ws_CO_191220191020363925"
    assert (result.outcome, result.code, result.wallet_code) == (
        Outcome.FAILED,
        "PROCESS_FAIL",
        "1032",
    )


def test_the_reversal_result_completes_the_refund(mpesa: MpesaConnector) -> None:
    body = (FIXTURES / "reversal_result_success.json").read_bytes()
    conversation, result = mpesa.parse_reversal_result(body)
    assert conversation == "AG_20240122_00004e4e9b8b9d9e9f9g"
    assert result.outcome is Outcome.SUCCEEDED
    assert result.wallet_refund_id == "SAQ71H2Z9X"
    assert result.refunded_at == datetime(2026, 3, 1, 8, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("code", "outcome", "canonical"),
    [
        ("R000002", Outcome.FAILED, "ORDER_NOT_EXIST"),
        ("R000001", Outcome.FAILED, "REFUND_AMOUNT_EXCEED"),
        ("2001", Outcome.FAILED, "PROCESS_FAIL"),
        ("R999999", Outcome.PENDING, "UNKNOWN_EXCEPTION"),
    ],
)
def test_reversal_result_codes(
    mpesa: MpesaConnector, code: str, outcome: Outcome, canonical: str
) -> None:
    body = (FIXTURES / "reversal_result_invalid_transaction.json").read_text()
    _, result = mpesa.parse_reversal_result(body.replace("R000002", code).encode())
    assert (result.outcome, result.code) == (outcome, canonical)


def test_a_lone_result_parameter_is_read_too(mpesa: MpesaConnector) -> None:
    body = {
        "Result": {
            "ResultCode": 0,
            "ConversationID": "AG_1",
            "TransactionID": "SAQ71H2Z9X",
            "ResultParameters": {
                "ResultParameter": {"Key": "TransCompletedTime", "Value": 20260301110500}
            },
        }
    }
    _, result = mpesa.parse_reversal_result(json.dumps(body).encode())
    assert result.refunded_at == datetime(2026, 3, 1, 8, 5, tzinfo=UTC)


@pytest.mark.parametrize("body", [b"", b"{}", b'{"Body": {}}', b'{"Result": {"ResultDesc": "x"}}'])
def test_malformed_callbacks_are_protocol_errors(mpesa: MpesaConnector, body: bytes) -> None:
    with pytest.raises(WalletProtocolError):
        mpesa.parse_stk_callback(body)
    with pytest.raises(WalletProtocolError):
        mpesa.parse_reversal_result(body)


# --- callbacks as notifications ---------------------------------------------------------


def callback(body: bytes, url: str, method: str = "POST") -> httpx.Request:
    return httpx.Request(method, url, headers={"content-type": "application/json"}, content=body)


def test_an_stk_callback_is_the_payments_result_by_checkout(mpesa: MpesaConnector) -> None:
    body = (FIXTURES / "stk_callback_success.json").read_bytes()
    notification = mpesa.parse_notification(callback(body, pay_url(mpesa)))
    # The body names no AccountReference: our id comes from the push's signed URL.
    assert (notification.wallet_request_id, notification.wallet_payment_id) == (
        "pay-7c1f0a3e-w1",
        "ws_CO_27072017154747416",
    )
    assert notification.refund is None
    assert notification.payment is not None
    assert (notification.payment.outcome, notification.payment.wallet_payment_id) == (
        Outcome.SUCCEEDED,
        "LGR7OWQX0R",
    )


def test_a_cancelled_stk_callback_is_a_declined_payment(mpesa: MpesaConnector) -> None:
    body = (FIXTURES / "stk_callback_cancelled.json").read_bytes()
    notification = mpesa.parse_notification(callback(body, pay_url(mpesa)))
    assert notification.wallet_payment_id == "ws_CO_191220191020363925"
    assert notification.payment is not None
    assert (notification.payment.outcome, notification.payment.wallet_code) == (
        Outcome.FAILED,
        "1032",
    )


def test_a_reversal_result_is_the_refunds_result_by_conversation(mpesa: MpesaConnector) -> None:
    body = (FIXTURES / "reversal_result_success.json").read_bytes()
    notification = mpesa.parse_notification(callback(body, refund_url(mpesa)))
    assert notification == WalletNotification.for_refund(
        mpesa.parse_reversal_result(body)[1],
        # Daraja echoes no Occasion: our id comes from the reversal's signed URL.
        refund_request_id="rfd-55-w1",
        wallet_refund_id="AG_20240122_00004e4e9b8b9d9e9f9g",
    )
    assert notification.refund is not None
    assert notification.refund.outcome is Outcome.SUCCEEDED


def test_a_result_without_a_conversation_is_named_by_its_url(mpesa: MpesaConnector) -> None:
    body = b'{"Result": {"ResultCode": 0, "TransactionID": "SAQ71H2Z9X"}}'
    notification = mpesa.parse_notification(callback(body, refund_url(mpesa)))
    assert (notification.refund_request_id, notification.wallet_refund_id) == ("rfd-55-w1", None)


def test_a_callback_to_a_url_the_hub_did_not_sign_is_refused(
    mpesa: MpesaConnector, mpesa_settings: dict[str, Any]
) -> None:
    paid = (FIXTURES / "stk_callback_success.json").read_bytes()
    reversed_ = (FIXTURES / "reversal_result_success.json").read_bytes()
    genuine = httpx.URL(pay_url(mpesa))
    elsewhere = MpesaConnector(
        "mpesa-ke", mpesa_settings | {"callback_secret": "another-secret"}, clock=lambda: NOW
    )
    for body, url in [
        (paid, "https://hub.example/callbacks/mpesa"),  # no ref, no sig
        (paid, str(genuine.copy_remove_param("sig"))),
        (paid, str(genuine.copy_set_param("ref", "pay-someone-else"))),
        (paid, str(genuine.copy_set_param("sig", "0" * 32))),
        (paid, str(genuine.copy_set_param("sig", "é" * 32))),
        (paid, pay_url(elsewhere)),  # signed under another key
        (reversed_, pay_url(mpesa)),  # a payment's URL does not stand for a refund's
        (paid, refund_url(mpesa)),  # nor a refund's for a payment's
    ]:
        with pytest.raises(WalletProtocolError, match="no reference signed by this hub"):
            mpesa.parse_notification(callback(body, url))
    # The key is the one setting's: the same callback_secret reads the same URLs.
    assert elsewhere.parse_notification(callback(paid, pay_url(elsewhere))).wallet_request_id


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xff\xfe",
        b"[]",
        b'{"Other": {}}',
        b'{"Body": {}}',
        b'{"Body": {"stkCallback": {"ResultCode": 0}}}',
        b'{"Body": {"stkCallback": {"ResultCode": 0, "CheckoutRequestID": ""}}}',
    ],
    ids=[
        "empty",
        "not-utf8",
        "array",
        "neither",
        "no-stk",
        "no-checkout",
        "empty-checkout",
    ],
)
def test_a_callback_that_cannot_be_understood_is_refused(
    mpesa: MpesaConnector, body: bytes
) -> None:
    with pytest.raises(WalletProtocolError) as caught:
        mpesa.parse_notification(callback(body, pay_url(mpesa)))
    assert caught.value.connector == "mpesa-ke"


def test_only_a_post_is_a_callback(mpesa: MpesaConnector) -> None:
    body = (FIXTURES / "stk_callback_success.json").read_bytes()
    with pytest.raises(WalletProtocolError, match="GET"):
        mpesa.parse_notification(callback(body, pay_url(mpesa), method="GET"))


def test_callbacks_are_acknowledged_as_daraja_expects(mpesa: MpesaConnector) -> None:
    body = (FIXTURES / "stk_callback_success.json").read_bytes()
    accepted = mpesa.acknowledge(mpesa.parse_notification(callback(body, pay_url(mpesa))))
    assert (accepted.status_code, accepted.json()) == (
        200,
        {"ResultCode": 0, "ResultDesc": "Accepted"},
    )
    refused = mpesa.acknowledge(None)
    assert (refused.status_code, refused.json()) == (
        400,
        {"ResultCode": 1, "ResultDesc": "Rejected"},
    )
