"""The M-Pesa connector against the simulated M-Pesa, in process (``httpx.ASGITransport``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors import (
    Amount,
    ConnectorConfigError,
    InquireRequest,
    Merchant,
    Outcome,
    PaymentResult,
    PayRequest,
    RefundRequest,
    RefundResult,
    WalletNotification,
    exchange,
)
from connectors._loopback import serve_on_loopback
from connectors.mpesa import MpesaConnector
from connectors.mpesa.simulator import (
    SimulatedAccount,
    SimulatedWallet,
    conformance_target,
    create_simulator,
)

pytestmark = pytest.mark.anyio

RICH, POOR, SHY = "254712345678", "254722000111", "254733000222"
START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
PAY = PayRequest(
    wallet_request_id="pay-1-w1",
    acquirer_id="CAUSEWAY",
    payment_code=RICH,
    payment_amount=Amount("USD", 2000),
    pay_to_amount=Amount("KES", 258_000),
    quote=None,
    merchant=Merchant("M-1", "Java House", "5812", "US"),
    order_description="2 x coffee",
    reference_order_id="ORD-1",
)


class Clock:
    """The simulator's and the connector's time, moved by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def wallet(clock: Clock) -> SimulatedWallet:
    return SimulatedWallet(
        shortcode="600584",
        passkey="passkey-0042",
        consumer_key="hub-key",
        consumer_secret="hub-secret-0042",
        initiator_name="causeway_api",
        security_credential="ENCRYPTED-0042==",
        accounts=[
            SimulatedAccount(RICH, 10_000_000, "Wanjiku"),
            SimulatedAccount(POOR, 50_000, "Otieno"),
            SimulatedAccount(SHY, 10_000_000, "Achieng", answer="cancel"),
        ],
        single_payment_limit=25_000_000,
        clock=clock,
    )


@pytest.fixture
def mpesa_settings(wallet: SimulatedWallet) -> dict[str, Any]:
    return {
        "base_url": "http://mpesa.test",
        "consumer_key": wallet.consumer_key,
        "consumer_secret": wallet.consumer_secret,
        "shortcode": wallet.shortcode,
        "passkey": wallet.passkey,
        "callback_url": "https://hub.example/callbacks/mpesa",
        "initiator_name": wallet.initiator_name,
        "security_credential": wallet.security_credential,
        "currencies": ["KES"],
        "regions": ["KE"],
    }


class Hub:
    """The connector and a client to the simulator: what the core would do, in miniature,
    including fetching the token and remembering each payment's CheckoutRequestID."""

    def __init__(self, connector: MpesaConnector, client: httpx.AsyncClient) -> None:
        self.connector = connector
        self.client = client
        self.checkouts: dict[str, str | None] = {}

    async def _send(self, request: httpx.Request) -> httpx.Response:
        return await exchange(self.client, request, connector=self.connector.name)

    async def authenticate(self) -> Hub:
        response = await self._send(self.connector.build_token_request())
        self.connector = self.connector.with_access_token(self.connector.parse_token(response))
        return self

    async def pay(self, request: PayRequest = PAY) -> PaymentResult:
        response = await self._send(self.connector.build_pay(request))
        result = self.connector.parse_pay(request, response)
        self.checkouts.setdefault(request.wallet_request_id, result.wallet_payment_id)
        return result

    async def inquire(self, request_id: str = PAY.wallet_request_id) -> PaymentResult:
        request = InquireRequest(request_id, "CAUSEWAY", self.checkouts[request_id])
        response = await self._send(self.connector.build_inquire(request))
        return self.connector.parse_inquire(request, response)

    async def paid(self, request: PayRequest = PAY) -> PaymentResult:
        pending = await self.pay(request)
        assert pending.outcome is Outcome.PENDING
        return await self.inquire(request.wallet_request_id)

    async def refund(self, request: RefundRequest) -> RefundResult:
        response = await self._send(self.connector.build_refund(request))
        return self.connector.parse_refund(request, response)

    async def sim(self, path: str) -> Any:
        response = await self.client.get(f"/_sim/{path}")
        assert response.status_code == 200
        return response.json()

    async def balance(self, msisdn: str) -> int:
        accounts = await self.sim("accounts")
        return next(int(a["balance"]) for a in accounts if a["msisdn"] == msisdn)

    async def notified(self) -> WalletNotification:
        """What the last callback M-Pesa would have sent says, read as the core reads it."""
        record = (await self.sim("callbacks"))[-1]
        request = httpx.Request(
            record["method"],
            f"https://hub.example{record['path']}",
            headers=record["headers"],
            content=record["body"].encode(),
        )
        return self.connector.parse_notification(request)

    async def receipt(self) -> str:
        """What the STK callback says: the receipt a reversal needs."""
        result = (await self.notified()).payment
        assert result is not None
        assert result.outcome is Outcome.SUCCEEDED
        assert result.wallet_payment_id is not None
        return result.wallet_payment_id

    async def reversal_result(self) -> tuple[str | None, RefundResult]:
        notification = await self.notified()
        assert notification.refund is not None
        return notification.wallet_refund_id, notification.refund


@pytest.fixture
async def client(wallet: SimulatedWallet) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_simulator(wallet))
    async with httpx.AsyncClient(transport=transport, base_url="http://mpesa.test") as client:
        yield client


@pytest.fixture
async def hub(mpesa_settings: dict[str, Any], client: httpx.AsyncClient, clock: Clock) -> Hub:
    return await Hub(MpesaConnector("mpesa-ke", mpesa_settings, clock=clock), client).authenticate()


def refund_of(request_id: str, cents: int, receipt: str) -> RefundRequest:
    return RefundRequest(
        refund_request_id=request_id,
        wallet_request_id=PAY.wallet_request_id,
        wallet_payment_id=receipt,
        acquirer_id="CAUSEWAY",
        refund_amount=Amount("USD", max(1, cents // 129)),
        refund_from_amount=Amount("KES", cents),
        quote=None,
    )


# --- paying ----------------------------------------------------------------------------


async def test_a_push_then_a_query_finds_the_charge(hub: Hub) -> None:
    pending = await hub.pay()
    assert pending.outcome is Outcome.PENDING
    assert pending.wallet_payment_id is not None
    assert pending.wallet_payment_id.startswith("ws_CO_")
    paid = await hub.inquire()
    assert (paid.outcome, paid.wallet_payment_id) == (Outcome.SUCCEEDED, pending.wallet_payment_id)
    assert await hub.balance(RICH) == 10_000_000 - 258_000
    ledger = await hub.sim("ledger")
    assert [(e["kind"], e["msisdn"], e["amount"], e["currency"]) for e in ledger] == [
        ("pay", RICH, 258_000, "KES")
    ]
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 1}


async def test_the_callback_carries_receipt_phone_and_time(hub: Hub) -> None:
    await hub.paid()
    (callback,) = await hub.sim("callbacks")
    # The shape the conformance kit reads: where on the hub, how, and the body as sent.
    assert {key: callback[key] for key in ("method", "headers")} == {
        "method": "POST",
        "headers": {"content-type": "application/json"},
    }
    path, _, query = callback["path"].partition("?")
    assert (path, query.startswith(f"ref={PAY.wallet_request_id}&sig=")) == (
        "/callbacks/mpesa",
        True,
    )
    assert json.loads(callback["body"])["Body"]["stkCallback"]["ResultCode"] == 0
    notification = await hub.notified()
    assert notification.wallet_payment_id == hub.checkouts[PAY.wallet_request_id]
    result = notification.payment
    assert result is not None
    assert (result.customer_id, result.paid_at) == (RICH, START)
    assert result.wallet_payment_id == (await hub.sim("ledger"))[0]["receipt"]


async def test_a_callback_path_keeps_its_query(
    wallet: SimulatedWallet, mpesa_settings: dict[str, Any], clock: Clock
) -> None:
    settings = mpesa_settings | {"callback_url": "https://hub.example/notify/mpesa-ke?t=x1"}
    transport = httpx.ASGITransport(app=create_simulator(wallet))
    async with httpx.AsyncClient(transport=transport, base_url="http://mpesa.test") as client:
        hub = await Hub(MpesaConnector("ke", settings, clock=clock), client).authenticate()
        await hub.paid()
        (callback,) = await hub.sim("callbacks")
    assert callback["path"].startswith("/notify/mpesa-ke?t=x1&ref=")


@pytest.mark.parametrize(
    ("request_", "code", "wallet_code"),
    [
        (replace(PAY, payment_code=POOR), "USER_BALANCE_NOT_ENOUGH", "1"),
        (replace(PAY, pay_to_amount=Amount("KES", 25_000_100)), "PAYMENT_AMOUNT_EXCEED_LIMIT", "3"),
        (replace(PAY, payment_code=SHY), "PROCESS_FAIL", "1032"),
    ],
    ids=["balance", "limit", "cancelled-on-the-phone"],
)
async def test_declines_move_no_money(
    hub: Hub, request_: PayRequest, code: str, wallet_code: str
) -> None:
    result = await hub.paid(request_)
    assert (result.outcome, result.code, result.wallet_code) == (Outcome.FAILED, code, wallet_code)
    assert [await hub.balance(m) for m in (RICH, POOR, SHY)] == [10_000_000, 50_000, 10_000_000]
    assert await hub.sim("ledger") == []
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 0}


async def test_an_unknown_phone_is_refused_at_once(hub: Hub) -> None:
    result = await hub.pay(replace(PAY, payment_code="254799999999"))
    assert (result.outcome, result.code, result.wallet_code) == (
        Outcome.FAILED,
        "USER_NOT_EXIST",
        "400.002.02",
    )
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 0}


@pytest.mark.parametrize("answer", ["ignore", "wrong_pin"])
async def test_what_the_phone_does_is_reported(
    wallet: SimulatedWallet, mpesa_settings: dict[str, Any], clock: Clock, answer: str
) -> None:
    wallet.accounts[0].answer = answer  # type: ignore[assignment]
    transport = httpx.ASGITransport(app=create_simulator(wallet))
    async with httpx.AsyncClient(transport=transport, base_url="http://mpesa.test") as client:
        hub = await Hub(MpesaConnector("ke", mpesa_settings, clock=clock), client).authenticate()
        result = await hub.paid()
    assert (result.outcome, result.code) == (Outcome.FAILED, "PROCESS_FAIL")
    assert result.wallet_code == {"ignore": "1037", "wrong_pin": "2001"}[answer]


async def test_a_repeated_request_id_prompts_and_charges_once(hub: Hub, clock: Clock) -> None:
    first = await hub.pay()
    clock.now += timedelta(minutes=5)
    second = await hub.pay()
    assert second.wallet_payment_id == first.wallet_payment_id
    assert (await hub.inquire()).outcome is Outcome.SUCCEEDED
    assert await hub.sim("stats") == {"pay_requests": 2, "charges": 1}
    assert await hub.balance(RICH) == 10_000_000 - 258_000


async def test_the_dedup_window_ends(hub: Hub, clock: Clock) -> None:
    # M-Pesa's dedup (here) is a window, not forever: the core must inquire, not resend,
    # a payment it has not heard of for a day.
    first = await hub.pay()
    clock.now += timedelta(hours=24)
    await hub.authenticate()  # a day outlives the token
    second = await hub.pay()
    assert second.wallet_payment_id != first.wallet_payment_id
    assert await hub.sim("stats") == {"pay_requests": 2, "charges": 2}


async def test_a_prompt_is_pending_until_the_phone_answers(
    wallet: SimulatedWallet, mpesa_settings: dict[str, Any], clock: Clock
) -> None:
    wallet.approval_delay = timedelta(seconds=20)
    transport = httpx.ASGITransport(app=create_simulator(wallet))
    async with httpx.AsyncClient(transport=transport, base_url="http://mpesa.test") as client:
        hub = await Hub(MpesaConnector("ke", mpesa_settings, clock=clock), client).authenticate()
        await hub.pay()
        waiting = await hub.inquire()
        assert (waiting.outcome, await hub.sim("stats")) == (
            Outcome.PENDING,
            {"pay_requests": 1, "charges": 0},
        )
        clock.now += timedelta(seconds=20)
        assert (await hub.inquire()).outcome is Outcome.SUCCEEDED
        assert await hub.balance(RICH) == 10_000_000 - 258_000


async def test_a_query_of_an_unknown_checkout_is_no_order(hub: Hub) -> None:
    hub.checkouts["never-sent"] = "ws_CO_00000000000000000000"
    result = await hub.inquire("never-sent")
    assert (result.outcome, result.code) == (Outcome.FAILED, "ORDER_NOT_EXIST")


# --- credentials -----------------------------------------------------------------------


async def test_wrong_consumer_credentials_get_no_token(
    mpesa_settings: dict[str, Any], client: httpx.AsyncClient
) -> None:
    impostor = MpesaConnector("ke", mpesa_settings | {"consumer_secret": "guess"})
    response = await client.send(impostor.build_token_request())
    with pytest.raises(ConnectorConfigError, match="refused"):
        impostor.parse_token(response)
    wrong_grant = await client.get("/oauth/v1/generate", params={"grant_type": "password"})
    assert wrong_grant.json()["errorCode"] == "400.008.01"  # no Basic auth: refused first


@pytest.mark.parametrize("expired", [False, True], ids=["forged", "expired"])
async def test_a_bad_token_is_refused_before_anything_moves(
    mpesa_settings: dict[str, Any], client: httpx.AsyncClient, clock: Clock, expired: bool
) -> None:
    token = "forged"
    if expired:
        issued = await client.send(MpesaConnector("ke", mpesa_settings).build_token_request())
        token = issued.json()["access_token"]
        clock.now += timedelta(seconds=3599)
    hub = Hub(MpesaConnector("ke", mpesa_settings | {"access_token": token}, clock=clock), client)
    result = await hub.pay()
    assert (result.outcome, result.code, result.wallet_code) == (
        Outcome.FAILED,
        "PROCESS_FAIL",
        "404.001.03",
    )
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 0}


async def test_a_wrong_passkey_is_unknown_and_charges_nobody(
    mpesa_settings: dict[str, Any], client: httpx.AsyncClient, clock: Clock
) -> None:
    wrong = MpesaConnector("ke", mpesa_settings | {"passkey": "not-the-passkey"}, clock=clock)
    hub = await Hub(wrong, client).authenticate()
    result = await hub.pay()
    # Daraja answers 500.001.1001 "Wrong credentials": a 5xx, so unknown by the contract.
    assert (result.outcome, result.wallet_payment_id) == (Outcome.PENDING, None)
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 0}


# --- refunds (reversals) ---------------------------------------------------------------


async def test_partial_and_full_reversals_then_no_more(hub: Hub) -> None:
    await hub.paid()
    receipt = await hub.receipt()
    first = await hub.refund(refund_of("rfd-1", 100_000, receipt))
    assert first.outcome is Outcome.PENDING  # accepted; the result goes to ResultURL
    conversation, done = await hub.reversal_result()
    assert conversation == first.wallet_refund_id
    assert done.outcome is Outcome.SUCCEEDED
    assert done.wallet_refund_id is not None
    assert await hub.balance(RICH) == 10_000_000 - 258_000 + 100_000
    called_back = await hub.sim("callbacks")
    repeat = await hub.refund(refund_of("rfd-1", 100_000, receipt))
    assert repeat.wallet_refund_id == first.wallet_refund_id
    assert await hub.balance(RICH) == 10_000_000 - 258_000 + 100_000
    # The repeat is answered as the first was: its result is called back once more.
    assert await hub.sim("callbacks") == [*called_back, called_back[-1]]
    rest = await hub.refund(refund_of("rfd-2", 158_000, receipt))
    assert rest.wallet_refund_id not in (None, first.wallet_refund_id)
    assert (await hub.reversal_result())[1].outcome is Outcome.SUCCEEDED
    assert await hub.balance(RICH) == 10_000_000
    over = await hub.refund(refund_of("rfd-3", 100, receipt))
    assert over.outcome is Outcome.PENDING
    _, refused = await hub.reversal_result()
    assert (refused.outcome, refused.code) == (Outcome.FAILED, "REFUND_AMOUNT_EXCEED")
    assert await hub.balance(RICH) == 10_000_000
    kinds = [(e["kind"], e["amount"], e["occasion"]) for e in await hub.sim("ledger")]
    assert kinds == [
        ("pay", 258_000, None),
        ("refund", 100_000, "rfd-1"),
        ("refund", 158_000, "rfd-2"),
    ]


async def test_an_over_refund_is_refused_whole(hub: Hub) -> None:
    await hub.paid()
    await hub.refund(refund_of("rfd-1", 258_100, await hub.receipt()))
    _, refused = await hub.reversal_result()
    assert (refused.outcome, refused.code) == (Outcome.FAILED, "REFUND_AMOUNT_EXCEED")
    assert await hub.balance(RICH) == 10_000_000 - 258_000


async def test_a_reversal_needs_the_receipt_not_the_checkout(hub: Hub) -> None:
    pending = await hub.pay()
    assert pending.wallet_payment_id is not None
    await hub.refund(refund_of("rfd-1", 1_000, pending.wallet_payment_id))
    _, refused = await hub.reversal_result()
    assert (refused.outcome, refused.code) == (Outcome.FAILED, "ORDER_NOT_EXIST")
    assert await hub.balance(RICH) == 10_000_000 - 258_000


async def test_a_wrong_initiator_credential_reverses_nothing(
    hub: Hub, mpesa_settings: dict[str, Any], clock: Clock
) -> None:
    await hub.paid()
    receipt = await hub.receipt()
    settings = mpesa_settings | {"security_credential": "STALE=="}
    hub.connector = MpesaConnector("ke", settings, clock=clock)
    await hub.authenticate()
    accepted = await hub.refund(refund_of("rfd-1", 1_000, receipt))
    assert accepted.outcome is Outcome.PENDING
    _, refused = await hub.reversal_result()
    assert (refused.outcome, refused.code) == (Outcome.FAILED, "PROCESS_FAIL")
    assert await hub.balance(RICH) == 10_000_000 - 258_000


# --- the simulator itself --------------------------------------------------------------


async def test_malformed_bodies_are_bad_requests(hub: Hub) -> None:
    built = hub.connector.build_pay(PAY)
    body = json.loads(built.content)
    cases = {
        "Amount": body | {"Amount": 2580.5},
        "AccountReference": body | {"AccountReference": "THIRTEEN-CHRS"},
        "PartyB": body | {"PartyB": "123456"},
        "TransactionType": body | {"TransactionType": "CustomerSendMoney"},
    }
    for field, wrong in cases.items():
        response = await hub.client.post(built.url.path, json=wrong, headers=built.headers)
        assert response.status_code == 400
        assert response.json()["errorMessage"] == f"Bad Request - Invalid {field}"
    for password in ("ü", "bm90IGl0"):
        forged = await hub.client.post(
            built.url.path, json=body | {"Password": password}, headers=built.headers
        )
        assert (forged.status_code, forged.json()["errorMessage"]) == (500, "Wrong credentials")
    not_json = await hub.client.post(built.url.path, content=b"[", headers=built.headers)
    assert not_json.json()["errorCode"] == "400.002.05"
    assert await hub.sim("stats") == {"pay_requests": 7, "charges": 0}


async def test_faults_can_be_changed_at_run_time(hub: Hub) -> None:
    changed = await hub.client.post("/_sim/faults", json={"latency_seconds": 0.01})
    assert changed.json() == {"latency_seconds": 0.01, "unknown_status": False}
    both = await hub.client.post("/_sim/faults", json={"unknown_status": True})
    assert both.json() == {"latency_seconds": 0.01, "unknown_status": True}
    for bad in (
        {"latency_seconds": -1},
        {"latency_seconds": True},
        {"unknown_status": "yes"},
        {"latency": 1},
        [1],
    ):
        assert (await hub.client.post("/_sim/faults", json=bad)).status_code == 400
    cleared = await hub.client.post("/_sim/faults", json={})
    assert cleared.json() == {"latency_seconds": 0.01, "unknown_status": True}


async def test_random_faults_strike_before_or_after_the_books(hub: Hub) -> None:
    # What causeway chaos injects: a 503 before M-Pesa acts, a 500 after it did.
    await hub.client.post("/_sim/faults", json={"reject_rate": 1, "seed": 7})
    refused = await hub.pay()
    assert (refused.outcome, refused.wallet_payment_id) == (Outcome.PENDING, None)
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 0}
    set_ = await hub.client.post("/_sim/faults", json={"reject_rate": 0, "error_rate": 1})
    assert set_.json() == {
        "latency_seconds": 0.0,
        "unknown_status": False,
        "error_rate": 1,
        "seed": 7,
    }
    lost = await hub.pay(replace(PAY, wallet_request_id="pay-2"))
    # Charged, but the answer with the CheckoutRequestID the query needs never came.
    assert (lost.outcome, lost.wallet_payment_id) == (Outcome.PENDING, None)
    assert await hub.sim("stats") == {"pay_requests": 2, "charges": 1}
    await hub.client.post("/_sim/faults", json={"error_rate": 0})
    # The same push again is deduplicated, and its answer names the prompt at last.
    again = await hub.pay(replace(PAY, wallet_request_id="pay-2"))
    assert again.wallet_payment_id is not None
    hub.checkouts["pay-2"] = again.wallet_payment_id
    assert (await hub.inquire("pay-2")).outcome is Outcome.SUCCEEDED
    assert await hub.sim("stats") == {"pay_requests": 3, "charges": 1}
    assert await hub.sim("struck") == {"reject": 1, "error": 1, "drop": 0, "slow": 0}


class Receiver:
    """The hub's callback URL: keeps what is POSTed to it."""

    def __init__(self) -> None:
        self.received: list[tuple[str, bytes]] = []
        self.app = Starlette(routes=[Route("/notify", self.notify, methods=["POST"])])

    async def notify(self, request: Request) -> Response:
        self.received.append((request.url.query, await request.body()))
        return JSONResponse({"ResultCode": 0, "ResultDesc": "Accepted"})

    async def until(self, count: int) -> list[tuple[str, bytes]]:
        for _ in range(200):
            if len(self.received) >= count:
                break
            await asyncio.sleep(0.01)
        return self.received


async def test_callbacks_are_posted_to_their_url_once_each(
    wallet: SimulatedWallet, mpesa_settings: dict[str, Any], clock: Clock
) -> None:
    receiver = Receiver()
    async with serve_on_loopback(receiver.app) as hub_url:
        settings = mpesa_settings | {"callback_url": f"{hub_url}/notify?route=ke"}
        sending = replace(wallet, callback_seconds=0.0)
        transport = httpx.ASGITransport(app=create_simulator(sending))
        async with httpx.AsyncClient(transport=transport, base_url="http://mpesa.test") as client:
            hub = await Hub(MpesaConnector("ke", settings, clock=clock), client).authenticate()
            await hub.paid()
            await hub.refund(refund_of("rfd-1", 1_000, await hub.receipt()))
            received = await receiver.until(2)
            kept = await hub.sim("callbacks")
    # What M-Pesa would POST (GET /_sim/callbacks) is what it did POST, each once.
    assert received == [
        (record["path"].partition("?")[2], record["body"].encode()) for record in kept
    ]
    assert all(query.startswith("route=ke&ref=") for query, _ in received)
    assert [json.loads(body).keys() for _, body in received] == [{"Body"}, {"Result"}]


async def test_an_unknown_status_is_pending_and_the_books_are_written(hub: Hub) -> None:
    await hub.client.post("/_sim/faults", json={"unknown_status": True})
    paid = await hub.pay()
    assert (paid.outcome, paid.wallet_code) == (Outcome.PENDING, "7777")
    assert (await hub.inquire()).outcome is Outcome.PENDING
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 1}
    await hub.client.post("/_sim/faults", json={"unknown_status": False})
    assert (await hub.inquire()).outcome is Outcome.SUCCEEDED


async def test_each_app_keeps_its_own_books(wallet: SimulatedWallet) -> None:
    first, second = create_simulator(wallet), create_simulator(wallet)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=first)) as one:
        token = await one.get(
            "http://mpesa.test/oauth/v1/generate",
            params={"grant_type": "client_credentials"},
            auth=(wallet.consumer_key, wallet.consumer_secret),
        )
        assert token.status_code == 200
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=second)) as two:
        stranger = {"authorization": f"Bearer {token.json()['access_token']}"}
        refused = await two.post("http://mpesa.test/mpesa/stkpushquery/v1/query", headers=stranger)
        assert refused.json()["errorCode"] == "404.001.03"
    assert wallet.accounts[0].balance == 10_000_000


def test_the_wallets_secrets_stay_out_of_repr(wallet: SimulatedWallet) -> None:
    shown = repr(wallet)
    assert "600584" in shown
    for secret in ("passkey-0042", "hub-secret-0042", "ENCRYPTED-0042=="):
        assert secret not in shown


async def test_the_conformance_target_pays_and_declines() -> None:
    target = conformance_target()
    assert target.simulator is not None
    assert target.pay_to_amount % 100 == 0  # whole shillings
    transport = httpx.ASGITransport(app=target.simulator)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim.test") as client:
        connector = target.connect("http://sim.test")
        assert isinstance(connector, MpesaConnector)
        hub = Hub(connector, client)
        assert all(secret not in repr(connector) for secret in target.secrets)
        request = replace(PAY, pay_to_amount=Amount("KES", target.pay_to_amount))
        assert (await hub.paid(request)).outcome is Outcome.SUCCEEDED
        poor = replace(request, wallet_request_id="pay-2", payment_code=target.poor_payer)
        assert (await hub.paid(poor)).code == "USER_BALANCE_NOT_ENOUGH"
        assert target.unknown_payer is not None
        unknown = replace(request, wallet_request_id="pay-3", payment_code=target.unknown_payer)
        assert (await hub.pay(unknown)).code == "USER_NOT_EXIST"
