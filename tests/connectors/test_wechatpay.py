"""The WeChat Pay connector as a translator: requests it builds, recorded answers it parses."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from connectors import (
    Amount,
    CancelRequest,
    CancelResult,
    Connector,
    InquireRequest,
    Merchant,
    Operation,
    Outcome,
    PaymentResult,
    PayRequest,
    RefundRequest,
    RefundResult,
    WalletProtocolError,
    build_connector,
)
from connectors.wechatpay import WeChatPayConnector

FIXTURES = Path(__file__).parent / "fixtures" / "wechatpay"
KEY = "192006250b4c09247ec02edce69f6a2d"
OTHER_KEY = "0123456789abcdef0123456789ABCDEF"
HEAD = {"return_code": "SUCCESS", "return_msg": "OK", "appid": "wx2421b1c4370ec43b"}
HEAD |= {"mch_id": "10000100", "nonce_str": "n0nce"}

PAY = PayRequest(
    wallet_request_id="P20260301080000a1b2c3d4e5f60718",
    acquirer_id="CAUSEWAY",
    payment_code="134567890123456789",
    payment_amount=Amount("JPY", 1200),
    pay_to_amount=Amount("CNY", 5736),
    quote=None,
    merchant=Merchant("M-000123", "Ramen Ichiban", "5812", "JP"),
    order_description="2 x ramen",
    reference_order_id="ORD-991",
)
INQUIRE = InquireRequest(PAY.wallet_request_id, "CAUSEWAY")
CANCEL = CancelRequest(PAY.wallet_request_id, "CAUSEWAY")
REFUND = RefundRequest(
    refund_request_id="R20260301093000f1e2d3c4b5a69788",
    wallet_request_id=PAY.wallet_request_id,
    wallet_payment_id="4200001234202603011234567890",
    acquirer_id="CAUSEWAY",
    refund_amount=Amount("JPY", 600),
    refund_from_amount=Amount("CNY", 2868),
    quote=None,
)


@pytest.fixture
def settings() -> dict[str, Any]:
    return {
        "base_url": "http://wallet.test",
        "appid": "wx2421b1c4370ec43b",
        "mch_id": "10000100",
        "api_key": KEY,
        "currencies": ["CNY"],
        "regions": ["CN"],
    }


@pytest.fixture
def connector(settings: dict[str, Any]) -> WeChatPayConnector:
    return WeChatPayConnector("wechat", settings)


def sign(fields: dict[str, str], key: str = KEY) -> str:
    text = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if v and k != "sign")
    return hmac.new(key.encode(), f"{text}&key={key}".encode(), hashlib.sha256).hexdigest().upper()


def recorded(name: str) -> httpx.Response:
    return httpx.Response(200, content=(FIXTURES / f"{name}.xml").read_bytes())


def answer(fields: dict[str, str], *, key: str | None = KEY, status: int = 200) -> httpx.Response:
    """An answer of ``fields`` (after the common head), signed with ``key`` unless None."""
    body = HEAD | fields
    if key is not None:
        body["sign"] = sign(body, key)
    root = ET.Element("xml")
    for name, value in body.items():
        ET.SubElement(root, name).text = value
    return httpx.Response(status, content=ET.tostring(root))


def sent(request: httpx.Request) -> dict[str, str]:
    # Our own bytes, read with the plain parser so that the connector's is not trusted.
    return {child.tag: child.text or "" for child in ET.fromstring(request.content)}  # noqa: S314


def failure(code: str) -> dict[str, str]:
    return {"result_code": "FAIL", "err_code": code, "err_code_des": f"{code} happened"}


# --- requests -------------------------------------------------------------------------


def test_pay_is_a_signed_micropay(connector: WeChatPayConnector) -> None:
    request = connector.build_pay(PAY)
    assert (request.method, str(request.url)) == ("POST", "http://wallet.test/pay/micropay")
    assert request.headers["content-type"] == "text/xml; charset=UTF-8"
    fields = sent(request)
    assert fields.pop("sign") == sign(fields)
    nonce = fields.pop("nonce_str")
    assert len(nonce) == 32
    assert int(nonce, 16) >= 0
    assert fields == {
        "appid": "wx2421b1c4370ec43b",
        "mch_id": "10000100",
        "body": "2 x ramen",
        "attach": "ORD-991",
        "out_trade_no": PAY.wallet_request_id,
        "total_fee": "1200",
        "fee_type": "JPY",
        "spbill_create_ip": "127.0.0.1",
        "auth_code": PAY.payment_code,
        "sign_type": "HMAC-SHA256",
    }


def test_every_request_has_a_fresh_nonce(connector: WeChatPayConnector) -> None:
    nonces = {sent(connector.build_inquire(INQUIRE))["nonce_str"] for _ in range(5)}
    assert len(nonces) == 5


def test_institutional_mode_and_the_terminal_ip(settings: dict[str, Any]) -> None:
    settings |= {"sub_mch_id": "1900000109", "spbill_create_ip": "203.0.113.7"}
    fields = sent(WeChatPayConnector("wechat", settings).build_pay(PAY))
    assert (fields["sub_mch_id"], fields["spbill_create_ip"]) == ("1900000109", "203.0.113.7")
    assert fields["sign"] == sign(fields)


def test_the_description_is_printable_and_fits(connector: WeChatPayConnector) -> None:
    long = replace(PAY, order_description="ramen\x00\n" + "x" * 300, reference_order_id="")
    fields = sent(connector.build_pay(long))
    assert fields["body"] == "ramen" + "x" * 122
    assert "attach" not in fields


@pytest.mark.parametrize(
    ("operation", "path"), [("inquire", "/pay/orderquery"), ("cancel", "/secapi/pay/reverse")]
)
def test_inquiry_and_cancel_name_the_order(
    connector: WeChatPayConnector, operation: str, path: str
) -> None:
    request = (
        connector.build_inquire(INQUIRE)
        if operation == "inquire"
        else connector.build_cancel(CANCEL)
    )
    assert request.url.path == path
    fields = sent(request)
    assert fields["out_trade_no"] == PAY.wallet_request_id
    assert set(fields) == {"appid", "mch_id", "out_trade_no", "nonce_str", "sign_type", "sign"}


def test_refund_request(connector: WeChatPayConnector) -> None:
    request = connector.build_refund(REFUND)
    assert request.url.path == "/secapi/pay/refund"
    fields = sent(request)
    assert fields["sign"] == sign(fields)
    assert {k: fields[k] for k in fields if k not in ("nonce_str", "sign")} == {
        "appid": "wx2421b1c4370ec43b",
        "mch_id": "10000100",
        "transaction_id": "4200001234202603011234567890",
        "out_trade_no": PAY.wallet_request_id,
        "out_refund_no": REFUND.refund_request_id,
        "refund_fee": "600",
        "refund_fee_type": "JPY",
        "sign_type": "HMAC-SHA256",
    }
    unknown_id = sent(connector.build_refund(replace(REFUND, wallet_payment_id=None)))
    assert "transaction_id" not in unknown_id


def test_a_path_in_the_base_url_prefixes_the_apis(settings: dict[str, Any]) -> None:
    settings["base_url"] = "https://apihk.example/wx/"
    request = WeChatPayConnector("wechat", settings).build_cancel(CANCEL)
    assert str(request.url) == "https://apihk.example/wx/secapi/pay/reverse"


# --- recorded answers: pay ------------------------------------------------------------


def test_pay_success(connector: WeChatPayConnector) -> None:
    result = connector.parse_pay(PAY, recorded("micropay_success"))
    assert (result.outcome, result.code) == (Outcome.SUCCEEDED, "SUCCESS")
    assert result.wallet_payment_id == "4200001234202603011234567890"
    assert result.customer_id == "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
    assert result.paid_at == datetime(2026, 3, 1, 8, 0, 2, tzinfo=UTC)
    # What WeChat charged at its own rate, which the hub books.
    assert result.pay_to_amount == Amount("CNY", 5736)
    other_rate = answer({"result_code": "SUCCESS", "total_fee": "1200", "cash_fee": "5741"})
    assert connector.parse_pay(PAY, other_rate).pay_to_amount == Amount("CNY", 5741)


@pytest.mark.parametrize(
    ("fixture", "code", "wallet_code"),
    [
        ("micropay_notenough", "USER_BALANCE_NOT_ENOUGH", "NOTENOUGH"),
        ("micropay_auth_code_invalid", "USER_NOT_EXIST", "AUTH_CODE_INVALID"),
        ("micropay_authcodeexpire", "PROCESS_FAIL", "AUTHCODEEXPIRE"),
    ],
)
def test_pay_declines(
    connector: WeChatPayConnector, fixture: str, code: str, wallet_code: str
) -> None:
    result = connector.parse_pay(PAY, recorded(fixture))
    assert (result.outcome, result.code, result.wallet_code) == (Outcome.FAILED, code, wallet_code)
    assert wallet_code in result.message


@pytest.mark.parametrize("fixture", ["micropay_userpaying", "micropay_orderpaid"])
def test_pay_answers_that_leave_the_payment_open(
    connector: WeChatPayConnector, fixture: str
) -> None:
    result = connector.parse_pay(PAY, recorded(fixture))
    assert result.outcome is Outcome.PENDING
    assert result.wallet_code in ("USERPAYING", "ORDERPAID")


@pytest.mark.parametrize(
    ("err_code", "outcome", "code"),
    [
        ("SYSTEMERROR", Outcome.PENDING, "PAYMENT_IN_PROCESS"),
        ("BANKERROR", Outcome.PENDING, "PAYMENT_IN_PROCESS"),
        ("OUT_TRADE_NO_USED", Outcome.PENDING, "PAYMENT_IN_PROCESS"),
        ("TRADE_ERROR", Outcome.FAILED, "RISK_REJECT"),
        ("ORDERREVERSED", Outcome.FAILED, "ORDER_IS_CLOSED"),
        ("ORDERCLOSED", Outcome.FAILED, "ORDER_IS_CLOSED"),
        ("NOTSUPORTCARD", Outcome.FAILED, "PROCESS_FAIL"),
        ("A_CODE_FROM_NEXT_YEAR", Outcome.FAILED, "PROCESS_FAIL"),
    ],
)
def test_pay_error_codes(
    connector: WeChatPayConnector, err_code: str, outcome: Outcome, code: str
) -> None:
    result = connector.parse_pay(PAY, answer(failure(err_code)))
    assert (result.outcome, result.code, result.wallet_code) == (outcome, code, err_code)


@pytest.mark.parametrize("result_code", ["PROCESSING", "success", "", "WAIT"])
def test_an_undefined_result_code_is_pending_never_success(
    connector: WeChatPayConnector, result_code: str
) -> None:
    fields = {"result_code": result_code, "out_trade_no": PAY.wallet_request_id}
    assert connector.parse_pay(PAY, answer(fields)).outcome is Outcome.PENDING


def test_a_malformed_time_does_not_lose_a_charge(connector: WeChatPayConnector) -> None:
    fields = {"result_code": "SUCCESS", "transaction_id": "42", "time_end": "2026-03-01"}
    result = connector.parse_pay(PAY, answer(fields))
    assert (result.outcome, result.wallet_payment_id, result.paid_at) == (
        Outcome.SUCCEEDED,
        "42",
        None,
    )


# --- recorded answers: inquiry, cancel, refund ------------------------------------------


def test_inquiry_success(connector: WeChatPayConnector) -> None:
    result = connector.parse_inquire(INQUIRE, recorded("orderquery_success"))
    assert result.outcome is Outcome.SUCCEEDED
    assert result.wallet_payment_id == "4200001234202603011234567890"
    assert result.pay_to_amount == Amount("CNY", 5736)
    assert result.paid_at == datetime(2026, 3, 1, 8, 0, 2, tzinfo=UTC)


def test_inquiry_of_an_unknown_order(connector: WeChatPayConnector) -> None:
    result = connector.parse_inquire(INQUIRE, recorded("orderquery_ordernotexist"))
    assert (result.outcome, result.code) == (Outcome.FAILED, "ORDER_NOT_EXIST")


def test_inquiry_while_the_payer_types_the_password(connector: WeChatPayConnector) -> None:
    result = connector.parse_inquire(INQUIRE, recorded("orderquery_userpaying"))
    assert (result.outcome, result.wallet_code) == (Outcome.PENDING, "USERPAYING")


@pytest.mark.parametrize(
    ("trade_state", "outcome", "code"),
    [
        ("SUCCESS", Outcome.SUCCEEDED, "SUCCESS"),
        ("REFUND", Outcome.SUCCEEDED, "SUCCESS"),
        ("CLOSED", Outcome.FAILED, "ORDER_IS_CLOSED"),
        ("REVOKED", Outcome.FAILED, "ORDER_IS_CLOSED"),
        ("PAYERROR", Outcome.FAILED, "PROCESS_FAIL"),
        ("NOTPAY", Outcome.PENDING, "PAYMENT_IN_PROCESS"),
        ("USERPAYING", Outcome.PENDING, "PAYMENT_IN_PROCESS"),
        ("SETTLING", Outcome.PENDING, "PAYMENT_IN_PROCESS"),
        ("", Outcome.PENDING, "PAYMENT_IN_PROCESS"),
    ],
)
def test_trade_states(
    connector: WeChatPayConnector, trade_state: str, outcome: Outcome, code: str
) -> None:
    fields = {"result_code": "SUCCESS", "trade_state": trade_state, "transaction_id": "42"}
    result = connector.parse_inquire(INQUIRE, answer(fields))
    assert (result.outcome, result.code) == (outcome, code)


def test_a_failed_inquiry_says_nothing_about_the_payment(connector: WeChatPayConnector) -> None:
    result = connector.parse_inquire(INQUIRE, answer(failure("SYSTEMERROR")))
    assert (result.outcome, result.wallet_code) == (Outcome.PENDING, "SYSTEMERROR")


@pytest.mark.parametrize(
    ("fields", "outcome", "code"),
    [
        ({"result_code": "SUCCESS", "recall": "N"}, Outcome.SUCCEEDED, "SUCCESS"),
        ({"result_code": "SUCCESS", "recall": "Y"}, Outcome.PENDING, "UNKNOWN_EXCEPTION"),
        ({"result_code": "SUCCESS"}, Outcome.PENDING, "UNKNOWN_EXCEPTION"),
        (failure("ORDERNOTEXIST"), Outcome.SUCCEEDED, "SUCCESS"),
        (failure("REVERSE_EXPIRE"), Outcome.FAILED, "CANCEL_WINDOW_EXCEED"),
        (failure("SYSTEMERROR"), Outcome.PENDING, "UNKNOWN_EXCEPTION"),
        (failure("USERPAYING"), Outcome.PENDING, "UNKNOWN_EXCEPTION"),
        (failure("INVALID_TRANSACTIONID"), Outcome.FAILED, "PROCESS_FAIL"),
        ({"result_code": "MAYBE"}, Outcome.PENDING, "UNKNOWN_EXCEPTION"),
    ],
    ids=[
        "done",
        "recall",
        "no-recall",
        "never-seen",
        "too-old",
        "system-error",
        "paying",
        "other",
        "undefined",
    ],
)
def test_reverse_answers(
    connector: WeChatPayConnector, fields: dict[str, str], outcome: Outcome, code: str
) -> None:
    result = connector.parse_cancel(CANCEL, answer(fields))
    assert (result.outcome, result.code) == (outcome, code)


def test_reverse_recorded(connector: WeChatPayConnector) -> None:
    assert connector.parse_cancel(CANCEL, recorded("reverse_success")).outcome is (
        Outcome.SUCCEEDED
    )
    assert connector.parse_cancel(CANCEL, recorded("reverse_recall")).outcome is Outcome.PENDING


def test_refund_success(connector: WeChatPayConnector) -> None:
    result = connector.parse_refund(REFUND, recorded("refund_success"))
    assert result.outcome is Outcome.SUCCEEDED
    assert result.wallet_refund_id == "50302030148218522032126281690"
    # What the traveller gets back is WeChat's own share of what it charged: the hub
    # books that, not its own conversion.
    assert result.refund_from_amount == Amount("CNY", 2868)
    unrounded = answer({"result_code": "SUCCESS", "refund_fee": "600", "cash_refund_fee": "2869"})
    assert connector.parse_refund(REFUND, unrounded).refund_from_amount == Amount("CNY", 2869)


def test_a_refund_success_without_cash_refund_fee_gave_back_what_was_sent(
    connector: WeChatPayConnector,
) -> None:
    result = connector.parse_refund(REFUND, answer({"result_code": "SUCCESS", "refund_id": "503"}))
    assert (result.outcome, result.refund_from_amount) == (Outcome.SUCCEEDED, None)


def test_refund_refused(connector: WeChatPayConnector) -> None:
    result = connector.parse_refund(REFUND, recorded("refund_invalid_request"))
    assert (result.outcome, result.code) == (Outcome.FAILED, "PROCESS_FAIL")
    assert result.message.startswith("INVALID_REQUEST: ")


@pytest.mark.parametrize(
    ("err_code", "outcome", "code"),
    [
        ("ORDERNOTEXIST", Outcome.FAILED, "ORDER_NOT_EXIST"),
        # The *merchant's* balance: nothing to do with the traveller's.
        ("NOTENOUGH", Outcome.FAILED, "PROCESS_FAIL"),
        ("SYSTEMERROR", Outcome.PENDING, "UNKNOWN_EXCEPTION"),
        ("BIZERR_NEED_RETRY", Outcome.PENDING, "UNKNOWN_EXCEPTION"),
        ("FREQUENCY_LIMITED", Outcome.PENDING, "UNKNOWN_EXCEPTION"),
    ],
)
def test_refund_error_codes(
    connector: WeChatPayConnector, err_code: str, outcome: Outcome, code: str
) -> None:
    result = connector.parse_refund(REFUND, answer(failure(err_code)))
    assert (result.outcome, result.code) == (outcome, code)


# --- refusals, HTTP status, signatures, garbage ---------------------------------------------


def test_a_request_refused_unprocessed_is_pending_everywhere(
    connector: WeChatPayConnector,
) -> None:
    response = recorded("return_fail_signature")
    results: list[PaymentResult | CancelResult | RefundResult] = [
        connector.parse_pay(PAY, response),
        connector.parse_inquire(INQUIRE, response),
        connector.parse_cancel(CANCEL, response),
        connector.parse_refund(REFUND, response),
    ]
    assert [r.outcome for r in results] == [Outcome.PENDING] * 4
    assert all("Signature error" in r.message for r in results)


def test_an_undefined_return_code_is_pending(connector: WeChatPayConnector) -> None:
    fields = {"return_code": "MAINTENANCE", "result_code": "SUCCESS", "transaction_id": "42"}
    for key in (KEY, None):
        assert connector.parse_pay(PAY, answer(fields, key=key)).outcome is Outcome.PENDING


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_pending_for_every_operation(connector: WeChatPayConnector, status: int) -> None:
    response = httpx.Response(status, content=b"<html>Bad Gateway</html>")
    outcomes = [
        connector.parse_pay(PAY, response).outcome,
        connector.parse_inquire(INQUIRE, response).outcome,
        connector.parse_cancel(CANCEL, response).outcome,
        connector.parse_refund(REFUND, response).outcome,
    ]
    assert outcomes == [Outcome.PENDING] * 4


@pytest.mark.parametrize("status", [201, 302, 400, 403, 404, 429])
def test_other_http_statuses_are_protocol_errors(
    connector: WeChatPayConnector, status: int
) -> None:
    with pytest.raises(WalletProtocolError) as caught:
        connector.parse_pay(PAY, httpx.Response(status, content=b"<xml></xml>"))
    assert (caught.value.http_status, caught.value.connector) == (status, "wechat")


def test_an_unsigned_success_is_rejected(connector: WeChatPayConnector) -> None:
    unsigned = (FIXTURES / "micropay_success.xml").read_text()
    unsigned = "\n".join(line for line in unsigned.splitlines() if "<sign>" not in line)
    with pytest.raises(WalletProtocolError, match="unsigned"):
        connector.parse_pay(PAY, httpx.Response(200, text=unsigned))
    with pytest.raises(WalletProtocolError, match="unsigned"):
        connector.parse_inquire(INQUIRE, answer({"result_code": "SUCCESS"}, key=None))


@pytest.mark.parametrize("fields", [{"result_code": "SUCCESS"}, failure("NOTENOUGH"), {}])
def test_a_signature_by_another_key_is_rejected_whatever_it_says(
    connector: WeChatPayConnector, fields: dict[str, str]
) -> None:
    with pytest.raises(WalletProtocolError, match="does not verify"):
        connector.parse_pay(PAY, answer(fields, key=OTHER_KEY))
    refused = answer({"return_code": "FAIL", "return_msg": "Signature error"}, key=OTHER_KEY)
    with pytest.raises(WalletProtocolError, match="does not verify"):
        connector.parse_cancel(CANCEL, refused)


def test_a_tampered_answer_is_rejected(connector: WeChatPayConnector) -> None:
    raw = recorded("micropay_success").content.replace(b"5736", b"573")
    with pytest.raises(WalletProtocolError, match="does not verify"):
        connector.parse_pay(PAY, httpx.Response(200, content=raw))


@pytest.mark.parametrize(
    ("fields", "names"),
    [
        ({"result_code": "SUCCESS", "out_trade_no": "P-someone-else"}, "P-someone-else"),
        ({"result_code": "SUCCESS", "appid": "wx0000000000000000"}, "appid"),
        ({"result_code": "FAIL", "mch_id": "10000999"}, "mch_id"),
        ({"result_code": "SUCCESS", "total_fee": "1201", "fee_type": "JPY"}, "total_fee"),
        ({"result_code": "SUCCESS", "total_fee": "1200", "fee_type": "KRW"}, "fee_type"),
        ({"result_code": "SUCCESS", "cash_fee_type": "HKD", "cash_fee": "1310"}, "cash_fee_type"),
    ],
    ids=["order", "appid", "merchant", "amount", "currency", "payer-currency"],
)
def test_a_signed_answer_about_something_else_is_rejected(
    connector: WeChatPayConnector, fields: dict[str, str], names: str
) -> None:
    with pytest.raises(WalletProtocolError, match=names):
        connector.parse_pay(PAY, answer(fields))


def test_a_refund_answer_for_another_refund_is_rejected(connector: WeChatPayConnector) -> None:
    fields = {"result_code": "SUCCESS", "out_refund_no": "R-other", "refund_id": "503"}
    with pytest.raises(WalletProtocolError, match="R-other"):
        connector.parse_refund(REFUND, answer(fields))


@pytest.mark.parametrize(
    ("fields", "names"),
    [
        ({"refund_fee": "599"}, "refund_fee 599"),
        ({"cash_refund_fee_type": "USD", "cash_refund_fee": "2868"}, "'USD'"),
        ({"cash_fee": "5736", "cash_refund_fee": "5737"}, "cash_refund_fee 5737"),
        ({"cash_refund_fee": "-1"}, "cash_refund_fee -1"),
    ],
)
def test_a_refund_success_for_another_amount_is_rejected(
    connector: WeChatPayConnector, fields: dict[str, str], names: str
) -> None:
    with pytest.raises(WalletProtocolError, match=names):
        connector.parse_refund(REFUND, answer({"result_code": "SUCCESS", **fields}))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html>gateway</html>",
        b'{"return_code":"SUCCESS"}',
        b"<xml><return_msg>OK</return_msg></xml>",
        b"<xml><return_code><b>SUCCESS</b></return_code></xml>",
        b"\xff\xfe<xml/>",
        b'<!DOCTYPE xml [<!ENTITY a "FAIL">]><xml><return_code>&a;</return_code></xml>',
    ],
    ids=["empty", "html", "json", "no-return-code", "nested", "not-utf8", "entities"],
)
def test_garbage_is_a_protocol_error(connector: WeChatPayConnector, body: bytes) -> None:
    with pytest.raises(WalletProtocolError, match="malformed") as caught:
        connector.parse_pay(PAY, httpx.Response(200, content=body))
    assert caught.value.http_status == 200


def test_a_non_numeric_amount_in_a_signed_answer_is_malformed(
    connector: WeChatPayConnector,
) -> None:
    fields = {"result_code": "SUCCESS", "cash_fee": "57.36"}
    with pytest.raises(WalletProtocolError, match="cash_fee"):
        connector.parse_pay(PAY, answer(fields))


# --- configuration and contract ---------------------------------------------------------


def test_it_is_a_connector_with_its_capabilities(connector: WeChatPayConnector) -> None:
    assert isinstance(connector, Connector)
    assert connector.capabilities.operations == frozenset(Operation)
    assert connector.capabilities.currencies == {"CNY"}
    assert connector.capabilities.regions == {"CN"}
    assert connector.capabilities.modes == {"PaymentCode"}


def test_the_registry_builds_it(settings: dict[str, Any]) -> None:
    built = build_connector("wechatpay", "wx", settings)
    assert isinstance(built, WeChatPayConnector)
    assert built.name == "wx"


def test_the_api_key_stays_out_of_reprs(connector: WeChatPayConnector) -> None:
    shown = [repr(connector), str(connector), repr(connector.build_pay(PAY)), repr(PAY)]
    assert "10000100" in shown[0]
    assert not [text for text in shown if KEY in text]
    assert PAY.payment_code not in shown[3]


@pytest.mark.parametrize("name", ["connectors.wechatpay", "connectors.wechatpay.simulator"])
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    exported: list[str] = module.__all__
    assert exported == sorted(exported)
    defined = {
        member
        for member, value in vars(module).items()
        if not member.startswith("_")
        and not isinstance(value, ModuleType)
        and getattr(value, "__module__", None) == name
    }
    assert defined == set(exported)
