"""The Mojaloop connector against the simulated scheme, in process (``httpx.ASGITransport``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from connectors import (
    Amount,
    CancelRequest,
    InquireRequest,
    Merchant,
    OperationNotSupported,
    Outcome,
    PaymentResult,
    PayRequest,
    RefundRequest,
    RefundResult,
    WalletTimeout,
    exchange,
)
from connectors.mojaloop import MojaloopConnector
from connectors.mojaloop._wire import transfer_id
from connectors.mojaloop.simulator import (
    SimulatedAccount,
    SimulatedWallet,
    conformance_target,
    create_simulator,
)

pytestmark = pytest.mark.anyio

TOKEN = "sim-token-4f2a9c"
ASHA, BARAKA, MERCHANTS = "255712345001", "255712345002", "255700900900"

PAY = PayRequest(
    wallet_request_id="pay-1-w1",
    acquirer_id="CAUSEWAY",
    payment_code=ASHA,
    payment_amount=Amount("KES", 75_000),
    pay_to_amount=Amount("TZS", 1_500_000),
    quote=None,
    merchant=Merchant("M-1", "Java House", "5814", "KE"),
    order_description="2 x coffee",
    reference_order_id="ORD-1",
)


@pytest.fixture
def wallet() -> SimulatedWallet:
    return SimulatedWallet(
        dfsp_id="tzwallet",
        currency="TZS",
        currency_exponent=2,
        accounts=[
            SimulatedAccount(ASHA, "Asha", 10_000_000),
            SimulatedAccount(BARAKA, "Baraka", 100_000),
            SimulatedAccount(MERCHANTS, "Causeway merchants", 0),
        ],
        bearer_token=TOKEN,
        single_payment_limit=5_000_000,
    )


@pytest.fixture
def settings() -> dict[str, Any]:
    return {
        "base_url": "http://adapter.test",
        "dfsp_id": "tzwallet",
        "payee_id_value": MERCHANTS,
        "currency_exponent": 2,
        "bearer_token": TOKEN,
        "currencies": ["TZS"],
        "regions": ["TZ"],
    }


class Hub:
    """The connector and a client to the simulator: what the core would do, in miniature."""

    def __init__(self, connector: MojaloopConnector, client: httpx.AsyncClient) -> None:
        self.connector = connector
        self.client = client

    async def _send(self, request: httpx.Request) -> httpx.Response:
        return await exchange(self.client, request, connector=self.connector.name)

    async def pay(self, request: PayRequest = PAY) -> PaymentResult:
        response = await self._send(self.connector.build_pay(request))
        return self.connector.parse_pay(request, response)

    async def inquire(self, request_id: str = PAY.wallet_request_id) -> PaymentResult:
        request = InquireRequest(request_id, "CAUSEWAY")
        response = await self._send(self.connector.build_inquire(request))
        return self.connector.parse_inquire(request, response)

    async def refund(self, request: RefundRequest) -> RefundResult:
        response = await self._send(self.connector.build_refund(request))
        return self.connector.parse_refund(request, response)

    async def sim(self, path: str) -> Any:
        response = await self.client.get(f"/_sim/{path}")
        assert response.status_code == 200
        return response.json()

    async def balances(self) -> dict[str, int]:
        return {a["name"]: a["balance"] for a in await self.sim("accounts")}


@pytest.fixture
async def client(wallet: SimulatedWallet) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_simulator(wallet))
    async with httpx.AsyncClient(transport=transport, base_url="http://adapter.test") as client:
        yield client


@pytest.fixture
def hub(settings: dict[str, Any], client: httpx.AsyncClient) -> Hub:
    return Hub(MojaloopConnector("tz-wallet", settings), client)


def refund_of(paid: PaymentResult, request_id: str, tzs: int) -> RefundRequest:
    return RefundRequest(
        refund_request_id=request_id,
        wallet_request_id=PAY.wallet_request_id,
        wallet_payment_id=paid.wallet_payment_id,
        acquirer_id="CAUSEWAY",
        refund_amount=Amount("KES", tzs // 20),
        refund_from_amount=Amount("TZS", tzs),
        quote=None,
    )


START = {"Asha": 10_000_000, "Baraka": 100_000, "Causeway merchants": 0}


async def test_a_payment_moves_money_to_the_payee(hub: Hub) -> None:
    result = await hub.pay()
    assert result.outcome is Outcome.SUCCEEDED
    assert result.wallet_payment_id == transfer_id("pay", PAY.wallet_request_id)
    assert result.paid_at is not None
    assert await hub.balances() == {
        "Asha": 10_000_000 - 1_500_000,
        "Baraka": 100_000,
        "Causeway merchants": 1_500_000,
    }
    ledger = await hub.sim("ledger")
    assert [(e["kind"], e["payer"], e["payee"], e["amount"]) for e in ledger] == [
        ("pay", "Asha", "Causeway merchants", 1_500_000)
    ]
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 1}


@pytest.mark.parametrize(
    ("request_", "code", "wallet_code", "inquiry"),
    [
        (replace(PAY, payment_code=BARAKA), "USER_BALANCE_NOT_ENOUGH", "4001", "PROCESS_FAIL"),
        (
            replace(PAY, pay_to_amount=Amount("TZS", 5_000_001)),
            "PAYMENT_AMOUNT_EXCEED_LIMIT",
            "4200",
            "ORDER_NOT_EXIST",
        ),
        (replace(PAY, payment_code="255799999999"), "USER_NOT_EXIST", "3204", "ORDER_NOT_EXIST"),
    ],
    ids=["balance", "limit", "unknown-payer"],
)
async def test_declines_move_no_money(
    hub: Hub, request_: PayRequest, code: str, wallet_code: str, inquiry: str
) -> None:
    result = await hub.pay(request_)
    assert (result.outcome, result.code, result.wallet_code) == (Outcome.FAILED, code, wallet_code)
    assert await hub.balances() == START
    assert await hub.sim("ledger") == []
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 0}
    # Only a transfer refused at the prepare is known to the switch (as ABORTED).
    found = await hub.inquire()
    assert (found.outcome, found.code) == (Outcome.FAILED, inquiry)


async def test_a_repeated_request_id_charges_once(hub: Hub) -> None:
    first = await hub.pay()
    second = await hub.pay()
    assert first.outcome is second.outcome is Outcome.SUCCEEDED
    assert second.wallet_payment_id == first.wallet_payment_id
    assert await hub.sim("stats") == {"pay_requests": 2, "charges": 1}
    assert (await hub.balances())["Asha"] == 10_000_000 - 1_500_000


async def test_a_changed_repeat_is_left_to_an_inquiry(hub: Hub) -> None:
    first = await hub.pay()
    changed = await hub.pay(replace(PAY, pay_to_amount=Amount("TZS", 1_500_100)))
    assert (changed.outcome, changed.wallet_code) == (Outcome.PENDING, "3106")
    assert (await hub.balances())["Asha"] == 10_000_000 - 1_500_000
    found = await hub.inquire()
    assert (found.outcome, found.wallet_payment_id) == (Outcome.SUCCEEDED, first.wallet_payment_id)


async def test_inquiry(hub: Hub) -> None:
    unknown = await hub.inquire()
    assert (unknown.outcome, unknown.code) == (Outcome.FAILED, "ORDER_NOT_EXIST")
    await hub.pay()
    found = await hub.inquire()
    assert (found.outcome, found.wallet_payment_id) == (
        Outcome.SUCCEEDED,
        transfer_id("pay", PAY.wallet_request_id),
    )


async def test_there_is_no_cancel_only_refunds(hub: Hub) -> None:
    await hub.pay()
    with pytest.raises(OperationNotSupported):
        hub.connector.build_cancel(CancelRequest(PAY.wallet_request_id, "CAUSEWAY"))
    assert [e["kind"] for e in await hub.sim("ledger")] == ["pay"]
    assert (await hub.inquire()).outcome is Outcome.SUCCEEDED


async def test_partial_and_full_refunds_then_no_more(hub: Hub) -> None:
    paid = await hub.pay()
    first = await hub.refund(refund_of(paid, "rfd-1", 500_000))
    assert first.outcome is Outcome.SUCCEEDED
    assert first.wallet_refund_id == transfer_id("refund", "rfd-1")
    repeat = await hub.refund(refund_of(paid, "rfd-1", 500_000))
    assert (repeat.outcome, repeat.wallet_refund_id) == (Outcome.SUCCEEDED, first.wallet_refund_id)
    assert (await hub.balances())["Asha"] == 10_000_000 - 1_500_000 + 500_000
    rest = await hub.refund(refund_of(paid, "rfd-2", 1_000_000))
    assert rest.outcome is Outcome.SUCCEEDED
    over = await hub.refund(refund_of(paid, "rfd-3", 1))
    assert (over.outcome, over.code) == (Outcome.FAILED, "REFUND_AMOUNT_EXCEED")
    assert await hub.balances() == START
    ledger = await hub.sim("ledger")
    assert [e["kind"] for e in ledger] == ["pay", "refund", "refund"]
    # Each refund names the transfer of the payment it gives back (the audit reads it).
    payment = transfer_id("pay", PAY.wallet_request_id)
    assert [(e["home_transaction_id"], e["original_transfer_id"]) for e in ledger] == [
        (PAY.wallet_request_id, None),
        ("rfd-1", payment),
        ("rfd-2", payment),
    ]
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 1}


async def test_an_over_refund_is_refused_whole(hub: Hub) -> None:
    paid = await hub.pay()
    over = await hub.refund(refund_of(paid, "rfd-1", 1_500_001))
    assert (over.outcome, over.code) == (Outcome.FAILED, "REFUND_AMOUNT_EXCEED")
    assert (await hub.balances())["Causeway merchants"] == 1_500_000


async def test_refund_dedup_and_unknown_payment(hub: Hub) -> None:
    paid = await hub.pay()
    stranger = replace(refund_of(paid, "rfd-0", 100), wallet_request_id="pay-never-made")
    unknown = await hub.refund(stranger)
    assert (unknown.outcome, unknown.code) == (Outcome.FAILED, "ORDER_NOT_EXIST")
    await hub.refund(refund_of(paid, "rfd-1", 100))
    changed = await hub.refund(refund_of(paid, "rfd-1", 200))
    assert changed.outcome is Outcome.PENDING  # 3106: the first refund stands
    assert (await hub.balances())["Asha"] == 10_000_000 - 1_500_000 + 100


async def test_a_payment_found_by_inquiry_can_be_refunded(hub: Hub) -> None:
    await hub.client.post("/_sim/faults", json={"unknown_status": True})
    assert (await hub.pay()).outcome is Outcome.PENDING
    await hub.client.post("/_sim/faults", json={"unknown_status": False})
    found = await hub.inquire()
    refund = await hub.refund(refund_of(found, "rfd-1", 1_500_000))
    assert refund.outcome is Outcome.SUCCEEDED
    assert await hub.balances() == START


async def test_only_the_account_paid_can_refund(
    hub: Hub, client: httpx.AsyncClient, settings: dict[str, Any]
) -> None:
    paid = await hub.pay()
    elsewhere = Hub(MojaloopConnector("tz", settings | {"payee_id_value": BARAKA}), client)
    refused = await elsewhere.refund(refund_of(paid, "rfd-1", 100))
    assert (refused.outcome, refused.code) == (Outcome.FAILED, "PROCESS_FAIL")
    assert "3100" in refused.message
    assert (await hub.balances())["Baraka"] == 100_000


async def test_the_payee_fee_comes_out_of_what_the_payee_receives(
    wallet: SimulatedWallet, settings: dict[str, Any]
) -> None:
    app = create_simulator(replace(wallet, payee_fee=15_000))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://adapter.test") as client:
        hub = Hub(MojaloopConnector("tz", settings), client)
        assert (await hub.pay()).outcome is Outcome.SUCCEEDED
        balances = await hub.balances()
        assert balances["Asha"] == 10_000_000 - 1_500_000  # SEND: the traveller pays the price
        assert balances["Causeway merchants"] == 1_500_000 - 15_000
        assert [e["fee"] for e in await hub.sim("ledger")] == [15_000]


@pytest.mark.parametrize("token", [None, "not-the-token"])
async def test_a_request_without_the_token_is_refused(
    client: httpx.AsyncClient, settings: dict[str, Any], token: str | None
) -> None:
    impostor = Hub(MojaloopConnector("tz", settings | {"bearer_token": token}), client)
    result = await impostor.pay()
    assert (result.outcome, result.code, result.wallet_code) == (
        Outcome.FAILED,
        "PROCESS_FAIL",
        "401",
    )
    assert (await impostor.inquire()).outcome is Outcome.PENDING
    assert await impostor.sim("stats") == {"pay_requests": 1, "charges": 0}
    assert await impostor.balances() == START


async def test_a_request_for_another_dfsp_is_refused(
    client: httpx.AsyncClient, settings: dict[str, Any]
) -> None:
    misrouted = Hub(MojaloopConnector("tz", settings | {"dfsp_id": "kewallet"}), client)
    result = await misrouted.pay()
    assert (result.outcome, result.wallet_code) == (Outcome.FAILED, "3202")
    assert await misrouted.balances() == START


@pytest.mark.parametrize(
    ("amount", "problem"),
    [
        ("15000.00", "not an FSPIOP Amount"),
        ("15000.001", "more than 2 decimals"),
        ("0", "positive"),
    ],
)
async def test_amounts_the_scheme_cannot_read_are_refused(
    client: httpx.AsyncClient, amount: str, problem: str
) -> None:
    body = {
        "homeTransactionId": "h-1",
        "from": {"idType": "MSISDN", "idValue": ASHA},
        "to": {"idType": "MSISDN", "idValue": MERCHANTS},
        "amountType": "SEND",
        "currency": "TZS",
        "amount": amount,
        "transactionType": "TRANSFER",
    }
    headers = {"authorization": f"Bearer {TOKEN}"}
    response = await client.post("/transfers", json=body, headers=headers)
    assert response.status_code == 400
    assert problem in response.json()["message"]
    assert (await client.get("/_sim/stats")).json()["charges"] == 0


async def test_the_adapter_makes_a_transfer_id_when_none_is_given(
    client: httpx.AsyncClient,
) -> None:
    body = {
        "homeTransactionId": "h-2",
        "from": {"idType": "MSISDN", "idValue": ASHA},
        "to": {"idType": "MSISDN", "idValue": MERCHANTS},
        "amountType": "SEND",
        "currency": "TZS",
        "amount": "15000",
        "transactionType": "TRANSFER",
    }
    response = await client.post(
        "/transfers", json=body, headers={"authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 200
    answer = response.json()
    assert (answer["currentState"], answer["fulfil"]["body"]["transferState"]) == (
        "COMPLETED",
        "COMMITTED",
    )
    assert len(answer["transferId"]) == 36


# --- the control API --------------------------------------------------------------------


async def test_faults_can_be_changed_at_run_time(client: httpx.AsyncClient) -> None:
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


async def test_random_faults_strike_before_or_after_the_books(hub: Hub) -> None:
    # What causeway chaos injects: a 503 before the scheme acts, a 500 after it did.
    await hub.client.post("/_sim/faults", json={"reject_rate": 1, "seed": 7})
    refused = await hub.pay()
    assert refused.outcome is Outcome.PENDING  # a 503 says nothing: the hub must ask
    assert await hub.sim("ledger") == []
    set_ = await hub.client.post("/_sim/faults", json={"reject_rate": 0, "error_rate": 1})
    assert set_.json() == {
        "latency_seconds": 0.0,
        "unknown_status": False,
        "error_rate": 1,
        "seed": 7,
    }
    lost = await hub.pay()
    assert lost.outcome is Outcome.PENDING  # committed, but the answer is a bare 500
    paid = await hub.inquire()  # faults strike inquiries too: this one is answered 500
    assert paid.outcome is Outcome.PENDING
    refunded = await hub.refund(refund_of(paid, "rfd-1", 1_000))  # and refunds
    assert refunded.outcome is Outcome.PENDING
    await hub.client.post("/_sim/faults", json={"error_rate": 0})
    assert (await hub.inquire()).outcome is Outcome.SUCCEEDED
    assert [e["kind"] for e in await hub.sim("ledger")] == ["pay", "refund"]
    assert await hub.sim("struck") == {"reject": 1, "error": 3, "drop": 0, "slow": 0}


async def test_unknown_states_are_pending_and_an_inquiry_resolves_them(hub: Hub) -> None:
    await hub.client.post("/_sim/faults", json={"unknown_status": True})
    paid = await hub.pay()
    assert (paid.outcome, paid.wallet_code) == (Outcome.PENDING, "PROCESSING")
    assert (await hub.inquire()).outcome is Outcome.PENDING
    declined = await hub.pay(replace(PAY, wallet_request_id="pay-2", payment_code=BARAKA))
    assert declined.outcome is Outcome.PENDING
    assert await hub.sim("stats") == {"pay_requests": 2, "charges": 1}
    await hub.client.post("/_sim/faults", json={"unknown_status": False})
    assert (await hub.inquire()).outcome is Outcome.SUCCEEDED


async def test_latency_hides_a_charge_that_an_inquiry_finds(hub: Hub) -> None:
    await hub.client.post("/_sim/faults", json={"latency_seconds": 1.0})
    with pytest.raises(WalletTimeout):
        await exchange(hub.client, hub.connector.build_pay(PAY), connector="tz", deadline=0.05)
    assert await hub.sim("stats") == {"pay_requests": 1, "charges": 1}
    await hub.client.post("/_sim/faults", json={"latency_seconds": 0})
    assert (await hub.inquire()).outcome is Outcome.SUCCEEDED


async def test_each_app_keeps_its_own_books(
    wallet: SimulatedWallet, settings: dict[str, Any]
) -> None:
    connector = MojaloopConnector("tz", settings)
    for _ in range(2):
        app = create_simulator(wallet)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://adapter.test") as one:
            hub = Hub(connector, one)
            assert (await hub.pay()).outcome is Outcome.SUCCEEDED
            assert await hub.sim("stats") == {"pay_requests": 1, "charges": 1}
    assert wallet.accounts[0].balance == 10_000_000


def test_the_wallets_secrets_stay_out_of_repr(wallet: SimulatedWallet) -> None:
    shown = repr(wallet)
    assert "tzwallet" in shown
    assert "Asha" in shown
    assert TOKEN not in shown
    assert ASHA not in shown


async def test_the_conformance_target_works_against_its_simulator() -> None:
    target = conformance_target()
    assert target.simulator is not None
    assert target.secrets
    connector = target.connect("http://adapter.test")
    assert target.wallet_currency in connector.capabilities.currencies
    assert not [s for s in target.secrets if s in repr(connector) + repr(vars(connector))]
    transport = httpx.ASGITransport(app=target.simulator)
    async with httpx.AsyncClient(transport=transport, base_url="http://adapter.test") as client:
        results = []
        for request_id, payer in (("c-1", target.payer), ("c-2", target.poor_payer)):
            request = replace(
                PAY,
                wallet_request_id=request_id,
                payment_code=payer,
                payment_amount=Amount(target.payment_currency, target.payment_amount),
                pay_to_amount=Amount(target.wallet_currency, target.pay_to_amount),
            )
            response = await exchange(client, connector.build_pay(request), connector="tz")
            results.append(connector.parse_pay(request, response))
        assert [(r.outcome, r.code) for r in results] == [
            (Outcome.SUCCEEDED, "SUCCESS"),
            (Outcome.FAILED, "USER_BALANCE_NOT_ENOUGH"),
        ]
        ledger = (await client.get("/_sim/ledger")).json()
        assert [entry["kind"] for entry in ledger] == ["pay"]
