"""Merchant notifications: ``notifyPayment`` to the acquirer, until it acknowledges.

The engine writes a notification into the outbox in the transaction that makes a payment
final (S or F only); the :class:`Dispatcher` delivers it, signed like every other message,
and retries on the :data:`SCHEDULE` (16 attempts over about 18 hours) until the acquirer
answers with a *signed* ``S`` result. Every attempt carries the same body and the same
``Causeway-Notification-Id``, so an acquirer can deduplicate. The outbox lives in the
ledger, so delivery survives a restart; claims are leases, so several gateway instances
share the work without sending one notification twice at the same time.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectors import RsaSigner, RsaVerifier, signed_content
from gateway.answers import payment_result
from gateway.models import Notification, Payment
from gateway.store import Store
from gateway.wire import amount_json, compact, quote_json, result_json

__all__ = ["SCHEDULE", "Dispatcher", "notification_body"]

log = logging.getLogger("causeway.notifications")

#: Seconds to wait before each attempt: at once, then 1 min, 2 × 5 min, 5 × 10 min,
#: 5 × 1 h and 2 × 6 h — sixteen attempts over about eighteen hours.
SCHEDULE: tuple[float, ...] = (
    0,
    60,
    300,
    300,
    600,
    600,
    600,
    600,
    600,
    3600,
    3600,
    3600,
    3600,
    3600,
    21600,
    21600,
)


def notification_body(payment: Payment, wallet_name: str) -> str:
    """The frozen ``notifyPayment`` body for a payment that has just become final."""
    code, message = payment_result(payment)
    document = compact(
        {
            "paymentResult": result_json(code, message),
            "paymentRequestId": payment.payment_request_id,
            "paymentId": payment.payment_id,
            "acquirerId": payment.acquirer_id,
            "pspId": payment.wallet,
            "walletBrandName": wallet_name,
            "customerId": payment.customer_id,
            "paymentAmount": amount_json(payment.amount),
            "paymentTime": payment.completed_at.isoformat() if payment.completed_at else None,
            "settlementAmount": amount_json(payment.settlement_amount),
            "settlementQuote": quote_json(payment.settlement_quote),
        }
    )
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


class Dispatcher:
    """Delivers the outbox, one pass per call of :meth:`deliver_due` (the hub calls it
    every ``poll_seconds``; tests drive it with their own clock)."""

    def __init__(
        self,
        store: Store,
        http: httpx.AsyncClient,
        signer: RsaSigner,
        acquirer_keys: Mapping[str, RsaVerifier],
        *,
        schedule: Sequence[float] = SCHEDULE,
        lease: timedelta = timedelta(seconds=60),
        batch: int = 50,
        deadline: float = 10.0,
    ) -> None:
        self._store = store
        self._http = http
        self._signer = signer
        self._acquirer_keys = acquirer_keys
        self._schedule = tuple(schedule)
        self._lease = lease
        self._batch = batch
        # The whole delivery (a free connection, connecting, sending, the answer) ends
        # within this; the configuration keeps it shorter than the lease.
        self._deadline = deadline

    async def deliver_due(self, now: datetime | None = None) -> int:
        """One pass: claim what is due and attempt each; return how many were delivered."""
        moment = now or datetime.now(UTC)
        claimed = await self._store.claim_notifications(
            moment, lease=self._lease, limit=self._batch
        )
        outcomes = await asyncio.gather(*(self._attempt(n, moment) for n in claimed))
        return sum(outcomes)

    async def _attempt(self, notification: Notification, now: datetime) -> bool:
        error = await self._send(notification)
        delivered = error is None
        attempt = notification.attempts + 1
        retry_at = (
            None
            if delivered or attempt >= len(self._schedule)
            else now + timedelta(seconds=self._schedule[attempt])
        )
        await self._store.record_attempt(
            notification, delivered=delivered, error=error, retry_at=retry_at
        )
        if not delivered:
            level = logging.WARNING if retry_at is None else logging.INFO
            log.log(
                level,
                "notification %s attempt %d failed: %s%s",
                notification.notification_id,
                attempt,
                error,
                "" if retry_at else "; giving up",
            )
        return delivered

    async def _send(self, notification: Notification) -> str | None:
        """Send once; ``None`` when the acquirer acknowledged, else why not."""
        body = notification.body.encode()
        url = httpx.URL(notification.url)
        request_time = datetime.now(UTC).isoformat(timespec="seconds")
        client_id = notification.acquirer_id
        content = signed_content("POST", url.raw_path.decode(), client_id, request_time, body)
        try:
            async with asyncio.timeout(self._deadline):
                response = await self._http.post(
                    url,
                    content=body,
                    headers={
                        "Content-Type": "application/json; charset=UTF-8",
                        "Client-Id": client_id,
                        "Request-Time": request_time,
                        "Signature": self._signer.header(content),
                        "Causeway-Notification-Id": notification.notification_id,
                    },
                )
        except (httpx.HTTPError, TimeoutError) as exc:
            return f"{type(exc).__name__} from {url.host}"
        return self._acknowledged(notification, url, response)

    def _acknowledged(
        self, notification: Notification, url: httpx.URL, response: httpx.Response
    ) -> str | None:
        if response.status_code != 200:
            return f"HTTP {response.status_code}"
        verifier = self._acquirer_keys.get(notification.acquirer_id)
        content = signed_content(
            "POST",
            url.raw_path.decode(),
            response.headers.get("client-id", ""),
            response.headers.get("response-time", ""),
            response.content,
        )
        if verifier is None or not verifier.verify(content, response.headers.get("signature", "")):
            return "the acknowledgement is not signed by the acquirer"
        try:
            document: Any = response.json()
            status = document["result"]["resultStatus"]
        except (ValueError, KeyError, TypeError):
            return "the acknowledgement has no result"
        return None if status == "S" else f"the acquirer answered {status}"
