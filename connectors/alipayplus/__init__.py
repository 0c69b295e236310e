"""The Alipay+ wallet-side (MPP) connector: what a hub sends to a wallet.

The wallet is charged with a user-presented payment code (``pay``), asked about a payment
(``inquiryPayment``), told to cancel one (``cancelPayment``) or to give money back
(``refund``). Every request is signed with the hub's RSA key and every answer checked
against the wallet's public key (see ``_envelope`` for the exact rules).

Settings (one route's table in the configuration)::

    base_url           "https://wallet.example"       where the wallet's API lives
    client_id          "HUB_CLIENT_ID"                the hub's Client-Id at this wallet
    psp_id             "WALLET_PSP_ID"                the wallet's pspId
    private_key        "-----BEGIN PRIVATE KEY..."    the hub's RSA key (PEM text; secret)
    wallet_public_key  "-----BEGIN PUBLIC KEY..."     the wallet's RSA key (PEM text)
    currencies         ["KRW"]                        wallet currencies it charges in
    regions            ["KR"]                         regions of its users (ISO 3166)
    path_prefix        "/aps/api/v1/payments"         optional
    key_version        "1"                            optional

Example::

    connector = AlipayPlusConnector("kr-wallet", settings)
    response = await exchange(client, connector.build_pay(request), connector=connector.name)
    result = connector.parse_pay(request, response)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx

from connectors import (
    CancelRequest,
    CancelResult,
    Capabilities,
    InquireRequest,
    Operation,
    PaymentResult,
    PayRequest,
    RefundRequest,
    RefundResult,
)
from connectors._time import utc_now
from connectors.alipayplus import _translate
from connectors.alipayplus._envelope import Envelope
from connectors.alipayplus._settings import load_settings
from connectors.alipayplus._wire import (
    CancelResponse,
    InquiryResponse,
    PayResponse,
    RefundResponse,
)

__all__ = ["AlipayPlusConnector"]

_PAY = "pay"
_INQUIRE = "inquiryPayment"
_CANCEL = "cancelPayment"
_REFUND = "refund"


def _unknown(response: httpx.Response) -> str:
    return f"wallet answered HTTP {response.status_code}; the outcome is unknown"


class AlipayPlusConnector:
    """A :class:`connectors.Connector` for one wallet speaking the Alipay+ MPP protocol.

    It is also its own :class:`connectors.ConnectorFactory`. ``clock`` (keyword-only,
    returning an aware time) stamps ``Request-Time``; tests pass a fixed one.
    """

    name: str
    capabilities: Capabilities

    def __init__(
        self,
        name: str,
        settings: Mapping[str, Any],
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        config = load_settings(name, settings)
        self.name = name
        self.capabilities = Capabilities(
            operations=frozenset(Operation),
            currencies=config.currencies,
            regions=config.regions,
            modes=frozenset({"PaymentCode"}),
        )
        self._psp_id = config.psp_id
        self._envelope = Envelope(
            connector=name,
            base_url=config.base_url,
            path_prefix=config.path_prefix,
            client_id=config.client_id,
            signer=config.signer,
            verifier=config.verifier,
            clock=clock,
        )

    def __repr__(self) -> str:
        return f"AlipayPlusConnector(name={self.name!r}, psp_id={self._psp_id!r})"

    def build_pay(self, request: PayRequest) -> httpx.Request:
        """``pay`` with the traveller's payment code, keyed by ``wallet_request_id``."""
        body = _translate.pay_body(request, self._psp_id)
        return self._envelope.request(_PAY, body.to_bytes())

    def parse_pay(self, request: PayRequest, response: httpx.Response) -> PaymentResult:
        body = self._envelope.read(_PAY, response, PayResponse)
        if body is None:
            return PaymentResult.pending(_unknown(response))
        self._envelope.check_echo(
            _PAY, "paymentRequestId", request.wallet_request_id, body.paymentRequestId
        )
        return _translate.pay_result(body)

    def build_inquire(self, request: InquireRequest) -> httpx.Request:
        body = _translate.payment_ref(request, self._psp_id)
        return self._envelope.request(_INQUIRE, body.to_bytes())

    def parse_inquire(self, request: InquireRequest, response: httpx.Response) -> PaymentResult:
        body = self._envelope.read(_INQUIRE, response, InquiryResponse)
        if body is None:
            return PaymentResult.pending(_unknown(response))
        self._envelope.check_echo(
            _INQUIRE, "paymentRequestId", request.wallet_request_id, body.paymentRequestId
        )
        return _translate.inquiry_result(body)

    def build_cancel(self, request: CancelRequest) -> httpx.Request:
        body = _translate.payment_ref(request, self._psp_id)
        return self._envelope.request(_CANCEL, body.to_bytes())

    def parse_cancel(self, request: CancelRequest, response: httpx.Response) -> CancelResult:
        body = self._envelope.read(_CANCEL, response, CancelResponse)
        if body is None:
            return CancelResult.pending(_unknown(response))
        return _translate.cancel_result(body)

    def build_refund(self, request: RefundRequest) -> httpx.Request:
        """``refund`` keyed by ``refund_request_id``; ``paymentId`` is sent when known."""
        body = _translate.refund_body(request, self._psp_id)
        return self._envelope.request(_REFUND, body.to_bytes())

    def parse_refund(self, request: RefundRequest, response: httpx.Response) -> RefundResult:
        body = self._envelope.read(_REFUND, response, RefundResponse)
        if body is None:
            return RefundResult.pending(_unknown(response))
        self._envelope.check_echo(
            _REFUND, "refundRequestId", request.refund_request_id, body.refundRequestId
        )
        return _translate.refund_result(body)
