"""A wallet on its own protocol calls back: M-Pesa's STK push result reaches the hub.

The STK push is asynchronous: the pay answer is pending, and the phone's result comes by
callback to ``/wallets/{route}/notify``. The hub takes a callback as a hint and asks the
wallet before recording anything, so a forged callback cannot make a payment succeed.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.mpesa.simulator import SimulatedAccount, SimulatedWallet, create_simulator
from gateway.api import create_app
from gateway.client import AcquirerClient
from gateway.config import RouteConfig, WalletConfig
from gateway.local import serve
from tests.conftest import Backend
from tests.gateway.conftest import acquirer_client, pay_body, settings_for

pytestmark = pytest.mark.anyio

PAYER, REFUSER = "254712345678", "254722000111"
CREDENTIALS = {
    "consumer_key": secrets.token_urlsafe(24),
    "consumer_secret": secrets.token_urlsafe(24),
    "passkey": secrets.token_hex(32),
    "security_credential": base64.b64encode(secrets.token_bytes(256)).decode(),
    "access_token": secrets.token_urlsafe(21),
}
ROUTE = "mpesa-ke"
#: M-Pesa as the hub's configuration names it, and a route to it (the test adds its URL).
MPESA = WalletConfig(
    psp_id="MPESA",
    name="M-Pesa",
    currency="KES",
    region="KE",
    method_types=["MPESA"],
    code_prefixes=["2547"],
)
MPESA_ROUTE = RouteConfig(
    name=ROUTE,
    wallet="MPESA",
    kind="mpesa",
    settings=CREDENTIALS
    | {
        "shortcode": "600584",
        "callback_url": f"http://127.0.0.1/wallets/{ROUTE}/notify",
        "initiator_name": "causeway_api",
        "currencies": ["KES"],
        "regions": ["KE"],
    },
)


def simulated_mpesa(*accounts: SimulatedAccount) -> SimulatedWallet:
    """The M-Pesa that :data:`MPESA_ROUTE` reaches, with ``accounts``."""
    return SimulatedWallet(
        shortcode="600584",
        passkey=CREDENTIALS["passkey"],
        consumer_key=CREDENTIALS["consumer_key"],
        consumer_secret=CREDENTIALS["consumer_secret"],
        initiator_name="causeway_api",
        security_credential=CREDENTIALS["security_credential"],
        accounts=list(accounts),
        access_token=CREDENTIALS["access_token"],
    )


class Kenya:
    def __init__(
        self, hub_url: str, wallet_url: str, http: httpx.AsyncClient, siam: AcquirerClient
    ):
        self.hub_url, self.wallet_url, self.http, self.siam = hub_url, wallet_url, http, siam

    async def deliver_callbacks(self) -> list[httpx.Response]:
        """What the phone network would have POSTed to the hub, delivered now."""
        recorded = (await self.http.get(self.wallet_url + "/_sim/callbacks")).json()
        return [
            await self.http.post(
                self.hub_url + c["path"],  # the push's own URL, with its signed reference
                content=c["body"].encode(),  # the bytes as M-Pesa would send them
                headers={"Content-Type": "application/json"},
            )
            for c in recorded
        ]


@pytest.fixture
async def kenya(backend: Backend, state_dir: Path) -> AsyncIterator[Kenya]:
    wallet = simulated_mpesa(
        SimulatedAccount(PAYER, 10_000_000, "Wanjiku"),
        SimulatedAccount(REFUSER, 10_000_000, "Otieno", answer="cancel"),
    )
    async with AsyncExitStack() as stack:
        simulator = await stack.enter_async_context(serve(create_simulator(wallet)))
        settings = settings_for(backend, state_dir)
        route = MPESA_ROUTE.model_copy(
            update={"settings": MPESA_ROUTE.settings | {"base_url": simulator.url}}
        )
        settings = settings.model_copy(
            update={"wallets": [*settings.wallets, MPESA], "routes": [*settings.routes, route]}
        )
        gateway = await stack.enter_async_context(serve(create_app(settings)))
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=30))
        siam = acquirer_client(http, gateway.url, state_dir / "keys", "SIAM_ACQ")
        yield Kenya(gateway.url, simulator.url, http, siam)


def _body(request_id: str, msisdn: str) -> dict[str, Any]:
    return pay_body(request_id, code=msisdn, method_type="MPESA", value="100000")  # THB 1,000


async def test_the_push_is_pending_and_the_callback_settles_it(kenya: Kenya) -> None:
    answer = await kenya.siam.call("pay", _body("ke-1", PAYER))

    assert answer["result"]["resultCode"] == "PAYMENT_IN_PROCESS"
    assert int(answer["payToAmount"]["value"]) % 100 == 0  # whole shillings: M-Pesa's step
    acks = await kenya.deliver_callbacks()
    assert [a.json()["ResultCode"] for a in acks] == [0]
    inquiry = await kenya.siam.call("inquiryPayment", {"paymentRequestId": "ke-1"})
    assert inquiry["paymentStatus"] == "SUCCEEDED"


async def test_a_refused_prompt_fails_the_payment(kenya: Kenya) -> None:
    await kenya.siam.call("pay", _body("ke-2", REFUSER))

    await kenya.deliver_callbacks()

    inquiry = await kenya.siam.call("inquiryPayment", {"paymentRequestId": "ke-2"})
    assert inquiry["paymentStatus"] == "FAILED"


async def test_a_forged_success_is_checked_with_the_wallet(kenya: Kenya) -> None:
    await kenya.siam.call("pay", _body("ke-3", REFUSER))
    recorded = (await kenya.http.get(kenya.wallet_url + "/_sim/callbacks")).json()
    forged = json.loads(recorded[0]["body"])
    forged["Body"]["stkCallback"]["ResultCode"] = 0  # "the payment went through"

    # To the push's own URL (whoever has it can send any body there)...
    await kenya.http.post(kenya.hub_url + recorded[0]["path"], json=forged)

    inquiry = await kenya.siam.call("inquiryPayment", {"paymentRequestId": "ke-3"})
    assert inquiry["paymentStatus"] == "FAILED"  # the wallet said otherwise when asked


async def test_a_callback_to_a_url_no_push_was_given_is_refused(kenya: Kenya) -> None:
    await kenya.siam.call("pay", _body("ke-4", PAYER))
    [genuine] = (await kenya.http.get(kenya.wallet_url + "/_sim/callbacks")).json()
    signed = httpx.URL(kenya.hub_url + genuine["path"])
    assert signed.params["ref"]  # the payment's wallet_request_id, with its signature

    for url in (
        signed.copy_with(query=None),  # the route's bare URL
        signed.copy_set_param("sig", "0" * 32),
    ):
        refused = await kenya.http.post(url, content=genuine["body"].encode())
        assert (refused.status_code, refused.json()["ResultCode"]) == (400, 1)
    # The same bytes to the URL the push gave are taken.
    taken = await kenya.http.post(signed, content=genuine["body"].encode())
    assert (taken.status_code, taken.json()["ResultCode"]) == (200, 0)


async def test_garbage_is_refused_and_unknown_routes_are_404(kenya: Kenya) -> None:
    garbage = await kenya.http.post(kenya.hub_url + "/wallets/mpesa-ke/notify", content=b"{")
    unknown = await kenya.http.post(kenya.hub_url + "/wallets/nope/notify", json={})
    no_parser = await kenya.http.post(kenya.hub_url + "/wallets/gcash-aps/notify", json={})

    assert garbage.status_code == 400
    assert garbage.json()["ResultCode"] != 0
    assert unknown.status_code == 404
    assert no_parser.status_code == 404
