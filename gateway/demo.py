"""``causeway demo``: the gateway and six simulated wallets on loopback, and a short story.

A Korean traveller pays a Bangkok merchant in THB from KakaoPay (KRW); a Filipino
traveller pays in Tokyo with GCash (PHP); a request is replayed; part of a payment is
refunded; a traveller with too little balance is declined; the Bangkok merchant shows an
order QR (in the terminal and as a PNG), the traveller scans it with KakaoPay, and the
merchant is notified. Every step goes through the
signed acquiring API over real HTTP, and each is printed with both currencies and the quote.
"""

from __future__ import annotations

import asyncio
import io
import secrets
import tomllib
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import segno
from rich.console import Console
from rich.table import Table

from connectors import RsaSigner, RsaVerifier
from fx import Money
from gateway.api import create_app
from gateway.client import AcquirerClient
from gateway.config import Environment, Settings, load_settings
from gateway.local import (
    DEMO_ACCOUNTS,
    AcquirerInbox,
    ensure_local_keys,
    serve,
    serve_all,
    simulator_app,
    with_route_urls,
)

__all__ = ["DemoSetup", "prepare_demo", "run_demo"]


def _money(amount: dict[str, str] | None) -> str:
    if not amount:
        return "—"
    return str(Money(amount["currency"], int(amount["value"])))


def _pay_body(
    request_id: str, amount: tuple[str, int], code: str, merchant: tuple[str, str, str]
) -> dict[str, Any]:
    currency, value = amount
    merchant_id, name, region = merchant
    wire_amount = {"currency": currency, "value": str(value)}
    return {
        "paymentRequestId": request_id,
        "paymentAmount": wire_amount,
        "order": {
            "referenceOrderId": f"ORD-{request_id}",
            "orderDescription": f"Purchase at {name}",
            "orderAmount": wire_amount,
            "merchant": {
                "referenceMerchantId": merchant_id,
                "merchantMCC": "5812",
                "merchantName": name,
                "merchantAddress": {"region": region},
                "store": {"referenceStoreId": f"{merchant_id}-01", "storeName": name},
            },
        },
        "paymentMethod": {"paymentMethodType": "CONNECT_WALLET", "paymentMethodId": code},
        "paymentFactor": {"isInStorePayment": "true", "inStorePaymentScenario": "PaymentCode"},
    }


class _Story:
    def __init__(self, console: Console) -> None:
        self.console = console

    def step(self, title: str, answer: dict[str, Any], rows: list[tuple[str, str]]) -> None:
        result = answer["result"]
        colour = {"S": "green", "F": "red", "U": "yellow"}[result["resultStatus"]]
        table = Table(title=title, title_justify="left", show_header=False, min_width=72)
        table.add_column(style="bold")
        table.add_column()
        table.add_row(
            "result",
            f"[{colour}]{result['resultStatus']} {result['resultCode']}[/] — "
            f"{result['resultMessage']}",
        )
        for name, value in rows:
            table.add_row(name, value)
        self.console.print(table)

    def payment(self, title: str, answer: dict[str, Any], extra: list[tuple[str, str]]) -> None:
        quote = answer.get("paymentQuote")
        rows = [
            ("wallet", f"{answer.get('walletBrandName', '—')} ({answer.get('pspId', '—')})"),
            ("merchant charged", _money(answer.get("paymentAmount"))),
            ("traveller pays", _money(answer.get("payToAmount"))),
            (
                "quote",
                f"{quote['quoteCurrencyPair']} @ {quote['quotePrice']} ({quote['quoteId']})"
                if quote
                else "—",
            ),
            ("acquirer settles", _money(answer.get("settlementAmount"))),
            ("paymentId", answer.get("paymentId", "—")),
            *extra,
        ]
        self.step(title, answer, rows)


@dataclass(frozen=True)
class DemoSetup:
    """What the story needs, prepared before the event loop starts (it reads files)."""

    settings: Settings
    database: Path
    signers: dict[str, RsaSigner] = field(repr=False)
    hub_verifier: RsaVerifier = field(repr=False)
    siam_key: bytes = field(repr=False)
    hub_public_key: bytes = field(repr=False)


def prepare_demo(config: Path, state_dir: Path, console: Console) -> DemoSetup:
    """Make the demo keys if missing and start from an empty demo ledger."""
    raw = tomllib.loads(config.read_text())
    acquirers = [a["client_id"] for a in raw["acquirers"]]
    created = ensure_local_keys(state_dir, acquirers, [w["psp_id"] for w in raw["wallets"]])
    if created:
        console.print(f"[dim]generated {len(created)} demo key pairs in {state_dir / 'keys'}[/]")
    database = state_dir / "demo.db"
    for stale in state_dir.glob("demo.db*"):
        stale.unlink()
    settings = load_settings(
        Environment(
            config=config,
            state_dir=state_dir,
            database_url=f"sqlite+aiosqlite:///{database}",
            redis_url="",
        )
    )
    keys = state_dir / "keys"
    return DemoSetup(
        settings,
        database,
        {a: RsaSigner((keys / f"acquirer-{a}.pem").read_bytes()) for a in acquirers},
        RsaVerifier((keys / "hub.pub.pem").read_bytes()),
        (keys / "acquirer-SIAM_ACQ.pem").read_bytes(),
        (keys / "hub.pub.pem").read_bytes(),
    )


async def run_demo(setup: DemoSetup, console: Console) -> bool:
    """Run the story; return whether every step ended as expected."""
    settings, database = setup.settings, setup.database
    story = _Story(console)
    run = secrets.token_hex(3).upper()
    checks: list[bool] = []
    async with AsyncExitStack() as stack:
        wallets = await stack.enter_async_context(
            serve_all([simulator_app(settings, route) for route in settings.routes])
        )
        urls = {
            route.name: server.url for route, server in zip(settings.routes, wallets, strict=True)
        }
        settings = with_route_urls(settings, urls)
        gateway = await stack.enter_async_context(serve(create_app(settings)))
        console.print(
            f"[bold]Causeway[/] gateway on {gateway.url}; "
            f"{len(urls)} simulated wallets on loopback; ledger {database}\n"
        )
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=15))
        for url in urls.values():  # where the wallets' apps reach the hub
            (await http.post(url + "/_sim/hub", json={"url": gateway.url})).raise_for_status()
        inbox = AcquirerInbox("SIAM_ACQ", setup.siam_key, setup.hub_public_key)
        inbox_url = (await stack.enter_async_context(serve(inbox.app))).url + inbox.PATH

        def client(acquirer: str) -> AcquirerClient:
            signer = setup.signers[acquirer]
            return AcquirerClient(http, gateway.url, acquirer, signer, setup.hub_verifier)

        siam, tokyo = client("SIAM_ACQ"), client("TOKYO_ACQ")
        kim = DEMO_ACCOUNTS["KAKAOPAY"][0]
        maria, jose = DEMO_ACCOUNTS["GCASH"]
        bangkok = ("TH-BKK-0042", "Baan Somtum, Bangkok", "TH")
        tokyo_shop = ("JP-TYO-0007", "Ginza Sushi Kyubey", "JP")

        first = _pay_body(f"SIAM-{run}-1", ("THB", 125_000), kim[2], bangkok)
        answer = await siam.call("pay", first)
        story.payment(f"1. {kim[1]} pays a Bangkok merchant from KakaoPay", answer, [])
        checks.append(answer["result"]["resultStatus"] == "S")
        payment_id = answer.get("paymentId")

        answer = await tokyo.call(
            "pay", _pay_body(f"TYO-{run}-1", ("JPY", 3_800), maria[2], tokyo_shop)
        )
        story.payment(f"2. {maria[1]} pays in Tokyo with GCash", answer, [])
        checks.append(answer["result"]["resultStatus"] == "S")

        replay = await siam.call("pay", first)
        stats = (await http.get(urls["kakaopay-aps"] + "/_sim/stats")).json()
        story.payment(
            "3. The acquirer's retry of step 1 is answered from the ledger",
            replay,
            [
                ("same paymentId", "yes" if replay.get("paymentId") == payment_id else "NO"),
                (
                    "KakaoPay charges",
                    f"{stats['charges']} (pay requests seen: {stats['pay_requests']})",
                ),
            ],
        )
        checks.append(replay.get("paymentId") == payment_id and stats["charges"] == 1)

        refund = await siam.call(
            "refund",
            {
                "paymentRequestId": first["paymentRequestId"],
                "refundRequestId": f"SIAM-{run}-1-R1",
                "refundAmount": {"currency": "THB", "value": "25000"},
                "refundReason": "one dish returned",
            },
        )
        story.step(
            "4. A partial refund of THB 250.00, at the payment's own quote",
            refund,
            [
                ("refunded to merchant's customer", _money(refund.get("refundAmount"))),
                ("back to the traveller", _money(refund.get("refundFromAmount"))),
                ("taken from acquirer settlement", _money(refund.get("settlementAmount"))),
                ("refundId", refund.get("refundId", "—")),
            ],
        )
        checks.append(refund["result"]["resultStatus"] == "S")

        declined = await tokyo.call(
            "pay", _pay_body(f"TYO-{run}-2", ("JPY", 12_000), jose[2], tokyo_shop)
        )
        story.payment(f"5. {jose[1]} has too little in GCash", declined, [])
        checks.append(declined["result"]["resultCode"] == "USER_BALANCE_NOT_ENOUGH")

        order = _pay_body(f"SIAM-{run}-2", ("THB", 42_000), "", bangkok)
        order["paymentMethod"] = {"paymentMethodType": "CONNECT_WALLET"}
        order["paymentFactor"] = {"isInStorePayment": "true", "inStorePaymentScenario": "OrderCode"}
        order["order"]["merchant"]["merchantAddress"]["city"] = "Bangkok"
        order["paymentNotifyUrl"] = inbox_url
        shown = await siam.call("pay", order)
        code = shown["orderCodeForm"]["codeDetails"][0]["codeValue"]
        qr = segno.make(code, error="m")
        png = setup.database.parent / "order-qr.png"
        qr.save(str(png), scale=6)
        picture = io.StringIO()
        qr.terminal(out=picture, compact=True)
        console.print(
            "[bold]6. The Bangkok merchant shows an order QR; Kim scans it with KakaoPay[/]"
        )
        console.print(picture.getvalue(), markup=False, highlight=False, end="")
        console.print(f"[dim]EMVCo payload {code}\nalso saved as {png}[/]", overflow="fold")
        scanned = (
            await http.post(
                urls["kakaopay-aps"] + "/_sim/scan",
                json={"code_value": code, "customer_id": kim[0]},
            )
        ).json()
        paid = await siam.call("inquiryPayment", {"paymentRequestId": order["paymentRequestId"]})
        for _ in range(100):  # the merchant's notification, delivered by the dispatcher
            if inbox.received:
                break
            await asyncio.sleep(0.05)
        story.payment(
            "   … and the payment, as the acquirer sees it",
            {**paid, "result": paid["paymentResult"]},
            [("merchant notified", "yes, signed" if inbox.received else "NO")],
        )
        checks.append(scanned.get("charge", {}).get("resultStatus") == "S" and bool(inbox.received))

    ok = all(checks)
    console.print(
        "[green]Every step ended as expected.[/]"
        if ok
        else "[red]A step did not end as expected.[/]"
    )
    return ok
