"""M-Pesa refunds: a reversal names the payment by its M-Pesa receipt, and its result comes
only by callback, keyed by the ``ConversationID`` of the reversal's acknowledgement.

The push answers with a ``CheckoutRequestID`` (what the query takes) and only the STK
callback carries the receipt (what a reversal takes): the hub keeps the receipt once the
payment has succeeded, whichever came first, the callback or the query. A refund whose
first acknowledgement was lost is acknowledged again when it is sent again, and the hub
keeps that ``ConversationID`` so that the reversal's result finds the refund.

The simulated M-Pesa records what it would POST to the hub (``GET /_sim/callbacks``); the
tests deliver it themselves. The hub's background workers are stopped.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest

from connectors.mpesa.simulator import SimulatedAccount, create_simulator
from gateway.client import AcquirerClient
from gateway.hub import Hub
from gateway.models import Payment, Refund
from gateway.states import PaymentStatus, RefundStatus
from tests.conftest import Backend
from tests.gateway.conftest import hub_through, pay_body, refund_body
from tests.gateway.test_wallet_callbacks import (
    MPESA,
    MPESA_ROUTE,
    PAYER,
    simulated_mpesa,
)

pytestmark = pytest.mark.anyio


class Posted(NamedTuple):
    """One callback M-Pesa would have POSTed: where on the hub (path and query), and what."""

    path: str
    body: bytes


@dataclass
class Kenya:
    """A hub whose M-Pesa route goes to a simulated M-Pesa, and that wallet."""

    hub: Hub
    siam: AcquirerClient
    http: httpx.AsyncClient
    wallet_url: str

    async def callbacks(self) -> list[Posted]:
        """What M-Pesa would have POSTed to the hub so far, oldest first."""
        recorded = (await self.http.get(self.wallet_url + "/_sim/callbacks")).json()
        return [Posted(c["path"], c["body"].encode()) for c in recorded]

    async def deliver(self, callbacks: list[Posted]) -> None:
        hub = self.siam.build("pay", {}).url
        for path, body in callbacks:
            # Each to its own URL, as the request it answers gave it (the signed reference).
            url = httpx.URL(str(hub.copy_with(path="/", query=None)).rstrip("/") + path)
            answer = await self.http.post(
                url, content=body, headers={"Content-Type": "application/json"}
            )
            assert answer.json()["ResultCode"] == 0

    async def deliver_new(self, already: int) -> int:
        """Deliver the callbacks recorded after the first ``already``; how many there are."""
        callbacks = await self.callbacks()
        await self.deliver(callbacks[already:])
        return len(callbacks)

    async def faults(self, **wanted: object) -> None:
        (await self.http.post(self.wallet_url + "/_sim/faults", json=wanted)).raise_for_status()

    async def ledger(self, kind: str) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = (
            await self.http.get(self.wallet_url + "/_sim/ledger")
        ).json()
        return [e for e in entries if e["kind"] == kind]

    async def payment(self, request_id: str) -> Payment:
        stored = await self.hub.store.find_payment("SIAM_ACQ", request_id)
        assert stored is not None
        return stored

    async def refund(self, refund_request_id: str) -> Refund:
        stored = await self.hub.store.find_refund("SIAM_ACQ", refund_request_id)
        assert stored is not None
        return stored


@pytest.fixture
async def kenya(backend: Backend, state_dir: Path) -> AsyncIterator[Kenya]:
    wallet = simulated_mpesa(SimulatedAccount(PAYER, 10_000_000, "Wanjiku"))
    async with AsyncExitStack() as stack:
        hub, http, siam, url = await hub_through(
            stack, backend, state_dir, create_simulator(wallet), MPESA_ROUTE, wallet=MPESA
        )
        yield Kenya(hub, siam, http, url)


async def _pay(kenya: Kenya, request_id: str) -> None:
    body = pay_body(request_id, code=PAYER, method_type="MPESA", value="100000")  # THB 1,000
    answer = await kenya.siam.call("pay", body)
    assert answer["result"]["resultCode"] == "PAYMENT_IN_PROCESS"  # the push only prompts


async def _refund(kenya: Kenya, request_id: str, refund_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = await kenya.siam.call(
        "refund", refund_body(request_id, refund_id, "50000")
    )
    return answer


async def test_a_refund_reverses_the_receipt_the_callback_gave(kenya: Kenya) -> None:
    await _pay(kenya, "ke-1")
    pushed = await kenya.payment("ke-1")
    assert pushed.wallet_payment_id is not None
    assert pushed.wallet_payment_id.startswith("ws_CO_")  # the push's CheckoutRequestID

    seen = await kenya.deliver_new(0)  # the STK callback: the hub asks, then records

    paid = await kenya.payment("ke-1")
    [charge] = await kenya.ledger("pay")
    assert paid.status is PaymentStatus.SUCCEEDED
    assert paid.wallet_payment_id == charge["receipt"]
    acknowledged = await _refund(kenya, "ke-1", "ke-1-r1")
    assert acknowledged["result"]["resultStatus"] == "U"  # the result comes by callback
    await kenya.deliver_new(seen)
    again = await _refund(kenya, "ke-1", "ke-1-r1")
    assert again["result"]["resultStatus"] == "S"
    [given_back] = await kenya.ledger("refund")
    assert given_back["receipt"] == charge["receipt"]
    assert given_back["amount"] == (await kenya.refund("ke-1-r1")).refund_from_amount.minor


async def test_the_callback_names_a_payment_the_query_settled_first(kenya: Kenya) -> None:
    await _pay(kenya, "ke-2")
    inquiry = await kenya.siam.call("inquiryPayment", {"paymentRequestId": "ke-2"})
    assert inquiry["paymentStatus"] == "SUCCEEDED"  # by the query, which has no receipt
    checkout = (await kenya.payment("ke-2")).wallet_payment_id
    [stk] = await kenya.callbacks()

    await kenya.deliver([stk])

    [charge] = await kenya.ledger("pay")
    assert (await kenya.payment("ke-2")).wallet_payment_id == charge["receipt"]
    # A later callback about the same push cannot rename it again.
    forged = json.loads(stk.body)
    items = forged["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    for item in items:
        if item["Name"] == "MpesaReceiptNumber":
            item["Value"] = "FORGED0001"
    await kenya.deliver([stk._replace(body=json.dumps(forged).encode())])
    assert (await kenya.payment("ke-2")).wallet_payment_id == charge["receipt"]
    assert checkout != charge["receipt"]
    await _refund(kenya, "ke-2", "ke-2-r1")
    await kenya.deliver_new(1)
    assert (await kenya.refund("ke-2-r1")).status is RefundStatus.SUCCEEDED


async def test_a_refund_whose_acknowledgement_was_lost_is_found_by_its_result(
    kenya: Kenya,
) -> None:
    await _pay(kenya, "ke-3")
    seen = await kenya.deliver_new(0)
    await kenya.faults(error_rate=1.0, seed=1)  # HTTP 500 after the books are written

    lost = await _refund(kenya, "ke-3", "ke-3-r1")

    assert lost["result"]["resultStatus"] == "U"
    unknown = await kenya.refund("ke-3-r1")
    assert unknown.status is RefundStatus.UNKNOWN
    assert unknown.wallet_refund_id is None  # its ConversationID was in the lost answer
    assert len(await kenya.ledger("refund")) == 1  # M-Pesa reversed it all the same
    await kenya.faults(error_rate=0.0)
    # The acquirer sends it again: M-Pesa acknowledges the same reversal again, moving
    # nothing, and calls its result back again.
    again = await _refund(kenya, "ke-3", "ke-3-r1")
    assert again["result"]["resultStatus"] == "U"
    named = await kenya.refund("ke-3-r1")
    assert named.status is RefundStatus.UNKNOWN
    assert named.wallet_refund_id is not None
    assert named.wallet_refund_id.startswith("AG_")
    await kenya.deliver_new(seen)
    done = await kenya.refund("ke-3-r1")
    assert done.status is RefundStatus.SUCCEEDED
    assert len(await kenya.ledger("refund")) == 1


async def test_a_push_whose_answer_was_lost_is_found_by_its_callback(kenya: Kenya) -> None:
    await kenya.faults(error_rate=1.0, seed=1)  # HTTP 500 after the push is taken
    answer = await kenya.siam.call(
        "pay", pay_body("ke-4", code=PAYER, method_type="MPESA", value="100000")
    )
    await kenya.faults(error_rate=0.0)
    assert answer["result"]["resultStatus"] == "U"
    lost = await kenya.payment("ke-4")
    assert lost.status is PaymentStatus.UNKNOWN
    assert lost.wallet_payment_id is None  # its CheckoutRequestID was in the lost answer
    [charge] = await kenya.ledger("pay")  # the traveller paid all the same

    await kenya.deliver_new(0)  # the callback names the payment by its signed URL

    found = await kenya.payment("ke-4")
    assert (found.status, found.wallet_payment_id) == (PaymentStatus.SUCCEEDED, charge["receipt"])
    await _refund(kenya, "ke-4", "ke-4-r1")
    await kenya.deliver_new(1)
    assert (await kenya.refund("ke-4-r1")).status is RefundStatus.SUCCEEDED
    assert len(await kenya.ledger("pay")) == 1  # pushed once


async def test_a_reversal_result_finds_its_refund_by_its_url_alone(kenya: Kenya) -> None:
    await _pay(kenya, "ke-5")
    seen = await kenya.deliver_new(0)
    await kenya.faults(error_rate=1.0, seed=1)  # the acknowledgement, and its id, are lost
    await _refund(kenya, "ke-5", "ke-5-r1")
    await kenya.faults(error_rate=0.0)
    assert (await kenya.refund("ke-5-r1")).wallet_refund_id is None

    await kenya.deliver_new(seen)  # no resend: the Result's signed URL names the refund

    done = await kenya.refund("ke-5-r1")
    assert done.status is RefundStatus.SUCCEEDED
    assert len(await kenya.ledger("refund")) == 1
