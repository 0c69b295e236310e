"""The conformance kit's driver: a target's connector connected to its wallet.

:class:`ConformanceWallet` is what every scenario, and a wallet provider's own script,
drives; :mod:`connectors.conformance` documents the simulator control API it speaks, and
exports it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from secrets import token_hex
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from connectors import (
    Amount,
    CancelRequest,
    CancelResult,
    Connector,
    InquireRequest,
    Merchant,
    NotificationParser,
    Outcome,
    PaymentResult,
    PayRequest,
    QuoteTerms,
    RefundInquiry,
    RefundLookup,
    RefundRequest,
    RefundResult,
    WalletNotification,
    exchange,
)

if TYPE_CHECKING:
    from connectors.conformance import ConformanceTarget

__all__ = ["ConformanceWallet", "SimulatorStats"]

_Request = TypeVar("_Request", PayRequest, InquireRequest, CancelRequest, RefundRequest)
_Result = TypeVar("_Result", PaymentResult, CancelResult, RefundResult)

#: Who the scenarios' payments are for; connectors may need a merchant, never this one.
_MERCHANT = Merchant("M-CONFORMANCE", "Conformance Kit Store", "5812", "SG")

#: Where a recorded callback is addressed when the kit hands it to the connector: the
#: record names only the path, and a ``.invalid`` host can never be reached by mistake.
_HUB_ORIGIN = "https://causeway-hub.invalid"


@dataclass(frozen=True, slots=True)
class SimulatorStats:
    """``GET /_sim/stats``: pay requests received, and those that moved money."""

    pay_requests: int
    charges: int


def _new_id(prefix: str) -> str:
    # The shape of the gateway's own ids, so a connector meets realistic lengths.
    return f"{prefix}{datetime.now(UTC):%Y%m%d%H%M%S}{token_hex(8)}"


def _final(results: Sequence[_Result]) -> _Result | None:
    """The final one of several results about one operation (the last), or ``None``;
    raises ``AssertionError`` when final ones disagree."""
    finals = [result for result in results if result.outcome is not Outcome.PENDING]
    if len({(result.outcome, result.code) for result in finals}) > 1:
        raise AssertionError(f"callbacks about one operation disagree: {finals}")
    return finals[-1] if finals else None


def _remember(ids: dict[str, list[str]], key: str, wallet_id: str | None) -> None:
    known = ids.setdefault(key, [])
    if wallet_id is not None and wallet_id not in known:
        known.append(wallet_id)


class ConformanceWallet:
    """A target's connector connected to its wallet: what every scenario drives.

    Each call builds a request with the connector, sends it through
    :func:`connectors.exchange` and parses the answer; everything built and parsed (and
    every callback read, with its notification and acknowledgement) is kept in
    :attr:`exchanged`, for the scenario that looks for secrets in their reprs. A rule found
    broken outside a scenario's own checks (callbacks that disagree, a callback answered
    with an error) raises ``AssertionError``.
    """

    def __init__(
        self, target: ConformanceTarget, connector: Connector, client: httpx.AsyncClient, url: str
    ) -> None:
        self.target = target
        self.connector = connector
        self.url = url
        self.exchanged: list[object] = []
        self._client = client
        # Every id the wallet gave each payment (and refund), in order, as the core keeps
        # them: an inquiry or a cancel names the payment by the first (M-Pesa's query needs
        # the CheckoutRequestID of the pay answer) even when a later answer names it by
        # another (the receipt a reversal needs); callbacks are matched by any of them.
        self._payment_ids: dict[str, list[str]] = {}
        self._refund_ids: dict[str, list[str]] = {}
        self._records_callbacks: bool | None = None

    @property
    def simulated(self) -> bool:
        """Whether the control API is there (a simulator, not a sandbox)."""
        return self.target.simulator is not None

    @property
    def amount_step(self) -> int:
        """The smallest amount the connector's wallet moves (its ``amount_step``)."""
        return self.connector.capabilities.amount_step

    def new_pay(self, payer: str | None = None) -> PayRequest:
        """A purchase of the target's amounts by ``payer`` (the target's payer by default),
        with fresh ids and a quote of the ratio of the two amounts."""
        target = self.target
        now = datetime.now(UTC)
        price = Decimal(target.pay_to_amount) / Decimal(target.payment_amount)
        return PayRequest(
            wallet_request_id=_new_id("P"),
            acquirer_id="CONFORMANCE_ACQ",
            payment_code=target.payer if payer is None else payer,
            payment_amount=Amount(target.payment_currency, target.payment_amount),
            pay_to_amount=Amount(target.wallet_currency, target.pay_to_amount),
            quote=QuoteTerms(
                quote_id=_new_id("Q"),
                base_currency=target.payment_currency,
                quote_currency=target.wallet_currency,
                price=price.quantize(Decimal("0.00000001"), ROUND_HALF_EVEN),
                start=now,
                expiry=now + timedelta(minutes=10),
            ),
            merchant=_MERCHANT,
            order_description="conformance scenario",
            reference_order_id=_new_id("O"),
        )

    def new_refund(self, pay: PayRequest, paid: PaymentResult, wallet_value: int) -> RefundRequest:
        """A refund of ``wallet_value`` minor units (wallet currency) of ``pay``, with a
        fresh id; the payment-currency amount is its share, rounded down (at least 1)."""
        share = pay.payment_amount.value * wallet_value // pay.pay_to_amount.value
        return RefundRequest(
            refund_request_id=_new_id("R"),
            wallet_request_id=pay.wallet_request_id,
            wallet_payment_id=paid.wallet_payment_id,
            acquirer_id=pay.acquirer_id,
            refund_amount=Amount(pay.payment_amount.currency, max(1, share)),
            refund_from_amount=Amount(pay.pay_to_amount.currency, wallet_value),
            quote=pay.quote,
            reason="conformance scenario",
        )

    def wallet_payment_ids(self, wallet_request_id: str) -> tuple[str, ...]:
        """Every id the wallet has given the payment so far, oldest first."""
        return tuple(self._payment_ids.get(wallet_request_id, ()))

    def wallet_refund_ids(self, refund_request_id: str) -> tuple[str, ...]:
        """Every id the wallet has given the refund so far (its answers and callbacks),
        oldest first."""
        return tuple(self._refund_ids.get(refund_request_id, ()))

    # --- the operations -------------------------------------------------------------------

    async def pay(self, request: PayRequest, *, deadline: float | None = None) -> PaymentResult:
        result = await self._call(
            self.connector.build_pay, self.connector.parse_pay, request, deadline
        )
        _remember(self._payment_ids, request.wallet_request_id, result.wallet_payment_id)
        return result

    async def inquire(self, wallet_request_id: str) -> PaymentResult:
        request = InquireRequest(
            wallet_request_id, "CONFORMANCE_ACQ", self._first_payment_id(wallet_request_id)
        )
        result = await self._call(
            self.connector.build_inquire, self.connector.parse_inquire, request, None
        )
        _remember(self._payment_ids, wallet_request_id, result.wallet_payment_id)
        return result

    def _first_payment_id(self, wallet_request_id: str) -> str | None:
        return next(iter(self._payment_ids.get(wallet_request_id, ())), None)

    async def cancel(self, wallet_request_id: str) -> CancelResult:
        request = CancelRequest(
            wallet_request_id, "CONFORMANCE_ACQ", self._first_payment_id(wallet_request_id)
        )
        return await self._call(
            self.connector.build_cancel, self.connector.parse_cancel, request, None
        )

    async def refund(self, request: RefundRequest) -> RefundResult:
        result = await self._call(
            self.connector.build_refund, self.connector.parse_refund, request, None
        )
        _remember(self._refund_ids, request.refund_request_id, result.wallet_refund_id)
        return result

    async def look_up_refund(self, request: RefundRequest) -> RefundLookup:
        """Ask the wallet whether it made the refund ``request`` describes, as the core asks
        a :class:`~connectors.RefundInquiry` about a refund whose outcome it does not know."""
        lookup = self._refund_inquiry().parse_inquire_refund(
            request, await self.refund_lookup_answer(request)
        )
        self.exchanged.append(lookup)
        return lookup

    async def refund_lookup_answer(self, request: RefundRequest) -> httpx.Response:
        """The wallet's answer to the connector's lookup of ``request``, not yet read: for a
        scenario that spoils it before the connector reads it."""
        built = self._refund_inquiry().build_inquire_refund(request)
        self.exchanged.extend((request, built))
        return await exchange(self._client, built, connector=self.connector.name)

    def _refund_inquiry(self) -> RefundInquiry:
        if not isinstance(self.connector, RefundInquiry):
            raise TypeError(f"{self.target.name}: the connector cannot look a refund up")
        return self.connector

    async def until_final(
        self,
        first: Callable[[], Awaitable[_Result]],
        again: Callable[[], Awaitable[_Result]] | None = None,
    ) -> _Result:
        """``first()``, then while the answer is pending, ``again()`` (``first`` by default)
        with growing pauses, for at most the target's ``settle_seconds``."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.target.settle_seconds
        pause = 0.02
        result = await first()
        while result.outcome is Outcome.PENDING and loop.time() < give_up:
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.5)
            result = await (again or first)()
        return result

    async def paid(self, request: PayRequest) -> PaymentResult:
        """Pay; while the answer is pending, what the wallet's callbacks say (when the kit
        can read them), else what an inquiry says: as the core resolves a payment."""

        async def again() -> PaymentResult:
            notified = await self.notified_payment(request.wallet_request_id)
            if notified.outcome is not Outcome.PENDING:
                return notified
            return await self.inquire(request.wallet_request_id)

        return await self.until_final(lambda: self.pay(request), again)

    async def refunded(self, request: RefundRequest) -> RefundResult:
        """Refund; while the answer is pending, what the wallet's callbacks say (when the
        kit can read them), else the answer to the same refund sent again."""

        async def again() -> RefundResult:
            notified = await self.notified_refund(request.refund_request_id)
            if notified.outcome is not Outcome.PENDING:
                return notified
            return await self.refund(request)

        return await self.until_final(lambda: self.refund(request), again)

    # --- callbacks ------------------------------------------------------------------------

    async def records_callbacks(self) -> bool:
        """Whether the kit can read this wallet's callbacks: the connector is a
        :class:`~connectors.NotificationParser` and the simulator answers
        ``GET /_sim/callbacks``."""
        if self._records_callbacks is None:
            self._records_callbacks = (
                isinstance(self.connector, NotificationParser)
                and self.simulated
                and (await self._client.get(f"{self.url}/_sim/callbacks")).status_code != 404
            )
        return self._records_callbacks

    async def callbacks(self) -> list[httpx.Request]:
        """``GET /_sim/callbacks``: what the wallet would have sent the hub, as requests."""
        records: list[Mapping[str, Any]] = await self._control("GET", "callbacks")
        return [
            httpx.Request(
                record["method"],
                _HUB_ORIGIN + record["path"],
                headers=record["headers"],
                content=record["body"].encode(),
            )
            for record in records
        ]

    def read_callback(self, request: httpx.Request) -> WalletNotification:
        """What the connector makes of one callback, as the core would ask it; raises what
        ``parse_notification`` raises, and ``AssertionError`` when ``acknowledge`` answers
        a callback it parsed with anything but a 2xx (the wallet would send it again)."""
        parser = self._notification_parser()
        notification = parser.parse_notification(request)
        answer = parser.acknowledge(notification)
        self.exchanged.extend((request, notification, answer))
        if not answer.is_success:
            raise AssertionError(
                f"acknowledge() answered HTTP {answer.status_code} to a callback it parsed: "
                "the wallet would take it as not received"
            )
        return notification

    async def notifications(self) -> list[WalletNotification]:
        """What every callback recorded so far says, oldest first."""
        return [self.read_callback(request) for request in await self.callbacks()]

    def names_payment(self, notification: WalletNotification, wallet_request_id: str) -> bool:
        """Whether ``notification`` is about the payment, by our id or one the wallet gave."""
        return notification.payment is not None and (
            notification.wallet_request_id == wallet_request_id
            or notification.wallet_payment_id in self._payment_ids.get(wallet_request_id, ())
        )

    def names_refund(self, notification: WalletNotification, refund_request_id: str) -> bool:
        """Whether ``notification`` is about the refund, by our id or one the wallet gave."""
        return notification.refund is not None and (
            notification.refund_request_id == refund_request_id
            or notification.wallet_refund_id in self._refund_ids.get(refund_request_id, ())
        )

    async def notified_payment(self, wallet_request_id: str) -> PaymentResult:
        """The final result the callbacks report for the payment; ``PENDING`` while none
        does (or when the kit cannot read them)."""
        if not await self.records_callbacks():
            return PaymentResult.pending("the kit reads no callbacks from this wallet")
        said = [
            notification.payment
            for notification in await self.notifications()
            if notification.payment is not None
            and self.names_payment(notification, wallet_request_id)
        ]
        result = _final(said)
        if result is None:
            return PaymentResult.pending("no callback reports a final result yet")
        _remember(self._payment_ids, wallet_request_id, result.wallet_payment_id)
        return result

    async def notified_refund(self, refund_request_id: str) -> RefundResult:
        """The final result the callbacks report for the refund; ``PENDING`` while none
        does (or when the kit cannot read them)."""
        if not await self.records_callbacks():
            return RefundResult.pending("the kit reads no callbacks from this wallet")
        said = [
            notification.refund
            for notification in await self.notifications()
            if notification.refund is not None
            and self.names_refund(notification, refund_request_id)
        ]
        result = _final(said)
        if result is None:
            return RefundResult.pending("no callback reports a final result yet")
        _remember(self._refund_ids, refund_request_id, result.wallet_refund_id)
        return result

    def _notification_parser(self) -> NotificationParser:
        if not isinstance(self.connector, NotificationParser):
            raise TypeError(f"{self.target.name}: the connector reads no callbacks")
        return self.connector

    # --- the control API ------------------------------------------------------------------

    async def stats(self) -> SimulatorStats:
        body = await self._control("GET", "stats")
        return SimulatorStats(pay_requests=body["pay_requests"], charges=body["charges"])

    async def ledger(self) -> list[Mapping[str, Any]]:
        entries: list[Mapping[str, Any]] = await self._control("GET", "ledger")
        return entries

    async def set_faults(
        self, *, latency_seconds: float = 0.0, unknown_status: bool = False
    ) -> None:
        """Put these faults in force (both keys are always sent: no fault is left over)."""
        await self._control(
            "POST", "faults", {"latency_seconds": latency_seconds, "unknown_status": unknown_status}
        )

    async def _call(
        self,
        build: Callable[[_Request], httpx.Request],
        parse: Callable[[_Request, httpx.Response], _Result],
        request: _Request,
        deadline: float | None,
    ) -> _Result:
        built = build(request)
        self.exchanged.extend((request, built))
        response = await exchange(
            self._client, built, connector=self.connector.name, deadline=deadline
        )
        result = parse(request, response)
        self.exchanged.append(result)
        return result

    async def _control(self, method: str, path: str, body: object = None) -> Any:
        if not self.simulated:
            raise RuntimeError(f"{self.target.name}: a sandbox has no simulator control API")
        response = await self._client.request(method, f"{self.url}/_sim/{path}", json=body)
        response.raise_for_status()
        return response.json()
