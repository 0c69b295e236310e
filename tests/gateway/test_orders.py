"""Merchant-presented order codes and cashier orders, claimed by a wallet.

The wallet here is driven by hand with its own signing key (the Alipay+ MPP side), so each
step of the flow is checked; test_mpm.py runs the same flow through the simulated wallet.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from connectors import RsaSigner, RsaVerifier
from gateway.client import AcquirerClient
from gateway.orders import QR_GUID
from routing import emvco
from tests.conftest import Backend
from tests.gateway.conftest import LocalHub, local_hub, pay_body

pytestmark = pytest.mark.anyio


def order_body(request_id: str, **extra: Any) -> dict[str, Any]:
    body = pay_body(request_id, **extra)
    del body["paymentMethod"]["paymentMethodId"]
    body["paymentFactor"] = {"isInStorePayment": "true", "inStorePaymentScenario": "OrderCode"}
    body["order"]["merchant"]["merchantAddress"]["city"] = "Bangkok"
    return body


def wallet_client(hub: LocalHub, psp_id: str) -> AcquirerClient:
    """The hub's API as a wallet on the Alipay+ protocol calls it, signed as that wallet."""
    keys = hub.state_dir / "keys"
    return AcquirerClient(
        hub.http,
        hub.url,
        psp_id,
        RsaSigner((keys / f"wallet-{psp_id}.pem").read_bytes()),
        RsaVerifier((keys / "hub.pub.pem").read_bytes()),
    )


async def _code(hub: LocalHub, request_id: str, **extra: Any) -> str:
    answer = await hub.siam.call("pay", order_body(request_id, **extra))
    assert answer["result"]["resultCode"] == "PAYMENT_IN_PROCESS", answer
    return str(answer["orderCodeForm"]["codeDetails"][0]["codeValue"])


async def test_an_order_code_is_an_emvco_qr_naming_the_order(hub: LocalHub) -> None:
    answer = await hub.siam.call("pay", order_body("mpm-1"))

    assert answer["result"]["resultStatus"] == "U"
    code = answer["orderCodeForm"]["codeDetails"][0]["codeValue"]
    fields = emvco.decode(code)  # raises if the TLV or the CRC is wrong
    assert fields["26.00"] == QR_GUID
    assert fields["53"] == "764"  # THB
    assert fields["54"] == "1250.00"
    assert fields["58"] == "TH"
    assert fields["60"] == "Bangkok"
    assert fields["62.05"] == fields["26.01"]
    expiry = datetime.fromisoformat(answer["orderCodeForm"]["expireTime"])
    assert timedelta(minutes=14) < expiry - datetime.now(UTC) <= timedelta(minutes=15)
    again = await hub.siam.call("pay", order_body("mpm-1"))
    assert again["orderCodeForm"] == answer["orderCodeForm"]  # the same order, replayed
    inquiry = await hub.siam.call("inquiryPayment", {"paymentRequestId": "mpm-1"})
    assert inquiry["paymentResult"]["resultStatus"] == "U"
    assert inquiry["paymentStatus"] == "WAITING"


async def test_a_wallet_claims_the_order_and_reports_the_charge(hub: LocalHub) -> None:
    code = await _code(hub, "mpm-2")
    kakao = wallet_client(hub, "KAKAOPAY")

    claim = await kakao.call("userInitiatedPay", {"codeValue": code, "customerId": "KP-0001"})

    assert claim["result"]["resultStatus"] == "S"
    assert claim["paymentAmount"] == {"currency": "THB", "value": "125000"}
    assert claim["payToAmount"]["currency"] == "KRW"
    price = Decimal(claim["paymentQuote"]["quotePrice"])
    assert Decimal(claim["payToAmount"]["value"]) == (Decimal("1250.00") * price).quantize(
        Decimal("1")
    )
    retry = await kakao.call("userInitiatedPay", {"codeValue": code, "customerId": "KP-0001"})
    assert retry["paymentRequestId"] == claim["paymentRequestId"]
    other = await wallet_client(hub, "GCASH").call("userInitiatedPay", {"codeValue": code})
    assert other["result"]["resultCode"] == "ORDER_IS_CLOSED"

    report = {
        "paymentRequestId": claim["paymentRequestId"],
        "paymentResult": {"resultStatus": "S", "resultCode": "SUCCESS"},
        "paymentId": "KP-W-1",
        "customerId": "KP-0001",
        "payToAmount": claim["payToAmount"],
    }
    ack = await kakao.call("notifyPayment", report)
    duplicate = await kakao.call("notifyPayment", report)
    late_failure = await kakao.call(
        "notifyPayment",
        {**report, "paymentResult": {"resultStatus": "F", "resultCode": "RISK_REJECT"}},
    )

    assert ack["result"]["resultStatus"] == duplicate["result"]["resultStatus"] == "S"
    assert late_failure["result"]["resultStatus"] == "S"  # acknowledged, and ignored
    inquiry = await hub.siam.call("inquiryPayment", {"paymentRequestId": "mpm-2"})
    assert inquiry["paymentStatus"] == "SUCCEEDED"
    assert inquiry["customerId"] == "KP-0001"
    assert inquiry["pspId"] == "KAKAOPAY"


async def test_a_wallet_cannot_report_for_another_or_a_different_amount(hub: LocalHub) -> None:
    code = await _code(hub, "mpm-3")
    claim = await wallet_client(hub, "KAKAOPAY").call("userInitiatedPay", {"codeValue": code})
    report = {
        "paymentRequestId": claim["paymentRequestId"],
        "paymentResult": {"resultStatus": "S", "resultCode": "SUCCESS"},
    }

    stranger = await wallet_client(hub, "GCASH").call("notifyPayment", report)
    wrong_amount = await wallet_client(hub, "KAKAOPAY").call(
        "notifyPayment", {**report, "payToAmount": {"currency": "KRW", "value": "1"}}
    )
    unknown = await wallet_client(hub, "KAKAOPAY").call(
        "notifyPayment", {**report, "paymentRequestId": "P-NOPE"}
    )

    assert stranger["result"]["resultCode"] == "ACCESS_DENIED"
    assert wrong_amount["result"]["resultCode"] == "PARAM_ILLEGAL"
    assert unknown["result"]["resultCode"] == "ORDER_NOT_EXIST"
    inquiry = await hub.siam.call("inquiryPayment", {"paymentRequestId": "mpm-3"})
    assert inquiry["paymentStatus"] == "PENDING"


async def test_a_cancelled_order_cannot_be_claimed(hub: LocalHub) -> None:
    code = await _code(hub, "mpm-4")

    cancelled = await hub.siam.call("cancelPayment", {"paymentRequestId": "mpm-4"})
    claim = await wallet_client(hub, "KAKAOPAY").call("userInitiatedPay", {"codeValue": code})

    assert cancelled["result"]["resultStatus"] == "S"
    assert claim["result"]["resultCode"] == "ORDER_IS_CLOSED"
    assert "cancelled" in claim["result"]["resultMessage"]
    inquiry = await hub.siam.call("inquiryPayment", {"paymentRequestId": "mpm-4"})
    assert inquiry["paymentResult"]["resultCode"] == "ORDER_IS_CLOSED"


async def test_a_pay_with_an_open_orders_request_id_is_refused_and_sends_nothing(
    hub: LocalHub,
) -> None:
    await _code(hub, "mpm-dup")

    paid = await hub.siam.call("pay", pay_body("mpm-dup"))

    assert paid["result"]["resultCode"] == "REPEAT_REQ_INCONSISTENT"
    assert (await hub.stats("kakaopay-aps"))["pay_requests"] == 0


@pytest.fixture
async def short_lived(backend: Backend, state_dir: Path) -> AsyncIterator[LocalHub]:
    async with local_hub(backend, state_dir, order_ttl_seconds=1) as running:
        yield running


async def test_an_expired_order_cannot_be_claimed(short_lived: LocalHub) -> None:
    hub = short_lived
    code = await _code(hub, "mpm-5")
    await asyncio.sleep(1.1)

    claim = await wallet_client(hub, "KAKAOPAY").call("userInitiatedPay", {"codeValue": code})

    assert claim["result"]["resultCode"] == "ORDER_IS_CLOSED"
    assert "expired" in claim["result"]["resultMessage"]
    assert "payToAmount" not in claim


async def test_a_success_reported_after_a_cancel_is_reversed(hub: LocalHub) -> None:
    code = await _code(hub, "mpm-6")
    kakao = wallet_client(hub, "KAKAOPAY")
    claim = await kakao.call("userInitiatedPay", {"codeValue": code})
    cancelled = await hub.siam.call("cancelPayment", {"paymentRequestId": "mpm-6"})

    late = await kakao.call(
        "notifyPayment",
        {
            "paymentRequestId": claim["paymentRequestId"],
            "paymentResult": {"resultStatus": "S", "resultCode": "SUCCESS"},
        },
    )

    assert cancelled["result"]["resultStatus"] == "S"
    assert late["result"]["resultStatus"] == "S"
    inquiry = await hub.siam.call("inquiryPayment", {"paymentRequestId": "mpm-6"})
    assert inquiry["paymentStatus"] == "CANCELLED"  # a cancel wins
    ledger = (await hub.http.get(hub.wallets["kakaopay-aps"] + "/_sim/ledger")).json()
    # The wallet was told twice to cancel: once by the acquirer's cancel, once on the late
    # success; it never charged here, so nothing was reversed, and nothing was charged.
    assert not [e for e in ledger if e["kind"] == "pay"]


async def test_garbage_codes_are_refused(hub: LocalHub) -> None:
    kakao = wallet_client(hub, "KAKAOPAY")
    bad = await kakao.call("userInitiatedPay", {"codeValue": "not a qr"})
    foreign = await kakao.call(
        "userInitiatedPay",
        {"codeValue": emvco.encode([("00", "01"), ("26", [("00", "com.other"), ("01", "X")])])},
    )
    assert bad["result"]["resultCode"] == "PARAM_ILLEGAL"
    assert foreign["result"]["resultCode"] == "ORDER_NOT_EXIST"


async def test_a_cashier_order_sends_the_traveller_to_the_wallets_page(hub: LocalHub) -> None:
    body = order_body("cashier-1")
    body["paymentFactor"] = {"isCashierPayment": "true", "isInStorePayment": "false"}
    body["paymentMethod"] = {"paymentMethodType": "KAKAOPAY"}

    answer = await hub.siam.call("pay", body)

    assert answer["result"]["resultStatus"] == "U"
    assert answer["paymentUrl"].startswith(hub.wallets["kakaopay-aps"] + "/cashier?codeValue=")
    gcash = wallet_client(hub, "GCASH")
    code = parse_qs(urlparse(answer["paymentUrl"]).query)["codeValue"][0]
    stolen = await gcash.call("userInitiatedPay", {"codeValue": code})
    assert stolen["result"]["resultCode"] == "ACCESS_DENIED"
    claim = await wallet_client(hub, "KAKAOPAY").call("userInitiatedPay", {"codeValue": code})
    assert claim["result"]["resultStatus"] == "S"
