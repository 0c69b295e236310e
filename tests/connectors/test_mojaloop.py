"""The Mojaloop connector as a translator: requests it builds, recorded answers it parses.

The recorded answers follow the SDK scheme adapter's outbound API (``transferResponse``,
``errorTransferResponse`` as built by its ``handleError``, ``transferStatusResponse``);
their ILP fulfilment and condition are the pair used in the FSPIOP examples.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable
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
    Connector,
    InquireRequest,
    Merchant,
    Operation,
    OperationNotSupported,
    Outcome,
    PayRequest,
    RefundRequest,
    WalletProtocolError,
)
from connectors.mojaloop import MojaloopConnector
from connectors.mojaloop._answers import ilp_condition
from connectors.mojaloop._wire import transfer_id

FIXTURES = Path(__file__).parent / "fixtures" / "mojaloop"
FIXED_NOW = datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)
TOKEN = "tz-adapter-token-0123456789"
TRAVELLER = "255712345001"
#: Pinned: the transferIds of requests in flight depend on the UUID v5 namespace.
PAY_ID = "a31d4145-fbef-5b9b-a261-27795d74039c"
RFD_ID = "0e070d23-ce02-5065-8b92-1efc2ac6eef4"

PAY = PayRequest(
    wallet_request_id="pay-7c1f0a3e-w1",
    acquirer_id="CAUSEWAY",
    payment_code=TRAVELLER,
    payment_amount=Amount("KES", 150_000),
    pay_to_amount=Amount("TZS", 3_000_000),
    quote=None,
    merchant=Merchant("M-000123", "Java House", "5814", "KE"),
    order_description="2 x coffee",
    reference_order_id="ORD-991",
)
INQUIRE = InquireRequest(wallet_request_id="pay-7c1f0a3e-w1", acquirer_id="CAUSEWAY")
REFUND = RefundRequest(
    refund_request_id="rfd-55-w1",
    wallet_request_id="pay-7c1f0a3e-w1",
    wallet_payment_id=PAY_ID,
    acquirer_id="CAUSEWAY",
    refund_amount=Amount("KES", 75_000),
    refund_from_amount=Amount("TZS", 1_500_000),
    quote=None,
    reason="one coffee was cold",
)


@pytest.fixture
def settings() -> dict[str, Any]:
    return {
        "base_url": "http://adapter.test",
        "dfsp_id": "tzwallet",
        "payee_id_type": "MSISDN",
        "payee_id_value": "255700900900",
        "currency_exponent": 2,
        "bearer_token": TOKEN,
        "currencies": ["TZS"],
        "regions": ["TZ"],
    }


@pytest.fixture
def connector(settings: dict[str, Any]) -> MojaloopConnector:
    return MojaloopConnector("tz-wallet", settings, clock=lambda: FIXED_NOW)


def recorded(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def edited(name: str, change: Callable[[dict[str, Any]], None]) -> bytes:
    body: dict[str, Any] = json.loads(recorded(name))
    change(body)
    return json.dumps(body).encode()


def answer(body: bytes, status: int = 200) -> httpx.Response:
    return httpx.Response(status, headers={"content-type": "application/json"}, content=body)


def sent(request: httpx.Request) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.content)
    return body


# --- requests -------------------------------------------------------------------------


def test_pay_is_a_transfer_from_the_traveller(connector: MojaloopConnector) -> None:
    request = connector.build_pay(PAY)
    assert (request.method, str(request.url)) == ("POST", "http://adapter.test/transfers")
    assert sent(request) == {
        "homeTransactionId": "pay-7c1f0a3e-w1",
        "transferId": PAY_ID,
        "from": {"type": "CONSUMER", "idType": "MSISDN", "idValue": TRAVELLER, "fspId": "tzwallet"},
        "to": {"type": "BUSINESS", "idType": "MSISDN", "idValue": "255700900900"},
        "amountType": "SEND",
        "currency": "TZS",
        "amount": "30000",
        "transactionType": "TRANSFER",
        "note": "Java House: 2 x coffee",
    }


def test_headers_carry_the_token_and_the_date(connector: MojaloopConnector) -> None:
    headers = connector.build_pay(PAY).headers
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["content-type"] == "application/json"
    assert headers["accept"] == "application/json"
    assert headers["date"] == "Sun, 01 Mar 2026 08:00:00 GMT"


def test_without_a_token_there_is_no_authorization(settings: dict[str, Any]) -> None:
    del settings["bearer_token"]
    request = MojaloopConnector("tz", settings).build_pay(PAY)
    assert "authorization" not in request.headers
    assert sent(request)["transferId"] == PAY_ID


def test_transfer_ids_are_stable_uuid5s_of_the_request_ids() -> None:
    assert transfer_id("pay", PAY.wallet_request_id) == PAY_ID
    assert transfer_id("refund", REFUND.refund_request_id) == RFD_ID
    assert transfer_id("pay", "x") != transfer_id("refund", "x")
    correlation_id = r"[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    assert re.fullmatch(correlation_id, PAY_ID)


@pytest.mark.parametrize(
    ("minor", "exponent", "wire"),
    [(3_000_000, 2, "30000"), (12_345, 2, "123.45"), (12_340, 2, "123.4"), (5, 2, "0.05")],
)
def test_amounts_are_major_units_without_trailing_zeros(
    settings: dict[str, Any], minor: int, exponent: int, wire: str
) -> None:
    connector = MojaloopConnector("tz", settings | {"currency_exponent": exponent})
    body = sent(connector.build_pay(replace(PAY, pay_to_amount=Amount("TZS", minor))))
    assert body["amount"] == wire


def test_a_currency_the_route_does_not_move_is_refused(connector: MojaloopConnector) -> None:
    # The exponent configured is only known to be right for the route's currencies.
    with pytest.raises(OperationNotSupported, match="KES"):
        connector.build_pay(replace(PAY, pay_to_amount=Amount("KES", 150_000)))


def test_a_long_note_is_cut_to_the_fspiop_limit(connector: MojaloopConnector) -> None:
    note = sent(connector.build_pay(replace(PAY, order_description="x" * 300)))["note"]
    assert len(note) == 128
    assert note.startswith("Java House: xxx")


def test_the_base_url_path_is_kept(settings: dict[str, Any]) -> None:
    connector = MojaloopConnector("tz", settings | {"base_url": "https://adapter.test/sdk-out/"})
    assert str(connector.build_pay(PAY).url) == "https://adapter.test/sdk-out/transfers"
    inquiry = connector.build_inquire(INQUIRE)
    assert str(inquiry.url) == f"https://adapter.test/sdk-out/transfers/{PAY_ID}"


def test_inquiry_asks_for_the_derived_transfer(connector: MojaloopConnector) -> None:
    request = connector.build_inquire(INQUIRE)
    assert (request.method, request.url.path) == ("GET", f"/transfers/{PAY_ID}")
    assert request.content == b""
    assert "content-type" not in request.headers
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def test_refund_is_a_transfer_back_to_the_traveller(connector: MojaloopConnector) -> None:
    request = connector.build_refund(REFUND)
    assert (request.method, request.url.path) == ("POST", "/transfers")
    assert sent(request) == {
        "homeTransactionId": "rfd-55-w1",
        "transferId": RFD_ID,
        "from": {"type": "BUSINESS", "idType": "MSISDN", "idValue": "255700900900"},
        # Addressed by the payment, which only the wallet's DFSP can resolve to its payer.
        "to": {"type": "CONSUMER", "idType": "ALIAS", "idValue": PAY_ID, "fspId": "tzwallet"},
        "amountType": "RECEIVE",
        "currency": "TZS",
        "amount": "15000",
        "transactionType": "TRANSFER",
        "note": "Refund: one coffee was cold",
        "quoteRequestExtensions": [{"key": "originalTransferId", "value": PAY_ID}],
        "skipPartyLookup": True,
    }


def test_a_refund_needs_only_the_payment_request_id(connector: MojaloopConnector) -> None:
    bare = replace(REFUND, wallet_payment_id=None, reason=None)
    body = sent(connector.build_refund(bare))
    assert body["to"]["idValue"] == body["quoteRequestExtensions"][0]["value"] == PAY_ID
    assert body["note"] == "Refund"
    assert TRAVELLER.encode() not in connector.build_refund(REFUND).content


def test_cancel_is_not_an_operation(connector: MojaloopConnector) -> None:
    assert Operation.CANCEL not in connector.capabilities.operations
    with pytest.raises(OperationNotSupported, match="refund"):
        connector.build_cancel(CancelRequest(PAY.wallet_request_id, "CAUSEWAY"))
    with pytest.raises(OperationNotSupported):
        connector.parse_cancel(CancelRequest("x", "CAUSEWAY"), answer(b"{}"))


# --- recorded answers: pay ----------------------------------------------------------------


def test_pay_success(connector: MojaloopConnector) -> None:
    result = connector.parse_pay(PAY, answer(recorded("pay_success")))
    assert (result.outcome, result.code) == (Outcome.SUCCEEDED, "SUCCESS")
    assert result.wallet_payment_id == PAY_ID
    assert result.paid_at == datetime(2026, 3, 1, 8, 0, 2, 118_000, tzinfo=UTC)
    assert result.customer_id is None  # an MSISDN is not for the merchant's eyes


@pytest.mark.parametrize(
    ("fixture", "code", "wallet_code"),
    [
        ("pay_declined_balance", "USER_BALANCE_NOT_ENOUGH", "4001"),
        ("pay_party_not_found", "USER_NOT_EXIST", "3204"),
    ],
)
def test_recorded_declines(
    connector: MojaloopConnector, fixture: str, code: str, wallet_code: str
) -> None:
    result = connector.parse_pay(PAY, answer(recorded(fixture), 500))
    assert (result.outcome, result.code, result.wallet_code) == (Outcome.FAILED, code, wallet_code)
    assert "not found" in result.message or "liquidity" in result.message


def with_error(code: object) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        body["transferState"]["lastError"]["mojaloopError"]["errorInformation"]["errorCode"] = code

    return change


@pytest.mark.parametrize(
    ("fspiop", "outcome", "code"),
    [
        ("4200", Outcome.FAILED, "PAYMENT_AMOUNT_EXCEED_LIMIT"),
        ("4100", Outcome.FAILED, "RISK_REJECT"),
        ("4400", Outcome.FAILED, "RISK_REJECT"),
        ("5105", Outcome.FAILED, "PROCESS_FAIL"),
        ("3303", Outcome.FAILED, "PROCESS_FAIL"),
        ("3106", Outcome.PENDING, "PAYMENT_IN_PROCESS"),
        ("2001", Outcome.PENDING, "PAYMENT_IN_PROCESS"),
        ("1001", Outcome.PENDING, "PAYMENT_IN_PROCESS"),
        (4001, Outcome.FAILED, "USER_BALANCE_NOT_ENOUGH"),
        ("4OO1", Outcome.PENDING, "PAYMENT_IN_PROCESS"),
    ],
    ids=lambda value: str(value),
)
def test_fspiop_errors_map_to_result_codes(
    connector: MojaloopConnector, fspiop: object, outcome: Outcome, code: str
) -> None:
    body = edited("pay_declined_balance", with_error(fspiop))
    result = connector.parse_pay(PAY, answer(body, 500))
    assert (result.outcome, result.code) == (outcome, code)


def test_a_timeout_with_no_fspiop_error_is_pending(connector: MojaloopConnector) -> None:
    for status in (504, 500):
        result = connector.parse_pay(PAY, answer(recorded("pay_timeout"), status))
        assert result.outcome is Outcome.PENDING
        assert result.wallet_code == "ERROR_OCCURRED"


def test_a_200_error_without_a_code_is_a_failure(connector: MojaloopConnector) -> None:
    # The adapter answered for good that it gave up; nothing reached the switch.
    body = json.loads(recorded("pay_timeout"))["transferState"]
    for state in ("ERROR_OCCURRED", "ABORTED"):
        raw = json.dumps(body | {"currentState": state}).encode()
        result = connector.parse_pay(PAY, answer(raw))
        assert (result.outcome, result.code, result.wallet_code) == (
            Outcome.FAILED,
            "PROCESS_FAIL",
            state,
        )


def test_a_parked_transfer_is_pending(connector: MojaloopConnector) -> None:
    result = connector.parse_pay(PAY, answer(recorded("pay_waiting_for_quote")))
    assert (result.outcome, result.wallet_code) == (
        Outcome.PENDING,
        "WAITING_FOR_QUOTE_ACCEPTANCE",
    )


def set_states(current: str, transfer: str | None) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        body["currentState"] = current
        body["fulfil"]["body"]["transferState"] = transfer

    return change


@pytest.mark.parametrize(
    ("current", "transfer"),
    [
        ("SETTLING", "COMMITTED"),
        ("completed", "COMMITTED"),
        ("", "COMMITTED"),
        ("COMPLETED", "RESERVED"),
        ("COMPLETED", "RECEIVED"),
        ("COMPLETED", "SETTLED"),
        ("COMPLETED", None),
        ("WAITING_FOR_PARTY_ACCEPTANCE", "COMMITTED"),
        ("ERROR_OCCURRED", "COMMITTED"),
    ],
)
def test_anything_but_completed_and_committed_is_never_a_success(
    connector: MojaloopConnector, current: str, transfer: str | None
) -> None:
    body = edited("pay_success", set_states(current, transfer))
    assert connector.parse_pay(PAY, answer(body)).outcome is Outcome.PENDING


def test_money_moved_outvotes_an_error_code(connector: MojaloopConnector) -> None:
    def committed_yet_failed(body: dict[str, Any]) -> None:
        state = body["transferState"]
        state["fulfil"] = {"body": {"transferState": "COMMITTED"}}

    body = edited("pay_declined_balance", committed_yet_failed)
    assert connector.parse_pay(PAY, answer(body, 500)).outcome is Outcome.PENDING


def test_an_aborted_transfer_fails(connector: MojaloopConnector) -> None:
    body = edited("pay_success", set_states("COMPLETED", "ABORTED"))
    result = connector.parse_pay(PAY, answer(body))
    assert (result.outcome, result.code, result.wallet_code) == (
        Outcome.FAILED,
        "PROCESS_FAIL",
        "ABORTED",
    )


def test_a_fulfilment_that_fulfils_nothing_is_rejected(connector: MojaloopConnector) -> None:
    def forge(body: dict[str, Any]) -> None:
        body["fulfil"]["body"]["fulfilment"] = "A" * 43

    with pytest.raises(WalletProtocolError, match="condition"):
        connector.parse_pay(PAY, answer(edited("pay_success", forge)))


def test_the_published_condition_vector() -> None:
    fulfilment = "WLctttbu2HvTsa1XWvUoGRcQozHsqeu9Ahl2JW9Bsu8"
    assert ilp_condition(fulfilment) == "f5sqb7tBTWPd5Y8BDFdMm9BJR_MNI4isf8p8n4D5pHA"
    assert ilp_condition("not base64!") is None


def test_a_bad_completion_time_does_not_lose_a_commit(connector: MojaloopConnector) -> None:
    def odd_time(body: dict[str, Any]) -> None:
        body["fulfil"]["body"]["completedTimestamp"] = "yesterday"

    result = connector.parse_pay(PAY, answer(edited("pay_success", odd_time)))
    assert (result.outcome, result.paid_at) == (Outcome.SUCCEEDED, None)


# --- HTTP statuses, refusals, garbage ------------------------------------------------------


@pytest.mark.parametrize(("status", "code"), [(400, "400"), (401, "401"), (403, "403")])
def test_a_refused_request_charged_nothing(
    connector: MojaloopConnector, status: int, code: str
) -> None:
    body = recorded("bad_request") if status == 400 else b"Unauthorized"
    result = connector.parse_pay(PAY, answer(body, status))
    assert (result.outcome, result.code, result.wallet_code) == (
        Outcome.FAILED,
        "PROCESS_FAIL",
        code,
    )
    refund = connector.parse_refund(REFUND, answer(body, status))
    assert (refund.outcome, refund.code) == (Outcome.FAILED, "PROCESS_FAIL")
    # A refused inquiry tells nothing about the payment.
    assert connector.parse_inquire(INQUIRE, answer(body, status)).outcome is Outcome.PENDING


@pytest.mark.parametrize("status", [500, 502, 503, 504])
@pytest.mark.parametrize("body", [b"<html>Bad Gateway</html>", b"", b'{"statusCode":"500"}'])
def test_5xx_without_a_state_is_pending_for_every_operation(
    connector: MojaloopConnector, status: int, body: bytes
) -> None:
    response = answer(body, status)
    outcomes = [
        connector.parse_pay(PAY, response).outcome,
        connector.parse_inquire(INQUIRE, response).outcome,
        connector.parse_refund(REFUND, response).outcome,
    ]
    assert outcomes == [Outcome.PENDING] * 3


@pytest.mark.parametrize("status", [201, 202, 302, 404, 409, 429])
def test_other_statuses_are_protocol_errors(connector: MojaloopConnector, status: int) -> None:
    with pytest.raises(WalletProtocolError) as caught:
        connector.parse_pay(PAY, answer(recorded("pay_success"), status))
    assert (caught.value.http_status, caught.value.connector) == (status, "tz-wallet")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html>gateway</html>",
        b"[]",
        b'{"transferId":"' + PAY_ID.encode() + b'"}',
        b'{"currentState":{"state":"COMPLETED"}}',
        b'{"currentState":"COMPLETED","fulfil":"COMMITTED"}',
        b"\xff\xfe{}",
    ],
    ids=["empty", "html", "list", "no-state", "state-object", "fulfil-string", "not-utf8"],
)
def test_garbage_on_200_is_a_protocol_error(connector: MojaloopConnector, body: bytes) -> None:
    with pytest.raises(WalletProtocolError, match="malformed") as caught:
        connector.parse_pay(PAY, answer(body))
    assert caught.value.http_status == 200


@pytest.mark.parametrize(
    ("key", "value"),
    [("transferId", "b9acc1d2-ee13-5e9e-98f9-1c0d241b27a6"), ("homeTransactionId", "pay-other")],
)
def test_an_answer_about_another_transfer_is_rejected(
    connector: MojaloopConnector, key: str, value: str
) -> None:
    def other(body: dict[str, Any]) -> None:
        body[key] = value

    with pytest.raises(WalletProtocolError, match=value):
        connector.parse_pay(PAY, answer(edited("pay_success", other)))

    def other_in_error(body: dict[str, Any]) -> None:
        body["transferState"][key] = value

    with pytest.raises(WalletProtocolError, match=value):
        connector.parse_pay(PAY, answer(edited("pay_declined_balance", other_in_error), 500))


# --- recorded answers: inquiry and refund ---------------------------------------------------


def test_inquiry_of_a_committed_transfer(connector: MojaloopConnector) -> None:
    result = connector.parse_inquire(INQUIRE, answer(recorded("inquiry_committed")))
    assert result.outcome is Outcome.SUCCEEDED
    paid = connector.parse_pay(PAY, answer(recorded("pay_success")))
    assert result.wallet_payment_id == paid.wallet_payment_id == PAY_ID
    assert result.paid_at == datetime(2026, 3, 1, 8, 0, 2, 118_000, tzinfo=UTC)


def test_inquiry_of_an_aborted_transfer(connector: MojaloopConnector) -> None:
    result = connector.parse_inquire(INQUIRE, answer(recorded("inquiry_aborted")))
    assert (result.outcome, result.code, result.wallet_code) == (
        Outcome.FAILED,
        "PROCESS_FAIL",
        "ABORTED",
    )


def test_inquiry_of_a_transfer_the_switch_does_not_know(connector: MojaloopConnector) -> None:
    result = connector.parse_inquire(INQUIRE, answer(recorded("inquiry_not_found"), 500))
    assert (result.outcome, result.code, result.wallet_code) == (
        Outcome.FAILED,
        "ORDER_NOT_EXIST",
        "3208",
    )


@pytest.mark.parametrize("code", ["2003", "3100", "4001", "3106"])
def test_an_inquiry_that_failed_otherwise_is_pending(
    connector: MojaloopConnector, code: str
) -> None:
    body = edited("inquiry_not_found", with_error(code))
    assert connector.parse_inquire(INQUIRE, answer(body, 500)).outcome is Outcome.PENDING


@pytest.mark.parametrize(
    ("current", "transfer"),
    [("COMPLETED", "RESERVED"), ("COMPLETED", "PENDING_AUDIT"), ("PROCESSING", "COMMITTED")],
)
def test_an_inquiry_with_no_final_word_is_pending(
    connector: MojaloopConnector, current: str, transfer: str
) -> None:
    body = edited("inquiry_committed", set_states(current, transfer))
    assert connector.parse_inquire(INQUIRE, answer(body)).outcome is Outcome.PENDING


def test_an_inquiry_answer_must_name_the_transfer(connector: MojaloopConnector) -> None:
    def unnamed(body: dict[str, Any]) -> None:
        del body["transferId"]

    with pytest.raises(WalletProtocolError, match="malformed"):
        connector.parse_inquire(INQUIRE, answer(edited("inquiry_committed", unnamed)))
    other = recorded("inquiry_committed").replace(PAY_ID.encode(), RFD_ID.encode())
    with pytest.raises(WalletProtocolError, match=RFD_ID):
        connector.parse_inquire(INQUIRE, answer(other))


def test_refund_success(connector: MojaloopConnector) -> None:
    result = connector.parse_refund(REFUND, answer(recorded("refund_success")))
    assert (result.outcome, result.wallet_refund_id) == (Outcome.SUCCEEDED, RFD_ID)
    assert result.refunded_at == datetime(2026, 3, 1, 9, 30, 45, 250_000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fspiop", "outcome", "code"),
    [
        ("4200", Outcome.FAILED, "REFUND_AMOUNT_EXCEED"),
        ("3208", Outcome.FAILED, "ORDER_NOT_EXIST"),
        ("4001", Outcome.FAILED, "PROCESS_FAIL"),
        ("3204", Outcome.FAILED, "PROCESS_FAIL"),
        ("3106", Outcome.PENDING, "UNKNOWN_EXCEPTION"),
        ("2001", Outcome.PENDING, "UNKNOWN_EXCEPTION"),
    ],
)
def test_refund_declines(
    connector: MojaloopConnector, fspiop: str, outcome: Outcome, code: str
) -> None:
    body = edited("refund_exceeded", with_error(fspiop))
    result = connector.parse_refund(REFUND, answer(body, 500))
    assert (result.outcome, result.code) == (outcome, code)
    assert outcome is Outcome.PENDING or fspiop in result.message


def test_a_refund_answer_for_the_payment_is_rejected(connector: MojaloopConnector) -> None:
    # The payment's own success must not pass for the refund's.
    with pytest.raises(WalletProtocolError, match="answer is for"):
        connector.parse_refund(REFUND, answer(recorded("pay_success")))


# --- contract and secrets -----------------------------------------------------------------


def test_it_is_a_connector_with_its_capabilities(connector: MojaloopConnector) -> None:
    assert isinstance(connector, Connector)
    assert connector.name == "tz-wallet"
    assert connector.capabilities.operations == {
        Operation.PAY,
        Operation.INQUIRE,
        Operation.REFUND,
    }
    assert connector.capabilities.currencies == {"TZS"}
    assert connector.capabilities.regions == {"TZ"}
    assert connector.capabilities.modes == {"PaymentCode"}


def test_the_token_is_absent_from_repr(connector: MojaloopConnector) -> None:
    shown = repr(connector) + str(connector) + repr(vars(connector))
    assert "tz-wallet" in repr(connector)
    assert "tzwallet" in repr(connector)
    assert TOKEN not in shown
    # Only the request that carries it shows it, and httpx masks it in its repr too.
    request = connector.build_pay(PAY)
    assert TOKEN not in repr(request.headers)


def defined_here(module: ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, ModuleType)
        and getattr(value, "__module__", None) == module.__name__
    }


@pytest.mark.parametrize("name", ["connectors.mojaloop", "connectors.mojaloop.simulator"])
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    exported: list[str] = module.__all__
    assert exported == sorted(exported)
    assert all(hasattr(module, member) for member in exported)
    assert defined_here(module) == set(exported)
