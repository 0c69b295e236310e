"""The simulated wallet's app: what a traveller does in it, and the calls it makes to the hub.

Scanning a merchant's order code (or confirming on the wallet's cashier page) makes the
wallet call the hub's ``userInitiatedPay``, signed with the wallet's key, charge the
traveller what the hub answered, and report the result with ``notifyPayment``. The report
can be sent twice or not at all, to test how the hub handles duplicates and silence.
"""

from __future__ import annotations

import asyncio
import html
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from connectors import RsaSigner, RsaVerifier, signed_content
from connectors.alipayplus._sim_book import WalletBook
from connectors.alipayplus._sim_json import now

__all__ = ["Traveller", "cashier_page", "receipt_page"]


@dataclass
class Traveller:
    """Acts for the wallet's users towards the hub at :attr:`hub_url`."""

    book: WalletBook
    lock: asyncio.Lock
    client_id: str
    signer: RsaSigner = field(repr=False)
    hub: RsaVerifier = field(repr=False)
    hub_url: str | None = None
    hub_prefix: str = "/aps/api/v1/payments"
    # Reports sent late, kept referenced until they are done.
    _late: set[asyncio.Task[None]] = field(default_factory=set, init=False, repr=False)

    async def _call(self, client: httpx.AsyncClient, api: str, body: dict[str, Any]) -> Any:
        if self.hub_url is None:
            raise LookupError("no hub URL: POST /_sim/hub first")
        path = f"{self.hub_prefix}/{api}"
        raw = json.dumps(body, separators=(",", ":")).encode()
        moment = now()
        content = signed_content("POST", path, self.client_id, moment, raw)
        response = await client.post(
            self.hub_url.rstrip("/") + path,
            content=raw,
            headers={
                "Content-Type": "application/json; charset=UTF-8",
                "Client-Id": self.client_id,
                "Request-Time": moment,
                "Signature": self.signer.header(content),
            },
        )
        answer = signed_content(
            "POST",
            path,
            response.headers.get("client-id", ""),
            response.headers.get("response-time", ""),
            response.content,
        )
        if not self.hub.verify(answer, response.headers.get("signature", "")):
            raise PermissionError(f"the hub's answer to {api} is not signed by the hub")
        return response.json()

    async def pay_order(
        self, code_value: str, customer_id: str, *, reports: int = 1, late: float = 0
    ) -> dict[str, Any]:
        """Claim the order, charge the traveller, report ``reports`` times; a summary.

        With ``late`` (seconds) the reports are sent that much later, in the background,
        and the summary has no ``acks``.
        """
        async with httpx.AsyncClient(timeout=10) as client:
            claim = await self._call(
                client, "userInitiatedPay", {"codeValue": code_value, "customerId": customer_id}
            )
            if claim["result"]["resultStatus"] != "S":
                return {"claim": claim["result"]}
            pay_to = claim["payToAmount"]
            async with self.lock:
                charged = self.book.charge_claimed(
                    claim["paymentRequestId"],
                    (pay_to["currency"], int(pay_to["value"])),
                    customer_id,
                )
            report = {
                "paymentRequestId": claim["paymentRequestId"],
                "paymentResult": charged["result"],
                "paymentId": charged.get("paymentId"),
                "customerId": customer_id,
                "payToAmount": pay_to,
            }
            if late > 0:
                task = asyncio.create_task(self._report_later(report, reports, late))
                self._late.add(task)
                task.add_done_callback(self._late.discard)
                acks = None
            else:
                acks = [
                    (await self._call(client, "notifyPayment", report))["result"]
                    for _ in range(reports)
                ]
        return {
            "claim": claim["result"],
            "paymentRequestId": claim["paymentRequestId"],
            "paymentAmount": claim["paymentAmount"],
            "payToAmount": pay_to,
            "paymentQuote": claim.get("paymentQuote"),
            "charge": charged["result"],
            **({} if acks is None else {"acks": acks}),
        }

    async def _report_later(self, report: dict[str, Any], reports: int, late: float) -> None:
        await asyncio.sleep(late)
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                for _ in range(reports):
                    await self._call(client, "notifyPayment", report)
        except (httpx.HTTPError, PermissionError, ValueError):
            pass  # a late report that is lost as well: the hub must inquire


def cashier_page(wallet_name: str, code_value: str, accounts: list[dict[str, Any]]) -> str:
    """The wallet's own checkout page for a cashier order: pick an account, confirm."""
    options = "".join(
        f'<option value="{html.escape(a["customer_id"])}">{html.escape(a["name"])}</option>'
        for a in accounts
    )
    return (
        f"<!doctype html><title>{html.escape(wallet_name)} checkout</title>"
        f"<h1>Pay with {html.escape(wallet_name)}</h1>"
        '<form method="post" action="/cashier">'
        f'<input type="hidden" name="codeValue" value="{html.escape(code_value)}">'
        f'<select name="customerId">{options}</select> <button>Confirm</button></form>'
    )


def receipt_page(summary: dict[str, Any]) -> str:
    charge = summary.get("charge") or summary["claim"]
    return (
        "<!doctype html><title>Receipt</title>"
        f"<h1>{html.escape(charge['resultCode'])}</h1>"
        f"<p>{html.escape(charge.get('resultMessage') or '')}</p>"
    )
