"""The conformance kit against wallets that call back, or that can only be asked by their own
id: the kit's paths for ``NotificationParser``, ``GET /_sim/callbacks`` and the declared
limits, each shown to fail a connector that breaks the rule it checks.

The connectors here are M-Pesa's with one thing wrong; the simulators are M-Pesa's, some
behind a wrapper that changes what ``GET /_sim/callbacks`` answers (signs the callbacks,
contradicts them, or has none).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from connectors import (
    InquireRequest,
    NotificationParser,
    PaymentResult,
    PayRequest,
    WalletNotification,
    WalletProtocolError,
)
from connectors._conformance_checks import other_id
from connectors.conformance import ConformanceTarget, open_wallet
from connectors.conformance_suite import ConformanceSuite
from connectors.mpesa import MpesaConnector
from connectors.mpesa.simulator import SimulatedAccount, SimulatedWallet, create_simulator

pytestmark = pytest.mark.anyio

SUITE = ConformanceSuite()
RICH, POOR = "254712345678", "254722000111"
#: The key of the HMAC the "signing" M-Pesa puts on its callbacks (Daraja signs none).
CALLBACK_KEY = b"callback-key-0042"

Records = list[dict[str, Any]]


# --- simulators whose /_sim/callbacks says something else --------------------------------


def with_callbacks(app: ASGIApp, rewrite: Callable[[Records], Records] | None) -> ASGIApp:
    """``app``, whose ``GET /_sim/callbacks`` answers ``rewrite(records)``, or 404 when
    ``rewrite`` is ``None`` (a simulator that records no callbacks)."""

    async def callbacks(request: Request) -> Response:
        if rewrite is None:
            return Response(status_code=404)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
            records: Records = (await client.get("/_sim/callbacks")).json()
        return JSONResponse(rewrite(records))

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/_sim/callbacks":
            response = await callbacks(Request(scope, receive))
            await response(scope, receive, send)
        else:
            await app(scope, receive, send)

    return wrapped


def signature(body: bytes) -> str:
    return hmac.new(CALLBACK_KEY, body, hashlib.sha256).hexdigest()


def signed(records: Records) -> Records:
    return [
        record
        | {"headers": record["headers"] | {"x-signature": signature(record["body"].encode())}}
        for record in records
    ]


def contradicted(records: Records) -> Records:
    """Each STK callback, then the same one saying the traveller cancelled."""
    doubled: Records = []
    for record in records:
        doubled.append(record)
        body = json.loads(record["body"])
        if "Body" in body:
            body["Body"]["stkCallback"] |= {"ResultCode": 1032, "CallbackMetadata": None}
            doubled.append(record | {"body": json.dumps(body)})
    return doubled


def mpesa_target(
    factory: type[MpesaConnector] = MpesaConnector,
    *,
    rewrite: Callable[[Records], Records] | None = lambda records: records,
    signed_callbacks: bool = False,
) -> ConformanceTarget:
    wallet = SimulatedWallet(
        shortcode="600584",
        passkey="passkey-0042",
        consumer_key="hub-key",
        consumer_secret="hub-secret-0042",
        initiator_name="causeway_api",
        security_credential="ENCRYPTED-0042==",
        accounts=[
            SimulatedAccount(RICH, 10_000_000, "Wanjiku"),
            SimulatedAccount(POOR, 50_000, "Otieno"),
        ],
        access_token="token-0042",
    )
    settings = {
        "consumer_key": wallet.consumer_key,
        "consumer_secret": wallet.consumer_secret,
        "shortcode": wallet.shortcode,
        "passkey": wallet.passkey,
        "callback_url": "https://hub.example/callbacks/mpesa",
        "initiator_name": wallet.initiator_name,
        "security_credential": wallet.security_credential,
        "access_token": wallet.access_token,
        "currencies": ["KES"],
        "regions": ["KE"],
    }
    return ConformanceTarget(
        name="mpesa-variant",
        connect=lambda url: factory("variant", settings | {"base_url": url}),
        simulator=with_callbacks(create_simulator(wallet), rewrite),
        wallet_currency="KES",
        payment_currency="USD",
        payer=RICH,
        poor_payer=POOR,
        pay_to_amount=258_000,
        payment_amount=2_000,
        signed_callbacks=signed_callbacks,
    )


# --- M-Pesa with one thing wrong ---------------------------------------------------------

#: A CheckoutRequestID M-Pesa never issued.
MADE_UP = "ws_CO_00000000000000000000"


def guessed(request: InquireRequest) -> InquireRequest:
    return request if request.wallet_payment_id else replace(request, wallet_payment_id=MADE_UP)


class GuessingMpesa(MpesaConnector):
    """Without the CheckoutRequestID, queries a made-up one and believes "no such push"."""

    def build_inquire(self, request: InquireRequest) -> httpx.Request:
        return super().build_inquire(guessed(request))

    def parse_inquire(self, request: InquireRequest, response: httpx.Response) -> PaymentResult:
        return super().parse_inquire(guessed(request), response)


class CautiousMpesa(GuessingMpesa):
    """Queries a made-up id too, but reads the answer to a guess as what it is: nothing."""

    def parse_inquire(self, request: InquireRequest, response: httpx.Response) -> PaymentResult:
        if request.wallet_payment_id is None:
            return PaymentResult.pending("asked without the CheckoutRequestID")
        return super().parse_inquire(request, response)


class CredulousMpesa(MpesaConnector):
    """Reads every STK callback as a success."""

    def parse_notification(self, request: httpx.Request) -> WalletNotification:
        notification = super().parse_notification(request)
        if notification.payment is None:
            return notification
        return replace(notification, payment=PaymentResult.succeeded(wallet_payment_id="X"))


class CarelessMpesa(MpesaConnector):
    """Answers every callback with an error, so M-Pesa would think none arrived."""

    def acknowledge(self, notification: WalletNotification | None) -> httpx.Response:
        return httpx.Response(500)


class LenientMpesa(MpesaConnector):
    """Reads a callback it cannot understand as a payment still pending."""

    def parse_notification(self, request: httpx.Request) -> WalletNotification:
        try:
            return super().parse_notification(request)
        except WalletProtocolError:
            return WalletNotification.for_payment(PaymentResult.pending("?"), wallet_payment_id="?")


class MemoMpesa(MpesaConnector):
    """Keeps what it parsed, by MerchantRequestID: state a connector must not have."""

    def __init__(self, name: str, settings: dict[str, Any]) -> None:
        super().__init__(name, settings)
        self._read: dict[str, WalletNotification] = {}

    def parse_notification(self, request: httpx.Request) -> WalletNotification:
        merchant = json.loads(request.content).get("Body", {}).get("stkCallback", {})
        key = str(merchant.get("MerchantRequestID"))
        if key not in self._read:
            self._read[key] = super().parse_notification(request)
        return self._read[key]


class VerifyingMpesa(MpesaConnector):
    """M-Pesa as if Daraja signed its callbacks (an HMAC of the body), verifying them."""

    def parse_notification(self, request: httpx.Request) -> WalletNotification:
        given = request.headers.get("x-signature", "")
        if not hmac.compare_digest(given, signature(request.content)):
            raise WalletProtocolError("callback: bad signature", connector=self.name)
        return super().parse_notification(request)


async def fails(scenario: Awaitable[None], match: str) -> None:
    """``scenario`` fails with a message matching ``match``: it neither passes nor skips
    (a skip would let a kit that stopped checking go unnoticed)."""
    try:
        with pytest.raises(AssertionError, match=match):
            await scenario
    except pytest.skip.Exception as skipped:
        pytest.fail(f"the scenario skipped instead of failing: {skipped}")


# --- inquiry_by_request_id=False ---------------------------------------------------------


async def test_without_the_wallet_id_mpesa_claims_nothing_and_the_scenarios_skip() -> None:
    async with open_wallet(mpesa_target()) as wallet:
        with pytest.raises(pytest.skip.Exception, match="inquiry_by_request_id=False"):
            await SUITE.test_inquiry_of_an_unknown_payment_is_order_not_exist(wallet)
        with pytest.raises(pytest.skip.Exception, match="inquiry_by_request_id=False"):
            await SUITE.test_a_timeout_is_resolved_by_inquiry(wallet)


async def test_a_connector_that_guesses_without_the_wallet_id_fails_the_kit() -> None:
    async with open_wallet(mpesa_target(GuessingMpesa)) as wallet:
        await fails(
            SUITE.test_inquiry_of_an_unknown_payment_is_order_not_exist(wallet),
            "ORDER_NOT_EXIST: the core would take a guess",
        )
        # The same, for a payment M-Pesa did receive (and charged) but whose answer was lost.
        await fails(
            SUITE.test_a_timeout_is_resolved_by_inquiry(wallet), "inquiry_by_request_id=False, yet"
        )


async def test_a_pending_answer_without_the_wallet_id_is_a_safe_one() -> None:
    async with open_wallet(mpesa_target(CautiousMpesa)) as wallet:
        with pytest.raises(pytest.skip.Exception, match="claims nothing"):
            await SUITE.test_inquiry_of_an_unknown_payment_is_order_not_exist(wallet)
        assert any(isinstance(x, InquireRequest) for x in wallet.exchanged)  # it did ask


# --- amount_step ---------------------------------------------------------------------------


async def test_a_target_off_the_amount_step_fails_the_kit() -> None:
    off_step = replace(mpesa_target(), pay_to_amount=258_050)
    async with open_wallet(off_step) as wallet:
        await fails(
            SUITE.test_capabilities_are_honest(wallet), "not a multiple of the amount_step 100"
        )


async def test_a_connector_that_rounds_to_the_step_fails_the_kit() -> None:
    class RoundingMpesa(MpesaConnector):
        """Charges whole shillings by dropping the cents, instead of refusing them."""

        def build_pay(self, request: PayRequest) -> httpx.Request:
            whole = request.pay_to_amount.value // 100 * 100
            return super().build_pay(
                replace(request, pay_to_amount=replace(request.pay_to_amount, value=whole))
            )

    async with open_wallet(mpesa_target(RoundingMpesa)) as wallet:
        with pytest.raises(pytest.fail.Exception, match="DID NOT RAISE"):
            await SUITE.test_capabilities_are_honest(wallet)


# --- resolving by callbacks --------------------------------------------------------------


async def test_the_kit_reads_recorded_callbacks_as_requests_to_the_hub() -> None:
    async with open_wallet(mpesa_target()) as wallet:
        assert await wallet.records_callbacks()
        request = wallet.new_pay()
        paid = await wallet.paid(request)
        (callback,) = await wallet.callbacks()
        assert (callback.method, str(callback.url.copy_with(query=None))) == (
            "POST",
            "https://causeway-hub.invalid/callbacks/mpesa",
        )
        assert callback.url.params["ref"] == request.wallet_request_id  # its query kept
        # Resolved by the callback: the payment is named by the receipt a refund needs.
        assert paid.wallet_payment_id == (await wallet.ledger())[0]["receipt"]
        assert len(wallet.wallet_payment_ids(request.wallet_request_id)) == 2
        assert any(isinstance(x, WalletNotification) for x in wallet.exchanged)


async def test_without_recorded_callbacks_a_payment_is_resolved_by_inquiry() -> None:
    async with open_wallet(mpesa_target(rewrite=None)) as wallet:
        assert not await wallet.records_callbacks()
        await SUITE.test_pay_succeeds(wallet)
        with pytest.raises(pytest.skip.Exception, match="does not record callbacks"):
            await SUITE.test_callbacks_report_what_an_inquiry_reports(wallet)
        assert not any(isinstance(x, WalletNotification) for x in wallet.exchanged)


async def test_a_connector_misreading_callbacks_fails_the_kit() -> None:
    async with open_wallet(mpesa_target(CredulousMpesa)) as wallet:
        await fails(
            SUITE.test_callbacks_report_what_an_inquiry_reports(wallet),
            "poor payer's payment: the callback says",
        )


async def test_a_connector_acknowledging_with_an_error_fails_the_kit() -> None:
    async with open_wallet(mpesa_target(CarelessMpesa)) as wallet:
        await fails(SUITE.test_pay_succeeds(wallet), r"acknowledge\(\) answered HTTP 500")


async def test_callbacks_that_contradict_each_other_fail_the_kit() -> None:
    async with open_wallet(mpesa_target(rewrite=contradicted)) as wallet:
        await fails(SUITE.test_pay_succeeds(wallet), "callbacks about one operation disagree")


# --- forged and garbled callbacks ----------------------------------------------------------


async def test_mpesa_reads_a_callback_about_a_payment_it_cannot_know() -> None:
    async with open_wallet(mpesa_target()) as wallet:
        await SUITE.test_a_forged_or_garbled_callback_is_refused(wallet)
    read = [
        x.wallet_payment_id
        for x in wallet.exchanged
        if isinstance(x, WalletNotification) and x.wallet_payment_id
    ]
    # Unsigned: the callback rewritten to another CheckoutRequestID was read, naming it.
    assert any(other_id(checkout) in read for checkout in read)


async def test_a_connector_not_reading_the_id_from_the_callback_fails_the_kit() -> None:
    async with open_wallet(mpesa_target(MemoMpesa)) as wallet:
        await fails(
            SUITE.test_a_forged_or_garbled_callback_is_refused(wallet),
            # The first rewrite, of our id on the URL, is read as the payment first read.
            "naming another wallet_request_id was read as naming 'P",
        )


async def test_a_connector_reading_garbage_fails_the_kit() -> None:
    async with open_wallet(mpesa_target(LenientMpesa)) as wallet:
        # Caught at the first callback it should have refused: the one whose signed
        # reference was rewritten, which it read as naming no payment of ours at all.
        await fails(
            SUITE.test_a_forged_or_garbled_callback_is_refused(wallet),
            "naming another wallet_request_id was read as naming None",
        )


async def test_a_connector_verifying_signed_callbacks_passes_the_kit() -> None:
    target = mpesa_target(VerifyingMpesa, rewrite=signed, signed_callbacks=True)
    async with open_wallet(target) as wallet:
        assert isinstance(wallet.connector, NotificationParser)
        await SUITE.test_pay_succeeds(wallet)  # genuine callbacks verify
        await SUITE.test_a_forged_or_garbled_callback_is_refused(wallet)


async def test_a_connector_not_verifying_signed_callbacks_fails_the_kit() -> None:
    target = mpesa_target(rewrite=signed, signed_callbacks=True)
    async with open_wallet(target) as wallet:
        await fails(
            SUITE.test_a_forged_or_garbled_callback_is_refused(wallet),
            "rewritten to name another wallet_payment_id",
        )


@pytest.mark.parametrize(
    ("value", "other"),
    [("ws_CO_1299", "ws_CO_2300"), ("AG_abz", "BH_bca"), ("ZZ", "AA"), ("--", "--")],
)
def test_another_id_keeps_the_shape(value: str, other: str) -> None:
    assert other_id(value) == other
