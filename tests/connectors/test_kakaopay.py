"""The KakaoPay connector as a translator: requests it builds, recorded answers it parses."""

from __future__ import annotations

import importlib
import json
from dataclasses import replace
from datetime import UTC, datetime
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
    OperationNotSupported,
    Outcome,
    PayRequest,
    RefundInquiry,
    RefundPresence,
    RefundRequest,
    WalletProtocolError,
    build_connector,
)
from connectors.kakaopay import KakaoPayConnector
from connectors.kakaopay._wire import PaymentStatus

FIXTURES = Path(__file__).parent / "fixtures" / "kakaopay"
PREFIX = "/online/v1/payment"
SECRET = "DEV7F3A9C1E5B2D4F6A8C0E2B4D6F8A1C3E"
TID = "T6a1c2e3f4b5d6a7c8e9"

PAY = PayRequest(
    wallet_request_id="pay-7c1f0a3e-w1",
    acquirer_id="CAUSEWAY",
    payment_code="281002000000000013",
    payment_amount=Amount("JPY", 1200),
    pay_to_amount=Amount("KRW", 11016),
    quote=None,
    merchant=Merchant("M-000123", "Ramen Ichiban", "5812", "JP"),
    order_description="2 x ramen",
    reference_order_id="ORD-991",
)
INQUIRE = InquireRequest(wallet_request_id="pay-7c1f0a3e-w1", acquirer_id="CAUSEWAY")
CANCEL = CancelRequest(wallet_request_id="pay-7c1f0a3e-w1", acquirer_id="CAUSEWAY")
REFUND = RefundRequest(
    refund_request_id="rfd-55-w1",
    wallet_request_id="pay-7c1f0a3e-w1",
    wallet_payment_id=TID,
    acquirer_id="CAUSEWAY",
    refund_amount=Amount("JPY", 600),
    refund_from_amount=Amount("KRW", 5508),
    quote=None,
)


@pytest.fixture
def settings() -> dict[str, Any]:
    return {
        "base_url": "https://open-api.kakaopay.test",
        "cid": "TC0ONETIME",
        "secret_key": SECRET,
        "approval_url": "https://hub.causeway.test/kakaopay/return",
        "currencies": ["KRW"],
        "regions": ["KR"],
    }


@pytest.fixture
def connector(settings: dict[str, Any]) -> KakaoPayConnector:
    return KakaoPayConnector("kakaopay", settings)


def recorded(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def answer(body: bytes | str, status: int = 200) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    return httpx.Response(
        status, headers={"content-type": "application/json;charset=UTF-8"}, content=content
    )


def sent(request: httpx.Request) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.content)
    return body


# --- requests -------------------------------------------------------------------------


def test_pay_is_ready_for_the_travellers_user_id(connector: KakaoPayConnector) -> None:
    request = connector.build_pay(PAY)
    assert (request.method, str(request.url)) == (
        "POST",
        "https://open-api.kakaopay.test/online/v1/payment/ready",
    )
    assert request.headers["authorization"] == f"SECRET_KEY {SECRET}"
    assert request.headers["content-type"] == "application/json"
    assert sent(request) == {
        "cid": "TC0ONETIME",
        "partner_order_id": "pay-7c1f0a3e-w1",
        "partner_user_id": "281002000000000013",
        "item_name": "2 x ramen",
        "quantity": 1,
        "total_amount": 11016,
        "tax_free_amount": 0,
        "approval_url": "https://hub.causeway.test/kakaopay/return",
        "cancel_url": "https://hub.causeway.test/kakaopay/return",
        "fail_url": "https://hub.causeway.test/kakaopay/return",
    }


def test_item_name_is_cut_to_100_characters_or_named_after_the_merchant(
    connector: KakaoPayConnector,
) -> None:
    long = sent(connector.build_pay(replace(PAY, order_description="라멘 " * 60)))
    assert len(long["item_name"]) == 100
    blank = sent(connector.build_pay(replace(PAY, order_description="  ")))
    assert blank["item_name"] == "Ramen Ichiban"


def test_inquiry_and_cancel_name_the_payment_by_the_tid_when_known(
    connector: KakaoPayConnector,
) -> None:
    inquiry = connector.build_inquire(replace(INQUIRE, wallet_payment_id=TID))
    assert inquiry.url.path == f"{PREFIX}/order"
    assert sent(inquiry) == {"cid": "TC0ONETIME", "tid": TID}
    cancel = connector.build_cancel(replace(CANCEL, wallet_payment_id=TID))
    assert cancel.url.path == f"{PREFIX}/cancel"
    assert sent(cancel) == {"cid": "TC0ONETIME", "tid": TID, "cancel_tax_free_amount": 0}
    assert cancel.headers["authorization"] == f"SECRET_KEY {SECRET}"


def test_without_a_tid_they_fall_back_to_the_order_id(connector: KakaoPayConnector) -> None:
    inquiry = connector.build_inquire(INQUIRE)
    assert sent(inquiry) == {"cid": "TC0ONETIME", "partner_order_id": "pay-7c1f0a3e-w1"}
    cancel = connector.build_cancel(CANCEL)
    assert sent(cancel) == {
        "cid": "TC0ONETIME",
        "partner_order_id": "pay-7c1f0a3e-w1",
        "cancel_tax_free_amount": 0,
    }


def test_a_refund_is_a_partial_cancel_keyed_by_payload(connector: KakaoPayConnector) -> None:
    request = connector.build_refund(REFUND)
    assert request.url.path == f"{PREFIX}/cancel"
    assert sent(request) == {
        "cid": "TC0ONETIME",
        "tid": TID,
        "cancel_amount": 5508,
        "cancel_tax_free_amount": 0,
        "payload": "rfd-55-w1",
    }
    without_tid = sent(connector.build_refund(replace(REFUND, wallet_payment_id=None)))
    assert without_tid["partner_order_id"] == "pay-7c1f0a3e-w1"
    assert "tid" not in without_tid


def test_base_url_path_and_redirect_urls_are_honoured(settings: dict[str, Any]) -> None:
    settings |= {
        "base_url": "https://gw.example.test/kakao/",
        "path_prefix": "/v9/pay",
        "cancel_url": "https://hub.causeway.test/kakaopay/cancelled",
        "fail_url": "https://hub.causeway.test/kakaopay/failed",
    }
    connector = KakaoPayConnector("kakaopay", settings)
    request = connector.build_pay(PAY)
    assert str(request.url) == "https://gw.example.test/kakao/v9/pay/ready"
    body = sent(request)
    assert body["cancel_url"].endswith("/cancelled")
    assert body["fail_url"].endswith("/failed")


def test_an_amount_in_another_currency_never_leaves(connector: KakaoPayConnector) -> None:
    with pytest.raises(OperationNotSupported, match="JPY"):
        connector.build_pay(replace(PAY, pay_to_amount=Amount("JPY", 1200)))
    with pytest.raises(OperationNotSupported, match="JPY"):
        connector.build_refund(replace(REFUND, refund_from_amount=Amount("JPY", 600)))


# --- ready ------------------------------------------------------------------------------


def test_ready_is_pending_with_the_tid(connector: KakaoPayConnector) -> None:
    result = connector.parse_pay(PAY, answer(recorded("ready_success")))
    assert result.outcome is Outcome.PENDING
    assert result.code == "PAYMENT_IN_PROCESS"
    assert (result.wallet_payment_id, result.wallet_code) == (TID, "READY")


@pytest.mark.parametrize(
    ("fixture", "status", "code", "wallet_code"),
    [
        ("error_approval_user_locked", 400, "PROCESS_FAIL", "USER_LOCKED"),
        ("error_approval_legacy", 400, "PROCESS_FAIL", "USER_LOCKED"),
        ("error_unauthorized", 401, "PROCESS_FAIL", "-401"),
    ],
)
def test_a_refused_ready_is_declined(
    connector: KakaoPayConnector, fixture: str, status: int, code: str, wallet_code: str
) -> None:
    result = connector.parse_pay(PAY, answer(recorded(fixture), status))
    assert (result.outcome, result.code, result.wallet_code) == (Outcome.FAILED, code, wallet_code)
    assert result.message


@pytest.mark.parametrize(
    ("body", "outcome", "code"),
    [
        ('{"error_code":-726,"error_message":"order reused"}', Outcome.PENDING, None),
        ('{"error_code":-702,"error_message":"cancelled"}', Outcome.FAILED, "ORDER_IS_CLOSED"),
        ('{"error_code":-2,"error_message":"bad total_amount"}', Outcome.FAILED, "PROCESS_FAIL"),
        ('{"error_code":-999,"error_message":"who knows"}', Outcome.FAILED, "PROCESS_FAIL"),
        (
            '{"error_code":-780,"extras":{"method_result_code":"EXCEED_LIMIT"}}',
            Outcome.FAILED,
            "PAYMENT_AMOUNT_EXCEED_LIMIT",
        ),
    ],
    ids=["order-reused", "id-closed", "bad-parameter", "unknown-code", "limit"],
)
def test_ready_errors(
    connector: KakaoPayConnector, body: str, outcome: Outcome, code: str | None
) -> None:
    result = connector.parse_pay(PAY, answer(body, 400))
    assert result.outcome is outcome
    if code is not None:
        assert result.code == code


# --- order (inquiry) --------------------------------------------------------------------


def test_inquiry_success(connector: KakaoPayConnector) -> None:
    result = connector.parse_inquire(INQUIRE, answer(recorded("order_success")))
    assert (result.outcome, result.code) == (Outcome.SUCCEEDED, "SUCCESS")
    assert result.wallet_payment_id == TID
    # KakaoPay writes Korean time without an offset.
    assert result.paid_at == datetime(2026, 3, 1, 8, 0, 19, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fixture", "outcome", "code", "wallet_code"),
    [
        ("order_part_cancel", Outcome.SUCCEEDED, "SUCCESS", None),
        ("order_cancel_payment", Outcome.FAILED, "ORDER_IS_CLOSED", "CANCEL_PAYMENT"),
        ("order_ready", Outcome.PENDING, "PAYMENT_IN_PROCESS", "READY"),
        ("order_fail_balance", Outcome.FAILED, "USER_BALANCE_NOT_ENOUGH", "INSUFFICIENT_BALANCE"),
    ],
)
def test_inquiry_answers(
    connector: KakaoPayConnector,
    fixture: str,
    outcome: Outcome,
    code: str,
    wallet_code: str | None,
) -> None:
    result = connector.parse_inquire(INQUIRE, answer(recorded(fixture)))
    assert (result.outcome, result.code, result.wallet_code) == (outcome, code, wallet_code)


def with_status(status: str, extras: dict[str, str] | None = None) -> str:
    body = json.loads(recorded("order_success"))
    body["status"] = status
    if extras is not None:
        body["extras"] = extras
    return json.dumps(body)


@pytest.mark.parametrize(
    ("extras", "code"),
    [
        ({"method_result_code": "EXCEED_LIMIT"}, "PAYMENT_AMOUNT_EXCEED_LIMIT"),
        ({"method_result_code": "USER_NOT_FOUND"}, "USER_NOT_EXIST"),
        ({"method_result_code": "CARD_REJECTED"}, "PROCESS_FAIL"),
        (None, "PROCESS_FAIL"),
    ],
)
def test_a_failed_approval_keeps_its_reason(
    connector: KakaoPayConnector, extras: dict[str, str] | None, code: str
) -> None:
    result = connector.parse_inquire(INQUIRE, answer(with_status("FAIL_PAYMENT", extras)))
    assert (result.outcome, result.code) == (Outcome.FAILED, code)
    expected = "FAIL_PAYMENT" if extras is None else extras["method_result_code"]
    assert result.wallet_code == expected


@pytest.mark.parametrize("status", list(PaymentStatus))
def test_every_status_has_an_outcome_and_only_paid_ones_succeed(
    connector: KakaoPayConnector, status: PaymentStatus
) -> None:
    result = connector.parse_inquire(INQUIRE, answer(with_status(status)))
    paid = {PaymentStatus.SUCCESS_PAYMENT, PaymentStatus.PART_CANCEL_PAYMENT}
    assert (result.outcome is Outcome.SUCCEEDED) == (status in paid)


@pytest.mark.parametrize("status", ["HOLD_PAYMENT", "success_payment", "SUCCESS", ""])
def test_an_unknown_status_is_pending_never_success(
    connector: KakaoPayConnector, status: str
) -> None:
    result = connector.parse_inquire(INQUIRE, answer(with_status(status)))
    assert (result.outcome, result.wallet_code) == (Outcome.PENDING, status)


def test_a_pending_inquiry_carries_the_tid(connector: KakaoPayConnector) -> None:
    # Asked by partner_order_id (the ready's answer was lost), this is how the core learns it.
    result = connector.parse_inquire(INQUIRE, answer(recorded("order_ready")))
    assert (result.outcome, result.wallet_payment_id) == (Outcome.PENDING, TID)


def test_inquiry_errors(connector: KakaoPayConnector) -> None:
    missing = connector.parse_inquire(INQUIRE, answer(recorded("error_tid_not_found"), 400))
    assert (missing.outcome, missing.code) == (Outcome.FAILED, "ORDER_NOT_EXIST")
    refused = connector.parse_inquire(INQUIRE, answer(recorded("error_unauthorized"), 401))
    assert (refused.outcome, refused.wallet_code) == (Outcome.PENDING, "-401")


def test_a_malformed_time_does_not_lose_a_charge(connector: KakaoPayConnector) -> None:
    body = recorded("order_success").replace(b'"approved_at": "2026-03-01T17:00:19"', b'"x": 1')
    unstamped = connector.parse_inquire(INQUIRE, answer(body))
    assert (unstamped.outcome, unstamped.paid_at) == (Outcome.SUCCEEDED, None)
    odd = recorded("order_success").replace(b"2026-03-01T17:00:19", b"yesterday")
    assert connector.parse_inquire(INQUIRE, answer(odd)).paid_at is None
    zoned = recorded("order_success").replace(b"2026-03-01T17:00:19", b"2026-03-01T08:00:19Z")
    assert connector.parse_inquire(INQUIRE, answer(zoned)).paid_at == datetime(
        2026, 3, 1, 8, 0, 19, tzinfo=UTC
    )


def test_an_answer_about_another_order_is_rejected(connector: KakaoPayConnector) -> None:
    body = recorded("order_success").replace(b"pay-7c1f0a3e-w1", b"pay-someone-else")
    with pytest.raises(WalletProtocolError, match="pay-someone-else") as caught:
        connector.parse_inquire(INQUIRE, answer(body))
    assert caught.value.connector == "kakaopay"


def test_an_answer_about_another_tid_is_rejected(connector: KakaoPayConnector) -> None:
    other = b'"tid": "T0000000000000000000"'
    body = recorded("order_success").replace(b'"tid": "T6a1c2e3f4b5d6a7c8e9"', other)
    assert body != recorded("order_success")
    by_tid = replace(INQUIRE, wallet_payment_id=TID)
    with pytest.raises(WalletProtocolError, match="tid"):
        connector.parse_inquire(by_tid, answer(body))
    # Asked by partner_order_id, any tid is news, not a mismatch.
    assert connector.parse_inquire(INQUIRE, answer(body)).outcome is Outcome.SUCCEEDED
    cancelled = recorded("cancel_full").replace(b'"tid": "T6a1c2e3f4b5d6a7c8e9"', other)
    with pytest.raises(WalletProtocolError, match="tid"):
        connector.parse_cancel(replace(CANCEL, wallet_payment_id=TID), answer(cancelled))


# --- cancel and refund ------------------------------------------------------------------


def test_cancel_answers(connector: KakaoPayConnector) -> None:
    def cancel(body: bytes | str, status: int = 200) -> tuple[Outcome, str]:
        result = connector.parse_cancel(CANCEL, answer(body, status))
        return result.outcome, result.code

    assert cancel(recorded("cancel_full")) == (Outcome.SUCCEEDED, "SUCCESS")
    # Never charged under this id: nothing to reverse, and it never will be.
    assert cancel(recorded("error_tid_not_found"), 400) == (Outcome.SUCCEEDED, "SUCCESS")
    failed = recorded("cancel_full").replace(b'"CANCEL_PAYMENT"', b'"FAIL_PAYMENT"')
    assert cancel(failed) == (Outcome.SUCCEEDED, "SUCCESS")
    held = recorded("cancel_full").replace(b'"CANCEL_PAYMENT"', b'"PART_CANCEL_PAYMENT"')
    assert cancel(held)[0] is Outcome.PENDING
    odd = recorded("cancel_full").replace(b'"CANCEL_PAYMENT"', b'"HOLD_PAYMENT"')
    assert cancel(odd)[0] is Outcome.PENDING
    refused = '{"error_code":-702,"error_message":"not cancellable"}'
    assert cancel(refused, 400) == (Outcome.FAILED, "ORDER_STATUS_INVALID")
    assert cancel(recorded("error_unauthorized"), 401) == (Outcome.FAILED, "PROCESS_FAIL")


def test_refund_success(connector: KakaoPayConnector) -> None:
    result = connector.parse_refund(REFUND, answer(recorded("refund_partial")))
    assert (result.outcome, result.wallet_refund_id) == (Outcome.SUCCEEDED, "A6a1c2e3f4b5d6a7c8f1")
    assert result.refunded_at == datetime(2026, 3, 1, 9, 30, 45, tzinfo=UTC)
    last = recorded("refund_partial").replace(b'"PART_CANCEL_PAYMENT"', b'"CANCEL_PAYMENT"')
    assert connector.parse_refund(REFUND, answer(last)).outcome is Outcome.SUCCEEDED
    odd = recorded("refund_partial").replace(b'"PART_CANCEL_PAYMENT"', b'"HOLD_PAYMENT"')
    assert connector.parse_refund(REFUND, answer(odd)).outcome is Outcome.PENDING


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (recorded("refund_exceeded"), "REFUND_AMOUNT_EXCEED"),
        (recorded("error_tid_not_found"), "ORDER_NOT_EXIST"),
        (b'{"error_code":-702,"error_message":"not paid"}', "ORDER_STATUS_INVALID"),
        (b'{"error_code":-726,"error_message":"payload reused"}', "REPEAT_REQ_INCONSISTENT"),
        (b'{"error_code":-2,"error_message":"bad cancel_amount"}', "PROCESS_FAIL"),
    ],
)
def test_refund_refusals(connector: KakaoPayConnector, body: bytes, code: str) -> None:
    result = connector.parse_refund(REFUND, answer(body, 400))
    assert (result.outcome, result.code) == (Outcome.FAILED, code)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (b'"payload": "rfd-55-w1"', b'"payload": "rfd-other"', "payload"),
        (b'"tid": "T6a1c2e3f4b5d6a7c8e9"', b'"tid": "T0000000000000000000"', "tid"),
        (b'cancel_amount": {"total": 5508', b'cancel_amount": {"total": 11016', "approved_cancel"),
        (b"pay-7c1f0a3e-w1", b"pay-someone-else", "partner_order_id"),
    ],
)
def test_a_refund_answer_for_another_cancel_is_rejected(
    connector: KakaoPayConnector, old: bytes, new: bytes, field: str
) -> None:
    body = recorded("refund_partial").replace(old, new)
    assert body != recorded("refund_partial")
    with pytest.raises(WalletProtocolError, match=field):
        connector.parse_refund(REFUND, answer(body))


# --- refund inquiry (order's payment_action_details) -----------------------------------


def test_a_refund_is_looked_up_with_order_naming_the_payment(
    connector: KakaoPayConnector,
) -> None:
    request = connector.build_inquire_refund(REFUND)
    assert (request.method, request.url.path) == ("POST", f"{PREFIX}/order")
    assert request.headers["authorization"] == f"SECRET_KEY {SECRET}"
    assert sent(request) == {"cid": "TC0ONETIME", "tid": TID}
    without_tid = connector.build_inquire_refund(replace(REFUND, wallet_payment_id=None))
    assert sent(without_tid) == {"cid": "TC0ONETIME", "partner_order_id": "pay-7c1f0a3e-w1"}
    with pytest.raises(OperationNotSupported, match="JPY"):
        connector.build_inquire_refund(replace(REFUND, refund_from_amount=Amount("JPY", 600)))


def test_the_cancel_carrying_the_refund_id_is_the_refund(connector: KakaoPayConnector) -> None:
    found = connector.parse_inquire_refund(REFUND, answer(recorded("order_part_cancel")))
    assert found.presence is RefundPresence.FOUND
    assert found.wallet_refund_id == "A6a1c2e3f4b5d6a7c8f1"  # the cancel's aid
    assert found.refunded_at == datetime(2026, 3, 1, 9, 30, 45, tzinfo=UTC)


def with_actions(status: str, *actions: dict[str, Any]) -> str:
    body = json.loads(recorded("order_part_cancel"))
    body["status"] = status
    body["payment_action_details"] = [body["payment_action_details"][0], *actions]
    return json.dumps(body)


def cancel_action(**changes: Any) -> dict[str, Any]:
    action: dict[str, Any] = json.loads(recorded("order_part_cancel"))["payment_action_details"][1]
    return action | changes


@pytest.mark.parametrize("status", [*PaymentStatus, "HOLD_PAYMENT", ""])
def test_without_it_only_a_charged_payment_proves_the_refund_absent(
    connector: KakaoPayConnector, status: str
) -> None:
    other = cancel_action(payload="rfd-54-w1")  # another refund of the same payment
    lookup = connector.parse_inquire_refund(REFUND, answer(with_actions(status, other)))
    charged = {
        PaymentStatus.SUCCESS_PAYMENT,
        PaymentStatus.PART_CANCEL_PAYMENT,
        PaymentStatus.CANCEL_PAYMENT,
    }
    expected = RefundPresence.ABSENT if status in charged else RefundPresence.UNKNOWN
    assert lookup.presence is expected
    assert lookup.wallet_refund_id is None


def test_a_payment_with_no_cancel_has_not_got_the_refund(connector: KakaoPayConnector) -> None:
    lookup = connector.parse_inquire_refund(REFUND, answer(recorded("order_success")))
    assert lookup.presence is RefundPresence.ABSENT
    assert "rfd-55-w1" in lookup.message


def test_an_answer_that_does_not_list_the_cancels_does_not_tell(
    connector: KakaoPayConnector,
) -> None:
    body = json.loads(recorded("order_success"))
    del body["payment_action_details"]
    lookup = connector.parse_inquire_refund(REFUND, answer(json.dumps(body)))
    assert lookup.presence is RefundPresence.UNKNOWN


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"<html>Bad Gateway</html>", 502),
        (recorded("error_unauthorized"), 401),
        (recorded("error_tid_not_found"), 400),  # asked by the tid the refund was sent with
    ],
    ids=["5xx", "refused", "no-such-tid"],
)
def test_a_failed_lookup_does_not_tell(
    connector: KakaoPayConnector, body: bytes, status: int
) -> None:
    lookup = connector.parse_inquire_refund(REFUND, answer(body, status))
    assert lookup.presence is RefundPresence.UNKNOWN


@pytest.mark.parametrize(
    ("actions", "problem"),
    [
        ([cancel_action(amount=5509)], "5509 won, not 5508"),
        ([cancel_action(amount=None)], "None won"),
        ([cancel_action(payment_action_type="PAYMENT")], "'PAYMENT'"),
        ([cancel_action(payment_action_type="REFUND")], "'REFUND'"),
        ([cancel_action(), cancel_action(aid="A6a1c2e3f4b5d6a7c8f2")], "2 entries"),
    ],
    ids=["other-amount", "no-amount", "a-payment", "unknown-type", "twice"],
)
def test_a_record_of_the_refund_that_disagrees_with_it_is_never_found(
    connector: KakaoPayConnector, actions: list[dict[str, Any]], problem: str
) -> None:
    body = with_actions("PART_CANCEL_PAYMENT", *actions)
    with pytest.raises(WalletProtocolError, match=problem) as caught:
        connector.parse_inquire_refund(REFUND, answer(body))
    assert caught.value.connector == "kakaopay"


def test_a_lookup_answer_about_another_payment_is_rejected(connector: KakaoPayConnector) -> None:
    other = b'"tid": "T0000000000000000000"'
    body = recorded("order_part_cancel").replace(b'"tid": "T6a1c2e3f4b5d6a7c8e9"', other)
    assert body != recorded("order_part_cancel")
    with pytest.raises(WalletProtocolError, match="tid"):
        connector.parse_inquire_refund(REFUND, answer(body))


# --- HTTP status and garbage ------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_pending_for_every_operation(connector: KakaoPayConnector, status: int) -> None:
    response = httpx.Response(status, content=b"<html>Bad Gateway</html>")
    outcomes = [
        connector.parse_pay(PAY, response).outcome,
        connector.parse_inquire(INQUIRE, response).outcome,
        connector.parse_cancel(CANCEL, response).outcome,
        connector.parse_refund(REFUND, response).outcome,
    ]
    assert outcomes == [Outcome.PENDING] * 4


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (201, recorded("ready_success")),
        (302, b""),
        (404, b"<html>Not Found</html>"),
        (400, b'{"message":"bad"}'),
        (429, b""),
    ],
)
def test_other_statuses_without_an_error_body_are_protocol_errors(
    connector: KakaoPayConnector, status: int, body: bytes
) -> None:
    with pytest.raises(WalletProtocolError) as caught:
        connector.parse_pay(PAY, answer(body, status))
    assert caught.value.http_status == status


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html>gateway</html>",
        b"[]",
        b'{"next_redirect_pc_url":"https://x.test"}',
        b'{"tid":""}',
        b'{"tid":12345678901234567890}',
        b"\xff\xfe{}",
    ],
    ids=["empty", "html", "list", "no-tid", "empty-tid", "numeric-tid", "not-utf8"],
)
def test_a_garbled_ready_answer_is_a_protocol_error(
    connector: KakaoPayConnector, body: bytes
) -> None:
    with pytest.raises(WalletProtocolError, match="malformed") as caught:
        connector.parse_pay(PAY, answer(body))
    assert caught.value.http_status == 200


@pytest.mark.parametrize(
    "body",
    [b'{"tid":"T1"}', b'{"status":"SUCCESS_PAYMENT"}', b'{"tid":"T1","status":7}'],
)
def test_a_garbled_order_answer_is_a_protocol_error(
    connector: KakaoPayConnector, body: bytes
) -> None:
    with pytest.raises(WalletProtocolError, match="malformed"):
        connector.parse_inquire(INQUIRE, answer(body))


# --- contract ---------------------------------------------------------------------------


def test_it_is_a_connector_with_its_capabilities(connector: KakaoPayConnector) -> None:
    assert isinstance(connector, Connector)
    assert isinstance(connector, RefundInquiry)  # its refunds are looked up, never resent
    assert connector.capabilities.refunds_deduplicated is False
    assert connector.name == "kakaopay"
    assert connector.capabilities.operations == frozenset(Operation)
    assert connector.capabilities.currencies == {"KRW"}
    assert connector.capabilities.regions == {"KR"}
    assert connector.capabilities.modes == {"PaymentCode"}


def test_the_registry_builds_it(settings: dict[str, Any]) -> None:
    built = build_connector("kakaopay", "kr-kakao", settings)
    assert isinstance(built, KakaoPayConnector)
    assert built.name == "kr-kakao"


def _isort_key(name: str) -> tuple[int, str]:
    return (0 if name.isupper() else 1 if name[0].isupper() else 2), name


@pytest.mark.parametrize("name", ["connectors.kakaopay", "connectors.kakaopay.simulator"])
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    exported: list[str] = module.__all__
    assert exported == sorted(exported, key=_isort_key)
    defined = {
        member
        for member, value in vars(module).items()
        if not member.startswith("_") and getattr(value, "__module__", None) == name
    }
    assert defined <= set(exported)
    assert all(hasattr(module, member) for member in exported)
