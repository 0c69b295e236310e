"""Merchant notifications: written with the final state, delivered until acknowledged."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors import RsaSigner, RsaVerifier
from gateway.config import NotificationsConfig
from gateway.local import AcquirerInbox, LocalServer, serve
from gateway.notifications import SCHEDULE, Dispatcher
from gateway.store import Store
from tests.conftest import Backend
from tests.gateway.conftest import JOSE, MARIA, local_hub, pay_body, until

pytestmark = pytest.mark.anyio

FAST = NotificationsConfig(poll_seconds=0.02, schedule_seconds=[0, 0.05, 0.05, 0.05])


async def test_final_results_are_notified_signed_once_each(
    backend: Backend, state_dir: Path, inbox: AcquirerInbox, inbox_server: LocalServer
) -> None:
    url = inbox_server.url + AcquirerInbox.PATH
    async with local_hub(backend, state_dir, notifications=FAST) as hub:
        paid = await hub.tokyo.call(
            "pay", pay_body("n-1", code=MARIA, currency="JPY", value="800", paymentNotifyUrl=url)
        )
        declined = await hub.tokyo.call(
            "pay", pay_body("n-2", code=JOSE, currency="JPY", value="99000", paymentNotifyUrl=url)
        )
        silent = await hub.tokyo.call(
            "pay", pay_body("n-3", code=MARIA, currency="JPY", value="100")
        )
        await until(lambda: len(inbox.received) == 2)
        await asyncio.sleep(0.1)  # nothing more arrives

    assert silent["result"]["resultStatus"] == "S"  # no notify URL: no notification
    bodies = {body["paymentRequestId"]: body for _, body in inbox.received}
    assert len(inbox.received) == 2
    assert bodies["n-1"]["paymentResult"]["resultStatus"] == "S"
    assert bodies["n-1"]["paymentId"] == paid["paymentId"]
    assert bodies["n-1"]["paymentAmount"] == {"currency": "JPY", "value": "800"}
    assert bodies["n-2"]["paymentResult"]["resultCode"] == "USER_BALANCE_NOT_ENOUGH"
    assert declined["result"]["resultStatus"] == "F"


async def _payment_with_notification(hub_url: str, backend: Backend, state_dir: Path) -> str:
    async with local_hub(backend, state_dir) as hub:
        answer = await hub.tokyo.call(
            "pay",
            pay_body("n-outbox", code=MARIA, currency="JPY", value="800", paymentNotifyUrl=hub_url),
        )
    return str(answer["paymentId"])


def _dispatcher(
    store: Store, http: httpx.AsyncClient, state_dir: Path, **options: Any
) -> Dispatcher:
    """A dispatcher that knows TOKYO_ACQ's key; ``options`` are the Dispatcher's own."""
    keys = state_dir / "keys"
    return Dispatcher(
        store,
        http,
        RsaSigner((keys / "hub.pem").read_bytes()),
        {"TOKYO_ACQ": RsaVerifier((keys / "acquirer-TOKYO_ACQ.pub.pem").read_bytes())},
        **options,
    )


async def test_an_acquirer_down_for_an_hour_gets_the_same_notification_after(
    backend: Backend, state_dir: Path, inbox: AcquirerInbox, inbox_server: LocalServer
) -> None:
    # The hub that took the payment stops at once (a "restart"); the notification waits in
    # the outbox, and a dispatcher on its own clock delivers it against the schedule.
    inbox.failing_with = 500
    await _payment_with_notification(inbox_server.url + AcquirerInbox.PATH, backend, state_dir)
    store = await Store.open(backend.database_url)
    try:
        async with httpx.AsyncClient() as http:
            dispatcher = _dispatcher(store, http, state_dir)
            moment = datetime.now(UTC)
            attempts = 0
            while (moment - datetime.now(UTC)) < timedelta(hours=1):
                assert await dispatcher.deliver_due(moment) == 0
                attempts += 1
                moment += timedelta(seconds=SCHEDULE[attempts])
            inbox.failing_with = None
            assert await dispatcher.deliver_due(moment) == 1
            assert await dispatcher.deliver_due(moment + timedelta(days=1)) == 0
        payment_id = inbox.received[0][1]["paymentId"]
        assert await store.notification_status(payment_id) == ("DELIVERED", attempts + 1)
    finally:
        await store.close()
    # 1 min, 2 × 5, 5 × 10 min: the eighth attempt is the first after the hour.
    assert attempts == 8
    assert len(inbox.received) == 1
    notification_id, body = inbox.received[0]
    assert notification_id == f"N{body['paymentId']}"


async def test_a_delivery_is_cut_off_at_its_deadline_however_slow_the_acquirer(
    backend: Backend, state_dir: Path
) -> None:
    # An endpoint that accepts and then never answers: the client's per-phase timeouts
    # alone would wait their full read timeout; the delivery must end by its deadline,
    # before its lease lets another instance send it again.
    async def hangs(request: Request) -> JSONResponse:
        await asyncio.sleep(3)  # longer than the deadline, short enough to shut down
        return JSONResponse({})

    async with serve(Starlette(routes=[Route("/n", hangs, methods=["POST"])])) as server:
        payment_id = await _payment_with_notification(server.url + "/n", backend, state_dir)
        store = await Store.open(backend.database_url)
        try:
            async with httpx.AsyncClient(timeout=60) as http:
                dispatcher = _dispatcher(store, http, state_dir, deadline=0.3)
                started = asyncio.get_running_loop().time()
                assert await dispatcher.deliver_due(datetime.now(UTC)) == 0
                took = asyncio.get_running_loop().time() - started
            status = await store.notification_status(payment_id)
        finally:
            await store.close()
    assert took < 2  # cut off at 0.3 s, not at the answer after 3 s or the client's 60 s
    assert status == ("PENDING", 1)  # to be tried again on the schedule


async def test_an_unsigned_acknowledgement_is_not_delivery_and_retries_end(
    backend: Backend, state_dir: Path, inbox_server: LocalServer
) -> None:
    # A stranger answers at the URL with a result the acquirer did not sign.
    async def unsigned_success(request: Request) -> JSONResponse:
        return JSONResponse({"result": {"resultCode": "SUCCESS", "resultStatus": "S"}})

    stranger = Starlette(routes=[Route("/n", unsigned_success, methods=["POST"])])

    async with serve(stranger) as server:
        payment_id = await _payment_with_notification(server.url + "/n", backend, state_dir)
        store = await Store.open(backend.database_url)
        try:
            async with httpx.AsyncClient() as http:
                dispatcher = _dispatcher(store, http, state_dir)
                moment = datetime.now(UTC)
                for attempt in range(len(SCHEDULE)):
                    assert await dispatcher.deliver_due(moment) == 0
                    moment += timedelta(seconds=SCHEDULE[min(attempt + 1, len(SCHEDULE) - 1)])
                status = await store.notification_status(payment_id)
        finally:
            await store.close()
    assert status == ("GAVE_UP", len(SCHEDULE))


async def test_the_body_is_frozen_at_the_final_state(
    backend: Backend, state_dir: Path, inbox: AcquirerInbox, inbox_server: LocalServer
) -> None:
    url = inbox_server.url + AcquirerInbox.PATH
    patient = NotificationsConfig(poll_seconds=0.02, schedule_seconds=[0, 0.2, 0.2, 0.2, 0.2])
    inbox.failing_with = 503  # the acquirer is down when the payment succeeds
    async with local_hub(backend, state_dir, notifications=patient) as hub:
        paid = await hub.tokyo.call(
            "pay", pay_body("n-4", code=MARIA, currency="JPY", value="800", paymentNotifyUrl=url)
        )
        cancelled = await hub.tokyo.call("cancelPayment", {"paymentRequestId": "n-4"})
        inbox.failing_with = None  # back before the schedule runs out
        await until(lambda: len(inbox.received) == 1)
        await asyncio.sleep(0.3)  # nothing more arrives

    assert paid["result"]["resultStatus"] == "S"
    assert cancelled["result"]["resultStatus"] == "S"
    # Delivered after the cancel, and still what the payment was when it became final: a
    # cancel is answered to its caller, not notified.
    assert len(inbox.received) == 1
    ((_, body),) = inbox.received
    assert body["paymentId"] == paid["paymentId"]
    assert body["paymentResult"]["resultCode"] == "SUCCESS"
    assert body["paymentResult"]["resultStatus"] == "S"
