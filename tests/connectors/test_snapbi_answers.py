"""The SNAP BI connector as a parser: recorded wallet answers become canonical results."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from connectors import (
    Amount,
    CancelRequest,
    InquireRequest,
    Merchant,
    Outcome,
    PayRequest,
    RefundRequest,
    WalletProtocolError,
)
from connectors.snapbi import SnapBiConnector

FIXTURES = Path(__file__).parent / "fixtures" / "snapbi"
SETTINGS = {
    "base_url": "https://api.wallet.test",
    "partner_id": "HUB-PARTNER-01",
    "client_secret": "hub-client-secret-7f3a",
    "access_token": "b2b-token",
    "channel_id": "95221",
    "merchant_id": "216620000000000001",
    "currencies": ["IDR"],
    "regions": ["ID"],
}
PAY = PayRequest(
    wallet_request_id="pay-7c1f0a3e-w1",
    acquirer_id="CAUSEWAY",
    payment_code="cust-token-rina-0001",
    payment_amount=Amount("JPY", 1200),
    pay_to_amount=Amount("IDR", 12_720_000),
    quote=None,
    merchant=Merchant("M-000123", "Ramen Ichiban", "5812", "JP"),
    order_description="2 x ramen",
    reference_order_id="ORD-991",
)
INQUIRE = InquireRequest(PAY.wallet_request_id, "CAUSEWAY")
CANCEL = CancelRequest(PAY.wallet_request_id, "CAUSEWAY")
REFUND = RefundRequest(
    refund_request_id="rfd-55-w1",
    wallet_request_id=PAY.wallet_request_id,
    wallet_payment_id=None,
    acquirer_id="CAUSEWAY",
    refund_amount=Amount("JPY", 600),
    refund_from_amount=Amount("IDR", 6_360_000),
    quote=None,
)


@pytest.fixture
def connector() -> SnapBiConnector:
    return SnapBiConnector("dana", SETTINGS)


def answer(name: str, *, status: int | None = None) -> httpx.Response:
    """A recorded answer, under the HTTP status its responseCode begins with (as SNAP
    wallets send it) unless ``status`` says otherwise."""
    body = (FIXTURES / f"{name}.json").read_bytes()
    code = json.loads(body)["responseCode"]
    return httpx.Response(status or int(code[:3]), content=body)


def raw(body: bytes, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=body)


# --- pay ---------------------------------------------------------------------------------


def test_pay_success(connector: SnapBiConnector) -> None:
    result = connector.parse_pay(PAY, answer("pay_success"))
    assert (result.outcome, result.code) == (Outcome.SUCCEEDED, "SUCCESS")
    assert result.wallet_payment_id == "2026030111212800100166301400001"


@pytest.mark.parametrize("status", [None, 200])
def test_pay_declined_for_balance_whatever_the_http_status(
    connector: SnapBiConnector, status: int | None
) -> None:
    result = connector.parse_pay(PAY, answer("pay_declined_balance", status=status))
    assert (result.outcome, result.code) == (Outcome.FAILED, "USER_BALANCE_NOT_ENOUGH")
    assert result.wallet_code == "4035414"
    assert result.message == "Insufficient Funds (4035414)"


@pytest.mark.parametrize(
    ("fixture", "code"),
    [
        ("pay_exceeds_limit", "PAYMENT_AMOUNT_EXCEED_LIMIT"),
        ("pay_invalid_customer_token", "USER_NOT_EXIST"),
        ("pay_invalid_merchant", "PROCESS_FAIL"),
    ],
)
def test_pay_declines_are_mapped(connector: SnapBiConnector, fixture: str, code: str) -> None:
    result = connector.parse_pay(PAY, answer(fixture))
    assert (result.outcome, result.code) == (Outcome.FAILED, code)
    assert (
        result.wallet_code == json.loads((FIXTURES / f"{fixture}.json").read_text())["responseCode"]
    )


@pytest.mark.parametrize(
    "fixture",
    [
        "pay_redirect",
        "pay_in_progress",
        "pay_invalid_signature",
        "pay_inconsistent",
        "pay_conflict",
    ],
)
def test_pay_answers_that_say_nothing_final_are_pending(
    connector: SnapBiConnector, fixture: str
) -> None:
    result = connector.parse_pay(PAY, answer(fixture))
    assert result.outcome is Outcome.PENDING
    assert result.wallet_code is not None


@pytest.mark.parametrize(
    "code", ["2005499", "2015400", "2005401", "4185400", "3025400", "4005400", "4295400"]
)
def test_unplaced_and_request_level_codes_are_pending_never_success(
    connector: SnapBiConnector, code: str
) -> None:
    body = f'{{"responseCode":"{code}","responseMessage":"?"}}'.encode()
    result = connector.parse_pay(PAY, raw(body, int(code[:3])))
    assert (result.outcome, result.wallet_code) == (Outcome.PENDING, code)


def test_numbers_where_strings_are_due_do_not_lose_a_charge(connector: SnapBiConnector) -> None:
    body = b'{"responseCode":2005400,"referenceNo":2026030100017}'
    result = connector.parse_pay(PAY, raw(body))
    assert result.outcome is Outcome.SUCCEEDED
    assert result.wallet_payment_id == "2026030100017"


# --- inquiry -------------------------------------------------------------------------------


def test_inquiry_success(connector: SnapBiConnector) -> None:
    result = connector.parse_inquire(INQUIRE, answer("status_success"))
    assert result.outcome is Outcome.SUCCEEDED
    assert result.wallet_payment_id == "2026030111212800100166301400001"
    assert result.paid_at == datetime(2026, 3, 1, 8, 0, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fixture", "outcome", "code", "wallet_code"),
    [
        ("status_initiated", Outcome.PENDING, "PAYMENT_IN_PROCESS", "01"),
        ("status_unknown", Outcome.PENDING, "PAYMENT_IN_PROCESS", "09"),
        ("status_failed", Outcome.FAILED, "USER_BALANCE_NOT_ENOUGH", "4035414"),
        ("status_cancelled", Outcome.FAILED, "ORDER_IS_CLOSED", "05"),
        ("status_not_found", Outcome.FAILED, "ORDER_NOT_EXIST", "4045501"),
    ],
)
def test_inquiry_statuses(
    connector: SnapBiConnector, fixture: str, outcome: Outcome, code: str, wallet_code: str
) -> None:
    result = connector.parse_inquire(INQUIRE, answer(fixture))
    assert (result.outcome, result.code, result.wallet_code) == (outcome, code, wallet_code)


@pytest.mark.parametrize(
    ("status", "outcome", "code"),
    [
        ("02", Outcome.PENDING, "PAYMENT_IN_PROCESS"),
        ("03", Outcome.PENDING, "PAYMENT_IN_PROCESS"),
        ("04", Outcome.SUCCEEDED, "SUCCESS"),
        ("07", Outcome.FAILED, "ORDER_NOT_EXIST"),
        ("", Outcome.PENDING, "PAYMENT_IN_PROCESS"),
        ("0", Outcome.PENDING, "PAYMENT_IN_PROCESS"),
    ],
)
def test_every_transaction_status_maps(
    connector: SnapBiConnector, status: str, outcome: Outcome, code: str
) -> None:
    body = f'{{"responseCode":"2005500","latestTransactionStatus":"{status}"}}'.encode()
    result = connector.parse_inquire(INQUIRE, raw(body))
    assert (result.outcome, result.code) == (outcome, code)


def test_a_failure_without_its_original_code_is_a_process_failure(
    connector: SnapBiConnector,
) -> None:
    body = b'{"responseCode":"2005500","latestTransactionStatus":"06","originalResponseCode":"x"}'
    result = connector.parse_inquire(INQUIRE, raw(body))
    assert (result.outcome, result.code, result.wallet_code) == (
        Outcome.FAILED,
        "PROCESS_FAIL",
        "x",
    )


@pytest.mark.parametrize("code", ["4015500", "4015501", "4295500", "4035505", "2025500"])
def test_a_failed_inquiry_leaves_the_payment_pending(connector: SnapBiConnector, code: str) -> None:
    body = f'{{"responseCode":"{code}","responseMessage":"no"}}'.encode()
    result = connector.parse_inquire(INQUIRE, raw(body, int(code[:3])))
    assert (result.outcome, result.wallet_code) == (Outcome.PENDING, code)


# --- cancel and refund ---------------------------------------------------------------------


def test_cancel_answers(connector: SnapBiConnector) -> None:
    assert connector.parse_cancel(CANCEL, answer("cancel_success")).outcome is Outcome.SUCCEEDED
    expired = connector.parse_cancel(CANCEL, answer("cancel_expired"))
    assert (expired.outcome, expired.code) == (Outcome.FAILED, "CANCEL_WINDOW_EXCEED")
    for code, outcome, mapped in [
        ("4045701", Outcome.FAILED, "ORDER_NOT_EXIST"),
        ("4045700", Outcome.FAILED, "ORDER_STATUS_INVALID"),
        ("2025700", Outcome.PENDING, "UNKNOWN_EXCEPTION"),
        ("4015700", Outcome.PENDING, "UNKNOWN_EXCEPTION"),
    ]:
        body = f'{{"responseCode":"{code}"}}'.encode()
        result = connector.parse_cancel(CANCEL, raw(body, int(code[:3])))
        assert (result.outcome, result.code) == (outcome, mapped)


def test_refund_answers(connector: SnapBiConnector) -> None:
    ok = connector.parse_refund(REFUND, answer("refund_success"))
    assert ok.outcome is Outcome.SUCCEEDED
    assert ok.wallet_refund_id == "2026030111212800100166301400077"
    assert ok.refunded_at == datetime(2026, 3, 1, 10, 30, 45, tzinfo=UTC)
    exceeded = connector.parse_refund(REFUND, answer("refund_exceeded"))
    assert (exceeded.outcome, exceeded.code) == (Outcome.FAILED, "REFUND_AMOUNT_EXCEED")
    for code, outcome, mapped in [
        ("4045812", Outcome.FAILED, "ORDER_NOT_EXIST"),
        ("4045800", Outcome.FAILED, "ORDER_STATUS_INVALID"),
        ("4035815", Outcome.FAILED, "PROCESS_FAIL"),
        ("4045818", Outcome.PENDING, "UNKNOWN_EXCEPTION"),
        ("2025800", Outcome.PENDING, "UNKNOWN_EXCEPTION"),
    ]:
        body = f'{{"responseCode":"{code}"}}'.encode()
        result = connector.parse_refund(REFUND, raw(body, int(code[:3])))
        assert (result.outcome, result.code) == (outcome, mapped)


# --- HTTP status, garbage, answers about something else -----------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_pending_for_every_operation(connector: SnapBiConnector, status: int) -> None:
    for response in (answer("pay_general_error", status=status), raw(b"<html>502</html>", status)):
        outcomes = [
            connector.parse_pay(PAY, response).outcome,
            connector.parse_inquire(INQUIRE, response).outcome,
            connector.parse_cancel(CANCEL, response).outcome,
            connector.parse_refund(REFUND, response).outcome,
        ]
        assert outcomes == [Outcome.PENDING] * 4


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", 200),
        (b"<html>gateway</html>", 200),
        (b"<html>not found</html>", 404),
        (b"[]", 200),
        (b'{"referenceNo":"123"}', 200),
        (b'{"responseCode":"200540"}', 200),
        (b'{"responseCode":"20054OO"}', 200),
        (b'{"responseCode":null}', 200),
        (b"\xff\xfe{}", 200),
    ],
    ids=["empty", "html", "html-404", "list", "no-code", "six-digits", "letters", "null", "utf16"],
)
def test_garbage_is_a_protocol_error(connector: SnapBiConnector, body: bytes, status: int) -> None:
    with pytest.raises(WalletProtocolError, match="malformed") as caught:
        connector.parse_pay(PAY, raw(body, status))
    assert caught.value.http_status == status
    assert caught.value.connector == "dana"


@pytest.mark.parametrize(
    ("code", "status"),
    [("2005400", 403), ("2005400", 302), ("2005500", 200), ("2000000", 200)],
    ids=["success-in-a-403", "success-in-a-302", "status-service", "no-service"],
)
def test_a_success_that_contradicts_its_envelope_is_not_believed(
    connector: SnapBiConnector, code: str, status: int
) -> None:
    with pytest.raises(WalletProtocolError, match="does not fit"):
        connector.parse_pay(PAY, raw(f'{{"responseCode":"{code}"}}'.encode(), status))


def test_an_answer_about_another_transaction_is_rejected(connector: SnapBiConnector) -> None:
    other = (FIXTURES / "status_success.json").read_bytes().replace(b"pay-7c1f", b"pay-0000")
    with pytest.raises(WalletProtocolError, match="pay-0000"):
        connector.parse_inquire(INQUIRE, raw(other))
    refund = (FIXTURES / "refund_success.json").read_bytes().replace(b"rfd-55", b"rfd-99")
    with pytest.raises(WalletProtocolError, match="rfd-99"):
        connector.parse_refund(REFUND, raw(refund))
    with pytest.raises(WalletProtocolError, match="pay-0000"):
        connector.parse_pay(
            PAY, raw((FIXTURES / "pay_success.json").read_bytes().replace(b"pay-7c1f", b"pay-0000"))
        )
