"""The simulated SNAP wallet's control API (faults, books) and its conformance target."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from connectors import (
    Amount,
    InquireRequest,
    Merchant,
    Outcome,
    PaymentResult,
    PayRequest,
    WalletTimeout,
    exchange,
)
from connectors.snapbi import SnapBiConnector
from connectors.snapbi.simulator import (
    SimulatedAccount,
    SimulatedWallet,
    conformance_target,
    create_simulator,
)

pytestmark = pytest.mark.anyio

SECRET, TOKEN, RINA = "control-client-secret", "control-b2b-token", "tok-rina"
WALLET = SimulatedWallet(
    partner_id="HUB-PARTNER-01",
    client_secret=SECRET,
    access_token=TOKEN,
    merchant_id="216620000000000001",
    accounts=[SimulatedAccount("ID-1", RINA, 500_000_000, "Rina")],
)
CONNECTOR = SnapBiConnector(
    "dana",
    {
        "base_url": "http://wallet.test",
        "partner_id": WALLET.partner_id,
        "client_secret": SECRET,
        "access_token": TOKEN,
        "channel_id": "95221",
        "merchant_id": WALLET.merchant_id,
        "currencies": ["IDR"],
        "regions": ["ID"],
    },
)
PAY = PayRequest(
    wallet_request_id="pay-1-w1",
    acquirer_id="CAUSEWAY",
    payment_code=RINA,
    payment_amount=Amount("JPY", 1200),
    pay_to_amount=Amount("IDR", 12_720_000),
    quote=None,
    merchant=Merchant("M-1", "Ramen Ichiban", "5812", "JP"),
    order_description="2 x ramen",
    reference_order_id="ORD-1",
)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_simulator(WALLET))
    async with httpx.AsyncClient(transport=transport, base_url="http://wallet.test") as client:
        yield client


class Calls:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.connector = CONNECTOR

    async def pay(self) -> PaymentResult:
        response = await exchange(self.client, CONNECTOR.build_pay(PAY), connector="d")
        return CONNECTOR.parse_pay(PAY, response)

    async def inquire(self) -> PaymentResult:
        request = InquireRequest(PAY.wallet_request_id, "CAUSEWAY")
        response = await exchange(self.client, CONNECTOR.build_inquire(request), connector="d")
        return CONNECTOR.parse_inquire(request, response)

    async def sim(self, path: str) -> Any:
        return (await self.client.get(f"/_sim/{path}")).json()


async def test_faults_can_be_set_read_and_refused(client: httpx.AsyncClient) -> None:
    changed = await client.post("/_sim/faults", json={"latency_seconds": 0.01})
    assert changed.json() == {"latency_seconds": 0.01, "unknown_status": False}
    flagged = await client.post("/_sim/faults", json={"unknown_status": True})
    assert flagged.json() == {"latency_seconds": 0.01, "unknown_status": True}
    assert (await client.post("/_sim/faults", json={})).json() == flagged.json()
    for bad in (
        {"latency_seconds": -1},
        {"latency_seconds": True},
        {"latency_seconds": "1"},
        {"unknown_status": 1},
        {"jitter": 1},
        [1],
    ):
        assert (await client.post("/_sim/faults", json=bad)).status_code == 400
    unparsable = await client.post("/_sim/faults", content=b"{")
    assert unparsable.status_code == 400
    assert (await client.post("/_sim/faults", json={})).json() == flagged.json()


async def test_an_unknown_status_is_pending_until_it_clears(client: httpx.AsyncClient) -> None:
    calls = Calls(client)
    await client.post("/_sim/faults", json={"unknown_status": True})
    paid = await calls.pay()
    assert (paid.outcome, paid.wallet_code) == (Outcome.PENDING, "2005499")
    inquiry = await calls.inquire()
    assert (inquiry.outcome, inquiry.wallet_code) == (Outcome.PENDING, "99")
    await client.post("/_sim/faults", json={"unknown_status": False})
    assert (await calls.inquire()).outcome is Outcome.SUCCEEDED
    assert await calls.sim("stats") == {"pay_requests": 1, "charges": 1}


async def test_latency_comes_after_the_books_are_written(client: httpx.AsyncClient) -> None:
    calls = Calls(client)
    await client.post("/_sim/faults", json={"latency_seconds": 5})
    with pytest.raises(WalletTimeout):
        await exchange(client, calls.connector.build_pay(PAY), connector="d", deadline=0.05)
    await client.post("/_sim/faults", json={"latency_seconds": 0})
    assert (await calls.inquire()).outcome is Outcome.SUCCEEDED
    assert await calls.sim("stats") == {"pay_requests": 1, "charges": 1}


async def test_the_conformance_target_pays_declines_and_keeps_its_secrets() -> None:
    target = conformance_target()
    assert target.simulator is not None
    assert target.wallet_currency == "IDR"
    connector = target.connect("http://wallet.test")
    transport = httpx.ASGITransport(app=target.simulator)
    async with httpx.AsyncClient(transport=transport, base_url="http://wallet.test") as client:
        assert target.unknown_payer is not None
        for code, outcome in [
            (target.payer, Outcome.SUCCEEDED),
            (target.poor_payer, Outcome.FAILED),
            (target.unknown_payer, Outcome.FAILED),
        ]:
            request = replace(
                PAY,
                wallet_request_id=f"pay-{code}",
                payment_code=code,
                payment_amount=Amount(target.payment_currency, target.payment_amount),
                pay_to_amount=Amount(target.wallet_currency, target.pay_to_amount),
            )
            response = await exchange(client, connector.build_pay(request), connector="c")
            assert connector.parse_pay(request, response).outcome is outcome
        ledger = (await client.get("/_sim/ledger")).json()
        stats = (await client.get("/_sim/stats")).json()
    assert [(e["kind"], e["amount"]) for e in ledger] == [("pay", target.pay_to_amount)]
    assert stats == {"pay_requests": 3, "charges": 1}
    shown = repr(connector) + repr(target) + json.dumps(ledger)
    assert len(target.secrets) == 2
    assert not [secret for secret in target.secrets if secret in shown]
    assert set(conformance_target().secrets).isdisjoint(target.secrets)


async def test_each_app_keeps_its_own_books() -> None:
    first, second = create_simulator(WALLET), create_simulator(WALLET)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=first), base_url="http://wallet.test"
    ) as one:
        assert (await Calls(one).pay()).outcome is Outcome.SUCCEEDED
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=second), base_url="http://wallet.test"
    ) as two:
        assert await Calls(two).sim("stats") == {"pay_requests": 0, "charges": 0}
        assert (await Calls(two).sim("accounts"))[0]["balance"] == 500_000_000
    assert WALLET.accounts[0].balance == 500_000_000


def test_the_wallets_secrets_stay_out_of_repr() -> None:
    shown = repr(WALLET) + repr(replace(WALLET))
    assert "HUB-PARTNER-01" in shown
    assert SECRET not in shown
    assert TOKEN not in shown
    assert RINA not in shown
