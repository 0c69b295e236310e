"""The simulator under uvicorn on 127.0.0.1, reached over real HTTP."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn

from connectors import (
    Amount,
    InquireRequest,
    Merchant,
    Outcome,
    PayRequest,
    WalletTimeout,
    WalletUnreachable,
    exchange,
)
from connectors.alipayplus import AlipayPlusConnector
from connectors.alipayplus.simulator import SimulatedAccount, SimulatedWallet, create_simulator

pytestmark = pytest.mark.anyio

CODE = "281000000000000001"
PAY = PayRequest(
    wallet_request_id="pay-loop-1",
    acquirer_id="CAUSEWAY",
    payment_code=CODE,
    payment_amount=Amount("JPY", 1200),
    pay_to_amount=Amount("KRW", 11016),
    quote=None,
    merchant=Merchant("M-1", "Ramen Ichiban", "5812", "JP"),
    order_description="2 x ramen",
    reference_order_id="ORD-1",
)


@pytest.fixture
async def wallet_url(
    hub_keys: tuple[bytes, bytes], wallet_keys: tuple[bytes, bytes]
) -> AsyncIterator[str]:
    wallet = SimulatedWallet(
        psp_id="KRWALLET",
        currency="KRW",
        client_id="KRWALLET_0001",
        private_key=wallet_keys[0],
        hub_public_key=hub_keys[1],
        accounts=[SimulatedAccount("K-1", CODE, 100_000, "Kim")],
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        create_simulator(wallet), lifespan="off", ws="none", log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            assert not task.done(), "uvicorn stopped during start-up"
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def connector_at(settings: dict[str, Any], url: str) -> AlipayPlusConnector:
    return AlipayPlusConnector("kr", settings | {"base_url": url})


async def test_a_payment_over_loopback(settings: dict[str, Any], wallet_url: str) -> None:
    connector = connector_at(settings, wallet_url)
    async with httpx.AsyncClient() as client:
        response = await exchange(client, connector.build_pay(PAY), connector="kr")
        assert connector.parse_pay(PAY, response).outcome is Outcome.SUCCEEDED
        assert (await client.get(f"{wallet_url}/_sim/stats")).json()["charges"] == 1


async def test_a_timeout_can_hide_a_charge_that_an_inquiry_finds(
    settings: dict[str, Any], wallet_url: str
) -> None:
    connector = connector_at(settings, wallet_url)
    async with httpx.AsyncClient(timeout=0.2) as client:
        slow = await client.post(f"{wallet_url}/_sim/faults", json={"latency_seconds": 1.0})
        assert slow.status_code == 200
        with pytest.raises(WalletTimeout):
            await exchange(client, connector.build_pay(PAY), connector="kr")
        await client.post(f"{wallet_url}/_sim/faults", json={"latency_seconds": 0})
        inquiry = InquireRequest(PAY.wallet_request_id, "CAUSEWAY")
        response = await exchange(client, connector.build_inquire(inquiry), connector="kr")
        assert connector.parse_inquire(inquiry, response).outcome is Outcome.SUCCEEDED


async def test_a_closed_port_is_unreachable(settings: dict[str, Any]) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there any more
    connector = connector_at(settings, f"http://127.0.0.1:{port}")
    async with httpx.AsyncClient() as client:
        with pytest.raises(WalletUnreachable):
            await exchange(client, connector.build_pay(PAY), connector="kr")


async def test_a_dropped_answer_hides_a_charge_that_an_inquiry_finds(
    settings: dict[str, Any], wallet_url: str
) -> None:
    connector = connector_at(settings, wallet_url)
    async with httpx.AsyncClient() as client:
        await client.post(f"{wallet_url}/_sim/faults", json={"drop_rate": 1})
        with pytest.raises(WalletTimeout):  # the connection ends mid-answer
            await exchange(client, connector.build_pay(PAY), connector="kr")
        await client.post(f"{wallet_url}/_sim/faults", json={"drop_rate": 0})
        inquiry = InquireRequest(PAY.wallet_request_id, "CAUSEWAY")
        response = await exchange(client, connector.build_inquire(inquiry), connector="kr")
        assert connector.parse_inquire(inquiry, response).outcome is Outcome.SUCCEEDED
        assert (await client.get(f"{wallet_url}/_sim/stats")).json()["charges"] == 1
        assert (await client.get(f"{wallet_url}/_sim/struck")).json()["drop"] == 1


@pytest.mark.parametrize(
    ("fault", "status", "charges"), [("reject_rate", 503, 0), ("error_rate", 500, 1)]
)
async def test_a_5xx_comes_before_or_after_the_books(
    settings: dict[str, Any], wallet_url: str, fault: str, status: int, charges: int
) -> None:
    connector = connector_at(settings, wallet_url)
    async with httpx.AsyncClient() as client:
        await client.post(f"{wallet_url}/_sim/faults", json={fault: 1})
        response = await exchange(client, connector.build_pay(PAY), connector="kr")
        assert response.status_code == status
        assert connector.parse_pay(PAY, response).outcome is Outcome.PENDING
        assert (await client.get(f"{wallet_url}/_sim/stats")).json()["charges"] == charges
