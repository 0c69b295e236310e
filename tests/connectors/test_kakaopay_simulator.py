"""The KakaoPay connector against the simulated KakaoPay, in process (``httpx.ASGITransport``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from connectors import (
    Amount,
    CancelRequest,
    CancelResult,
    InquireRequest,
    Merchant,
    Outcome,
    PaymentResult,
    PayRequest,
    RefundLookup,
    RefundPresence,
    RefundRequest,
    RefundResult,
    WalletProtocolError,
    WalletTimeout,
    exchange,
)
from connectors.kakaopay import KakaoPayConnector
from connectors.kakaopay.simulator import (
    UNDEFINED_STATUS,
    SimulatedAccount,
    SimulatedWallet,
    conformance_target,
    create_simulator,
)

pytestmark = pytest.mark.anyio

CID = "TC0ONETIME"
SECRET = "DEV0123456789ABCDEF0123456789ABCD"
KIM = "281002000000000013"
LEE = "281002000000000021"
BASE = "http://kakaopay.test"

PAY = PayRequest(
    wallet_request_id="pay-1-w1",
    acquirer_id="CAUSEWAY",
    payment_code=KIM,
    payment_amount=Amount("JPY", 1200),
    pay_to_amount=Amount("KRW", 11016),
    quote=None,
    merchant=Merchant("M-1", "Ramen Ichiban", "5812", "JP"),
    order_description="2 x ramen",
    reference_order_id="ORD-1",
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Clock:
    """Monotonic seconds that only move when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def refund_of(request_id: str, krw: int, *, tid: str | None = None) -> RefundRequest:
    return RefundRequest(
        refund_request_id=request_id,
        wallet_request_id=PAY.wallet_request_id,
        wallet_payment_id=tid,
        acquirer_id="CAUSEWAY",
        refund_amount=Amount("JPY", max(1, krw // 9)),
        refund_from_amount=Amount("KRW", krw),
        quote=None,
    )


def settings(**changes: Any) -> dict[str, Any]:
    return {
        "base_url": BASE,
        "cid": CID,
        "secret_key": SECRET,
        "approval_url": "https://hub.causeway.test/kakaopay/return",
        "currencies": ["KRW"],
        "regions": ["KR"],
    } | changes


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def wallet(clock: Clock) -> SimulatedWallet:
    return SimulatedWallet(
        cid=CID,
        secret_key=SECRET,
        accounts=[
            SimulatedAccount("KP-1", KIM, 100_000, "Kim"),
            SimulatedAccount("KP-2", LEE, 500, "Lee"),
        ],
        single_payment_limit=200_000,
        clock=clock,
    )


class Hub:
    """The connector and a client to the simulator: what the core would do, in miniature.

    Like the core, it keeps the first tid an answer gave each payment and passes it back.
    """

    def __init__(self, connector: KakaoPayConnector, client: httpx.AsyncClient) -> None:
        self.connector = connector
        self.client = client
        self.tids: dict[str, str] = {}
        self.sent: list[dict[str, Any]] = []

    async def _send(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(json.loads(request.content))
        return await exchange(self.client, request, connector=self.connector.name)

    def _remember(self, request_id: str, result: PaymentResult) -> PaymentResult:
        if result.wallet_payment_id is not None:
            self.tids.setdefault(request_id, result.wallet_payment_id)
        return result

    async def pay(self, request: PayRequest = PAY) -> PaymentResult:
        response = await self._send(self.connector.build_pay(request))
        result = self.connector.parse_pay(request, response)
        return self._remember(request.wallet_request_id, result)

    async def inquire(self, request_id: str = PAY.wallet_request_id) -> PaymentResult:
        request = InquireRequest(request_id, "CAUSEWAY", self.tids.get(request_id))
        response = await self._send(self.connector.build_inquire(request))
        return self._remember(request_id, self.connector.parse_inquire(request, response))

    async def cancel(self, request_id: str = PAY.wallet_request_id) -> CancelResult:
        request = CancelRequest(request_id, "CAUSEWAY", self.tids.get(request_id))
        response = await self._send(self.connector.build_cancel(request))
        return self.connector.parse_cancel(request, response)

    async def refund(self, request: RefundRequest) -> RefundResult:
        response = await self._send(self.connector.build_refund(request))
        return self.connector.parse_refund(request, response)

    async def look_up(self, request: RefundRequest) -> RefundLookup:
        response = await self._send(self.connector.build_inquire_refund(request))
        return self.connector.parse_inquire_refund(request, response)

    async def sim(self, path: str) -> Any:
        response = await self.client.get(f"/_sim/{path}")
        assert response.status_code == 200
        return response.json()

    async def balance(self, account_id: str) -> int:
        accounts = await self.sim("accounts")
        return next(int(a["balance"]) for a in accounts if a["account_id"] == account_id)

    async def kinds(self) -> list[tuple[str, int]]:
        return [(entry["kind"], entry["amount"]) for entry in await self.sim("ledger")]


async def _client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        yield client


@pytest.fixture
async def client(wallet: SimulatedWallet) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(create_simulator(wallet)):
        yield client


@pytest.fixture
def hub(client: httpx.AsyncClient) -> Hub:
    return Hub(KakaoPayConnector("kakaopay", settings()), client)


@pytest.fixture
async def slow_hub(wallet: SimulatedWallet) -> AsyncIterator[Hub]:
    """A hub whose travellers take a minute to approve (on the test's clock)."""
    app = create_simulator(replace(wallet, approval_delay_seconds=60))
    async for client in _client(app):
        yield Hub(KakaoPayConnector("kakaopay", settings()), client)


# --- paying -----------------------------------------------------------------------------


async def test_ready_is_pending_and_the_traveller_approves_at_once(hub: Hub) -> None:
    opened = await hub.pay()
    assert (opened.outcome, opened.wallet_code) == (Outcome.PENDING, "READY")
    assert opened.wallet_payment_id is not None
    paid = await hub.inquire()
    assert paid.outcome is Outcome.SUCCEEDED
    assert paid.wallet_payment_id == opened.wallet_payment_id
    assert paid.paid_at is not None
    assert await hub.balance("KP-1") == 100_000 - 11016
    assert await hub.kinds() == [("pay", 11016)]
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 1}


@pytest.mark.parametrize(
    ("request_", "code", "wallet_code"),
    [
        (replace(PAY, payment_code=LEE), "USER_BALANCE_NOT_ENOUGH", "INSUFFICIENT_BALANCE"),
        (
            replace(PAY, pay_to_amount=Amount("KRW", 200_001)),
            "PAYMENT_AMOUNT_EXCEED_LIMIT",
            "EXCEED_LIMIT",
        ),
        (replace(PAY, payment_code="281002999999999999"), "USER_NOT_EXIST", "USER_NOT_FOUND"),
    ],
    ids=["balance", "limit", "unknown-user"],
)
async def test_declines_move_no_money(
    hub: Hub, request_: PayRequest, code: str, wallet_code: str
) -> None:
    assert (await hub.pay(request_)).outcome is Outcome.PENDING
    result = await hub.inquire()
    assert (result.outcome, result.code, result.wallet_code) == (Outcome.FAILED, code, wallet_code)
    assert await hub.balance("KP-1") == 100_000
    assert await hub.balance("KP-2") == 500
    assert await hub.sim("ledger") == []
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 0}


async def test_a_repeated_request_id_charges_once(hub: Hub) -> None:
    first = await hub.pay()
    second = await hub.pay()
    assert first.wallet_payment_id == second.wallet_payment_id
    assert second.outcome is Outcome.PENDING
    assert (await hub.inquire()).outcome is Outcome.SUCCEEDED
    assert await hub.sim("stats") == {"pay_requests": 2, "charges": 1}
    assert await hub.balance("KP-1") == 100_000 - 11016


async def test_an_inconsistent_repeat_is_left_to_an_inquiry(hub: Hub) -> None:
    await hub.pay()
    changed = await hub.pay(replace(PAY, pay_to_amount=Amount("KRW", 11017)))
    assert (changed.outcome, changed.wallet_code) == (Outcome.PENDING, "-726")
    assert (await hub.inquire()).outcome is Outcome.SUCCEEDED
    assert await hub.balance("KP-1") == 100_000 - 11016


async def test_inquiry_of_an_unknown_payment(hub: Hub) -> None:
    result = await hub.inquire("pay-never-sent")
    assert (result.outcome, result.code) == (Outcome.FAILED, "ORDER_NOT_EXIST")


async def test_inquiry_is_pending_until_the_traveller_approves(slow_hub: Hub, clock: Clock) -> None:
    await slow_hub.pay()
    waiting = await slow_hub.inquire()
    assert (waiting.outcome, waiting.wallet_code) == (Outcome.PENDING, "READY")
    assert await slow_hub.sim("stats") == {"pay_requests": 1, "charges": 0}
    clock.now += 60
    assert (await slow_hub.inquire()).outcome is Outcome.SUCCEEDED
    assert await slow_hub.balance("KP-1") == 100_000 - 11016


async def test_inquiry_and_cancel_name_the_payment_by_its_tid(hub: Hub) -> None:
    tid = (await hub.pay()).wallet_payment_id
    assert tid is not None
    assert (await hub.inquire()).outcome is Outcome.SUCCEEDED
    assert (await hub.cancel()).outcome is Outcome.SUCCEEDED
    assert [body.get("tid") for body in hub.sent] == [None, tid, tid]
    assert ["partner_order_id" in body for body in hub.sent] == [True, False, False]
    assert await hub.kinds() == [("pay", 11016), ("reverse", 11016)]


async def test_a_lost_ready_answer_is_found_by_order_id_then_asked_by_tid(
    slow_hub: Hub, clock: Clock
) -> None:
    # The ready arrives, but its answer (and so the tid) never reaches the hub.
    await exchange(slow_hub.client, slow_hub.connector.build_pay(PAY), connector="kakaopay")
    found = await slow_hub.inquire()
    assert (found.outcome, found.wallet_code) == (Outcome.PENDING, "READY")
    assert found.wallet_payment_id is not None
    assert slow_hub.sent[-1] == {"cid": CID, "partner_order_id": PAY.wallet_request_id}
    clock.now += 60
    assert (await slow_hub.inquire()).outcome is Outcome.SUCCEEDED
    assert (await slow_hub.cancel()).outcome is Outcome.SUCCEEDED
    assert [body.get("tid") for body in slow_hub.sent[-2:]] == [found.wallet_payment_id] * 2
    assert await slow_hub.balance("KP-1") == 100_000


@pytest.mark.parametrize(
    ("keys", "status", "code"),
    [
        ({"tid": "<tid>"}, 200, None),
        ({"tid": "<tid>", "partner_order_id": PAY.wallet_request_id}, 200, None),
        ({"partner_order_id": PAY.wallet_request_id}, 200, None),
        ({"tid": "<tid>", "partner_order_id": "pay-someone-else"}, 400, -721),
        ({"tid": "T9999999999999999999", "partner_order_id": PAY.wallet_request_id}, 400, -721),
        ({"tid": "T9999999999999999999"}, 400, -721),
        ({"partner_order_id": "pay-never-sent"}, 400, -721),
        ({}, 400, -2),
    ],
    ids=["tid", "both", "order-id", "other-order", "other-tid", "unknown-tid", "unknown", "none"],
)
async def test_order_finds_the_payment_by_tid_or_else_by_order_id(
    hub: Hub, keys: dict[str, str], status: int, code: int | None
) -> None:
    tid = (await hub.pay()).wallet_payment_id
    assert tid is not None
    body = {"cid": CID} | {key: tid if v == "<tid>" else v for key, v in keys.items()}
    headers = {"Authorization": f"SECRET_KEY {SECRET}"}
    response = await hub.client.post("/online/v1/payment/order", json=body, headers=headers)
    assert response.status_code == status
    if code is None:
        assert response.json()["tid"] == tid
    else:
        assert response.json()["error_code"] == code


# --- cancelling -------------------------------------------------------------------------


async def test_cancel_reverses_a_charge_once(hub: Hub) -> None:
    opened = await hub.pay()
    assert (await hub.cancel()).outcome is Outcome.SUCCEEDED
    assert await hub.balance("KP-1") == 100_000
    assert (await hub.cancel()).outcome is Outcome.SUCCEEDED
    assert await hub.kinds() == [("pay", 11016), ("reverse", 11016)]
    closed = await hub.inquire()
    assert (closed.outcome, closed.code) == (Outcome.FAILED, "ORDER_IS_CLOSED")
    again = await hub.pay()
    assert again.wallet_payment_id == opened.wallet_payment_id
    assert (await hub.inquire()).code == "ORDER_IS_CLOSED"
    assert await hub.sim("stats") == {"pay_requests": 2, "charges": 1}


async def test_a_cancel_before_approval_means_never_charged(slow_hub: Hub, clock: Clock) -> None:
    await slow_hub.pay()
    assert (await slow_hub.cancel()).outcome is Outcome.SUCCEEDED
    clock.now += 3600
    assert (await slow_hub.inquire()).code == "ORDER_IS_CLOSED"
    assert await slow_hub.sim("ledger") == []
    assert await slow_hub.balance("KP-1") == 100_000


async def test_a_cancel_before_the_ready_closes_the_id(hub: Hub) -> None:
    assert (await hub.cancel()).outcome is Outcome.SUCCEEDED
    late = await hub.pay()
    assert (late.outcome, late.code) == (Outcome.FAILED, "ORDER_IS_CLOSED")
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 0}


async def test_cancel_after_a_partial_refund_reverses_the_rest(hub: Hub) -> None:
    await hub.pay()
    assert (await hub.refund(refund_of("rfd-1", 4000))).outcome is Outcome.SUCCEEDED
    assert (await hub.cancel()).outcome is Outcome.SUCCEEDED
    assert await hub.kinds() == [("pay", 11016), ("refund", 4000), ("reverse", 7016)]
    assert await hub.balance("KP-1") == 100_000


async def test_cancelling_a_failed_payment_moves_nothing(hub: Hub) -> None:
    await hub.pay(replace(PAY, payment_code=LEE))
    assert (await hub.cancel()).outcome is Outcome.SUCCEEDED
    assert await hub.sim("ledger") == []


# --- refunding --------------------------------------------------------------------------


async def test_partial_and_full_refunds_then_no_more(hub: Hub) -> None:
    tid = (await hub.pay()).wallet_payment_id
    first = await hub.refund(refund_of("rfd-1", 5000, tid=tid))
    assert first.outcome is Outcome.SUCCEEDED
    assert first.wallet_refund_id is not None
    assert first.refunded_at is not None
    repeat = await hub.refund(refund_of("rfd-1", 5000, tid=tid))
    assert repeat.wallet_refund_id == first.wallet_refund_id
    assert await hub.balance("KP-1") == 100_000 - 11016 + 5000
    rest = await hub.refund(refund_of("rfd-2", 6016))  # by partner_order_id this time
    assert rest.outcome is Outcome.SUCCEEDED
    assert rest.wallet_refund_id != first.wallet_refund_id
    over = await hub.refund(refund_of("rfd-3", 1))
    assert (over.outcome, over.code) == (Outcome.FAILED, "REFUND_AMOUNT_EXCEED")
    assert await hub.balance("KP-1") == 100_000
    assert await hub.kinds() == [("pay", 11016), ("refund", 5000), ("refund", 6016)]
    assert (await hub.inquire()).code == "ORDER_IS_CLOSED"


async def test_order_lists_each_refund_under_its_payload(hub: Hub) -> None:
    tid = (await hub.pay()).wallet_payment_id
    made = await hub.refund(refund_of("rfd-1", 5000, tid=tid))

    found = await hub.look_up(refund_of("rfd-1", 5000, tid=tid))
    never_sent = await hub.look_up(refund_of("rfd-2", 5000, tid=tid))

    assert found.presence is RefundPresence.FOUND
    assert found.wallet_refund_id == made.wallet_refund_id
    assert never_sent.presence is RefundPresence.ABSENT
    assert hub.sent[-1] == {"cid": CID, "tid": tid}  # order, by the payment's tid


async def test_like_the_real_wallet_it_can_refund_one_payload_twice(
    wallet: SimulatedWallet,
) -> None:
    app = create_simulator(replace(wallet, refunds_deduplicated=False))
    async for client in _client(app):
        hub = Hub(KakaoPayConnector("kakaopay", settings()), client)
        tid = (await hub.pay()).wallet_payment_id
        twice = refund_of("rfd-1", 1000, tid=tid)

        assert (await hub.refund(twice)).outcome is Outcome.SUCCEEDED
        assert (await hub.refund(twice)).outcome is Outcome.SUCCEEDED

        assert await hub.kinds() == [("pay", 11016), ("refund", 1000), ("refund", 1000)]
        with pytest.raises(WalletProtocolError, match="2 entries"):
            await hub.look_up(twice)  # for an operator: never counted as one refund


async def test_an_over_refund_is_refused_whole_and_stays_refused(hub: Hub) -> None:
    await hub.pay()
    over = await hub.refund(refund_of("rfd-1", 11017))
    assert (over.outcome, over.code) == (Outcome.FAILED, "REFUND_AMOUNT_EXCEED")
    assert (await hub.refund(refund_of("rfd-1", 11017))).code == "REFUND_AMOUNT_EXCEED"
    assert await hub.balance("KP-1") == 100_000 - 11016
    assert (await hub.inquire()).outcome is Outcome.SUCCEEDED


async def test_refund_refusals(hub: Hub) -> None:
    unknown = await hub.refund(refund_of("rfd-0", 100))
    assert (unknown.outcome, unknown.code) == (Outcome.FAILED, "ORDER_NOT_EXIST")
    await hub.pay()
    await hub.refund(refund_of("rfd-1", 100))
    changed = await hub.refund(refund_of("rfd-1", 200))
    assert (changed.outcome, changed.code) == (Outcome.FAILED, "REPEAT_REQ_INCONSISTENT")
    wrong_tid = await hub.refund(refund_of("rfd-2", 100, tid="T9999999999999999999"))
    assert wrong_tid.code == "ORDER_NOT_EXIST"
    assert await hub.balance("KP-1") == 100_000 - 11016 + 100


async def test_an_unpaid_payment_cannot_be_refunded(hub: Hub) -> None:
    await hub.pay(replace(PAY, payment_code=LEE))
    refused = await hub.refund(refund_of("rfd-1", 100))
    assert (refused.outcome, refused.code) == (Outcome.FAILED, "ORDER_STATUS_INVALID")
    assert await hub.sim("ledger") == []


# --- credentials and the wire -----------------------------------------------------------


@pytest.mark.parametrize(
    "changes", [{"secret_key": "DEVWRONGWRONGWRONG"}, {"cid": "TC0OTHERID"}], ids=["key", "cid"]
)
async def test_a_hub_without_the_right_credentials_is_refused(
    client: httpx.AsyncClient, changes: dict[str, str]
) -> None:
    impostor = Hub(KakaoPayConnector("kakaopay", settings(**changes)), client)
    result = await impostor.pay()
    assert result.outcome is Outcome.FAILED
    assert result.wallet_code in ("-401", "-2")
    assert (await impostor.inquire()).outcome is Outcome.PENDING
    assert await impostor.sim("stats") == {"pay_requests": 1, "charges": 0}
    assert await impostor.balance("KP-1") == 100_000


async def test_a_wrong_key_gets_http_401(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/online/v1/payment/order",
        json={"cid": CID, "tid": "T1"},
        headers={"Authorization": f"KakaoAK {SECRET}"},
    )
    assert response.status_code == 401
    assert response.json()["error_code"] == -401


@pytest.mark.parametrize(
    "body",
    [
        b'{"cid":"TC0ONETIME","partner_order_id":"p-9","partner_user_id":"281002000000000013",'
        b'"item_name":"x","quantity":1,"total_amount":"11016","tax_free_amount":0,'
        b'"approval_url":"https://h.test","cancel_url":"https://h.test","fail_url":"https://h.test"}',
        b'{"cid":"TC0ONETIME","partner_order_id":"p-9"}',
        b"not json",
        b"[]",
    ],
    ids=["amount-as-string", "fields-missing", "not-json", "not-an-object"],
)
async def test_malformed_bodies_are_invalid_parameters(
    client: httpx.AsyncClient, body: bytes
) -> None:
    headers = {"Authorization": f"SECRET_KEY {SECRET}", "Content-Type": "application/json"}
    response = await client.post("/online/v1/payment/ready", content=body, headers=headers)
    assert (response.status_code, response.json()["error_code"]) == (400, -2)
    assert (await client.get("/_sim/stats")).json()["charges"] == 0


# --- the control API --------------------------------------------------------------------


async def test_faults_can_be_set_at_run_time(client: httpx.AsyncClient) -> None:
    changed = await client.post("/_sim/faults", json={"latency_seconds": 0.01})
    assert changed.json() == {"latency_seconds": 0.01, "unknown_status": False}
    both = await client.post("/_sim/faults", json={"unknown_status": True})
    assert both.json() == {"latency_seconds": 0.01, "unknown_status": True}
    assert (await client.post("/_sim/faults", json={})).json() == both.json()
    for bad in (
        {"latency_seconds": -1},
        {"latency_seconds": True},
        {"latency_seconds": "1"},
        {"unknown_status": "yes"},
        {"latency": 1},
        [1],
    ):
        assert (await client.post("/_sim/faults", json=bad)).status_code == 400
    assert (await client.post("/_sim/faults", content=b"{")).status_code == 400
    assert (await client.post("/_sim/faults", json={})).json() == both.json()


async def test_an_undefined_status_is_pending_and_the_books_are_kept(hub: Hub) -> None:
    await hub.client.post("/_sim/faults", json={"unknown_status": True})
    paid = await hub.pay()
    inquired = await hub.inquire()
    assert (paid.outcome, inquired.outcome) == (Outcome.PENDING, Outcome.PENDING)
    assert inquired.wallet_code == UNDEFINED_STATUS
    await hub.client.post("/_sim/faults", json={"unknown_status": False})
    assert (await hub.inquire()).outcome is Outcome.SUCCEEDED
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 1}


async def test_latency_hides_a_charge_that_an_inquiry_finds(hub: Hub) -> None:
    await hub.client.post("/_sim/faults", json={"latency_seconds": 0.5})
    with pytest.raises(WalletTimeout):
        await exchange(
            hub.client, hub.connector.build_pay(PAY), connector="kakaopay", deadline=0.05
        )
    await hub.client.post("/_sim/faults", json={"latency_seconds": 0})
    assert (await hub.inquire()).outcome is Outcome.SUCCEEDED
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 1}


async def test_each_app_keeps_its_own_books(wallet: SimulatedWallet) -> None:
    connector = KakaoPayConnector("kakaopay", settings())
    async for one in _client(create_simulator(wallet)):
        await Hub(connector, one).pay()
        assert await Hub(connector, one).balance("KP-1") == 100_000 - 11016
    async for two in _client(create_simulator(wallet)):
        assert await Hub(connector, two).balance("KP-1") == 100_000
    assert wallet.accounts[0].balance == 100_000


def test_the_wallets_secrets_stay_out_of_repr(wallet: SimulatedWallet) -> None:
    shown = repr(wallet)
    assert CID in shown
    assert SECRET not in shown
    assert KIM not in shown


async def test_the_conformance_target_is_fresh_and_consistent() -> None:
    first, second = conformance_target(), conformance_target()
    assert first.secrets != second.secrets
    assert not [secret for secret in first.secrets if secret in repr(first)]
    assert first.simulator is not None
    async for client in _client(first.simulator):
        connector = first.connect(BASE)
        assert isinstance(connector, KakaoPayConnector)
        hub = Hub(connector, client)
        request = replace(PAY, payment_code=first.payer)
        await hub.pay(request)
        assert (await hub.inquire()).outcome is Outcome.SUCCEEDED
        await hub.pay(replace(request, wallet_request_id="pay-2", payment_code=first.poor_payer))
        assert (await hub.inquire("pay-2")).code == "USER_BALANCE_NOT_ENOUGH"
