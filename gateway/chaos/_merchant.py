"""The merchant side of a chaos run: pays, retries, duplicates, cancels and refunds.

Each payment follows a script drawn from a seeded generator. The merchant behaves as an
Alipay+ acquirer should: it sends the same request again while the answer is unknown or
the gateway cannot be reached, and records every answer it gets (to concurrent duplicates
too), which the auditor compares with the ledger.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import httpx

from gateway.audit import MerchantAnswer
from gateway.chaos._wallets import Traveller
from gateway.client import AcquirerClient, BadResponseSignature

__all__ = ["SCRIPTS", "Merchant"]

#: What the merchant does with a payment, and how often (weights).
SCRIPTS: dict[str, int] = {
    "pay": 30,
    "pay twice at once": 10,
    "cancel": 12,
    "cancel before pay": 4,
    "cancel during pay": 4,
    "refund and cancel at once": 4,
    "refund part": 14,
    "refund all": 8,
    "refund in two": 8,
    "refund too much": 4,
    "refund twice at once": 4,
    "declined": 4,
    "unknown traveller": 2,
    "order code": 8,
}


_NAMES = {"cancelPayment": "cancel"}  # as the auditor names the APIs


@dataclass
class Merchant:
    """Plays the scripts against the gateway through ``client``."""

    client: AcquirerClient
    http: httpx.AsyncClient
    run_id: str
    travellers: Sequence[Traveller]
    notify_url: str
    #: psp id → the simulator of each wallet whose traveller can scan an order code
    #: (``POST /_sim/scan``); the order-code script is kept to those wallets.
    scan_urls: Mapping[str, str]
    #: How long to keep asking while an answer stays unknown (seconds).
    patience: float = 60.0
    #: Every answer the merchant got, in the order it got them.
    answers: list[MerchantAnswer] = field(default_factory=list)
    scripts: dict[str, int] = field(default_factory=dict)
    #: Payments started, by the psp id of the traveller's wallet.
    wallets: dict[str, int] = field(default_factory=dict)
    calls: int = 0
    #: Every answer the merchant got, by "api status code".
    codes: dict[str, int] = field(default_factory=dict)
    unreachable: int = 0
    #: How often each of :data:`SCRIPTS` is played (its weights unless given).
    weights: Mapping[str, int] = field(default_factory=lambda: dict(SCRIPTS))
    #: Refunds still unknown when their script gave up: sent again until final.
    open_refunds: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def call(self, api: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """One call; ``None`` when the gateway could not be reached or answered garbage."""
        self.calls += 1
        try:
            return await self.client.call(api, body)
        except (httpx.HTTPError, BadResponseSignature, ValueError):
            self.unreachable += 1
            return None

    async def ask(self, api: str, key: str, body: dict[str, Any]) -> str:
        """One call whose answer is recorded; its status (U when there was none)."""
        return self._record(api, key, await self.call(api, body))

    def _record(self, api: str, key: str, answer: dict[str, Any] | None) -> str:
        if answer is None:
            return "U"
        result = answer.get("result", {})
        status, code = str(result.get("resultStatus", "U")), str(result.get("resultCode"))
        name = _NAMES.get(api, api)
        self.answers.append(MerchantAnswer(name, key, status, code))
        self.codes[f"{name} {status} {code}"] = self.codes.get(f"{name} {status} {code}", 0) + 1
        return status

    async def until_final(self, api: str, key: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """Send ``body`` until the answer is S or F, or patience runs out."""
        give_up = time.monotonic() + self.patience
        wait = 0.3
        while True:
            answer = await self.call(api, body)
            if self._record(api, key, answer) in ("S", "F") or time.monotonic() > give_up:
                return answer
            await asyncio.sleep(wait)
            wait = min(wait * 1.5, 3.0)

    async def play(self, number: int, rng: random.Random) -> None:
        """Play one payment's script."""
        script = rng.choices(list(self.weights), weights=list(self.weights.values()))[0]
        self.scripts[script] = self.scripts.get(script, 0) + 1
        request_id = f"chaos-{self.run_id}-{number:06d}"
        people = [t for t in self.travellers if t.poor == (script == "declined")]
        traveller = rng.choice(people)  # spread over every wallet of the stage
        code = traveller.payment_code
        if script != "order code":  # whose wallet pays an order is known at the scan
            self._started(traveller)
        if script == "unknown traveller":
            code = code[:-4] + "7777"  # the wallet's prefix, nobody's code
        amount = rng.randint(100, 500_000)  # THB minor units
        body = _pay_body(request_id, code, amount, self.notify_url if rng.random() < 0.9 else None)
        if script == "order code":
            await self._order(request_id, amount, rng)
            return
        if script == "cancel before pay":
            await self.until_final("cancelPayment", request_id, {"paymentRequestId": request_id})
        if script == "pay twice at once":
            await asyncio.gather(
                self.ask("pay", request_id, body), self.ask("pay", request_id, body)
            )
        if script == "cancel during pay":
            # The cancel overtakes the pay, or waits for it and reverses it: a cancel wins.
            cancel = {"paymentRequestId": request_id}
            await asyncio.gather(
                self.ask("pay", request_id, body),
                self._after(0.05, "cancelPayment", request_id, cancel),
            )
        status = await self.ask("pay", request_id, body)
        if script == "cancel":
            # Straight after the first answer, whatever it was: a cancel of a success
            # reverses it, one of an unknown payment closes it.
            await self.until_final("cancelPayment", request_id, {"paymentRequestId": request_id})
            return
        if status not in ("S", "F"):
            answer = await self.until_final("pay", request_id, body)
            status = "U" if answer is None else answer["result"]["resultStatus"]
        if status != "S" or not script.startswith("refund"):
            return
        if script == "refund and cancel at once":
            # Whichever wins, the other must be refused: never both.
            refund = _refund_body(request_id, f"{request_id}-R1", amount // 2)
            await asyncio.gather(
                self.until_final("refund", f"{request_id}-R1", refund),
                self.until_final("cancelPayment", request_id, {"paymentRequestId": request_id}),
            )
            return
        refunds = {
            "refund part": [amount // 3],
            "refund all": [amount],
            "refund in two": [amount // 2, amount - amount // 2],
            "refund too much": [amount // 2, amount],  # the second exceeds what is left
            "refund twice at once": [amount // 4],
        }[script]
        for n, value in enumerate(refunds, start=1):
            refund_id = f"{request_id}-R{n}"
            refund = _refund_body(request_id, refund_id, value)
            if script == "refund twice at once":
                await asyncio.gather(
                    self.ask("refund", refund_id, refund), self.ask("refund", refund_id, refund)
                )
            answer = await self.until_final("refund", refund_id, refund)
            if answer is None or answer["result"]["resultStatus"] not in ("S", "F"):
                self.open_refunds[refund_id] = refund

    async def _order(self, request_id: str, amount: int, rng: random.Random) -> None:
        """The merchant shows a QR; a traveller scans it with their wallet, whose reports
        to the hub may be lost, repeated or late; the merchant inquires until it ends."""
        body = _pay_body(request_id, "", amount, self.notify_url)
        del body["paymentMethod"]["paymentMethodId"]
        body["paymentFactor"]["inStorePaymentScenario"] = "OrderCode"
        body["order"]["merchant"]["merchantAddress"]["city"] = "Bangkok"
        give_up = time.monotonic() + self.patience
        answer = await self.call("pay", body)
        while answer is None and time.monotonic() < give_up:
            await asyncio.sleep(0.5)
            answer = await self.call("pay", body)
        self._record("pay", request_id, answer)
        try:
            code = str((answer or {})["orderCodeForm"]["codeDetails"][0]["codeValue"])
        except (KeyError, IndexError, TypeError):
            return
        scanners = [t for t in self.travellers if not t.poor and t.wallet in self.scan_urls]
        if not scanners:
            return  # no wallet of the stage scans: the order expires unpaid
        traveller = rng.choice(scanners)
        self._started(traveller)
        scan = {
            "code_value": code,
            "customer_id": traveller.customer_id,
            "reports": rng.choice([0, 1, 1, 2, 3]),
            "report_delay_seconds": rng.choice([0, 0, 1, 3]),
        }
        # The wallet's app talks to the hub itself; if the hub is down, the traveller's
        # attempt fails and the order stays unpaid (or paid and unreported).
        with suppress(httpx.HTTPError):
            await self.http.post(self.scan_urls[traveller.wallet] + "/_sim/scan", json=scan)
        wait = 0.5
        while time.monotonic() < give_up:
            inquiry = await self.call("inquiryPayment", {"paymentRequestId": request_id})
            status = (inquiry or {}).get("paymentStatus")
            if status in ("SUCCEEDED", "FAILED", "CANCELLED"):
                return
            await asyncio.sleep(wait)
            wait = min(wait * 1.5, 3.0)

    def _started(self, traveller: Traveller) -> None:
        self.wallets[traveller.wallet] = self.wallets.get(traveller.wallet, 0) + 1

    async def _after(self, seconds: float, api: str, key: str, body: dict[str, Any]) -> None:
        await asyncio.sleep(seconds)
        await self.until_final(api, key, body)

    async def finish_refunds(self) -> int:
        """Send every refund still unknown once more; how many remain unknown."""
        for refund_id, refund in list(self.open_refunds.items()):
            if await self.ask("refund", refund_id, refund) in ("S", "F"):
                del self.open_refunds[refund_id]
        return len(self.open_refunds)


def _pay_body(request_id: str, code: str, amount: int, notify_url: str | None) -> dict[str, Any]:
    money = {"currency": "THB", "value": str(amount)}
    body: dict[str, Any] = {
        "paymentRequestId": request_id,
        "paymentAmount": money,
        "order": {
            "referenceOrderId": f"ORD-{request_id}",
            "orderDescription": "Chaos noodles",
            "orderAmount": dict(money),
            "merchant": {
                "referenceMerchantId": "TH-CHAOS-01",
                "merchantMCC": "5812",
                "merchantName": "Chaos Kitchen",
                "merchantAddress": {"region": "TH"},
            },
        },
        "paymentMethod": {"paymentMethodType": "CONNECT_WALLET", "paymentMethodId": code},
        "paymentFactor": {"isInStorePayment": "true", "inStorePaymentScenario": "PaymentCode"},
    }
    if notify_url:
        body["paymentNotifyUrl"] = notify_url
    return body


def _refund_body(request_id: str, refund_id: str, value: int) -> dict[str, Any]:
    return {
        "paymentRequestId": request_id,
        "refundRequestId": refund_id,
        "refundAmount": {"currency": "THB", "value": str(value)},
        "refundReason": "chaos",
    }
