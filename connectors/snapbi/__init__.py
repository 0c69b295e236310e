"""The SNAP BI connector: Bank Indonesia's national open payment API, as DANA and other
Indonesian e-wallets expose direct debit.

Operations (paths relative to ``base_url``, which may carry a prefix such as DANA's
``/rest``; the two digits are the SNAP service code inside every ``responseCode``)::

    pay      POST /v1.0/debit/payment-host-to-host  54  partnerReferenceNo = wallet_request_id
    inquire  POST /v1.0/debit/status                55  originalPartnerReferenceNo
    cancel   POST /v1.0/debit/cancel                57  originalPartnerReferenceNo
    refund   POST /v1.0/debit/refund                58  partnerRefundNo = refund_request_id

Settings (one route's table in the configuration)::

    base_url       "https://api.wallet.example"   where the wallet's SNAP API lives
    partner_id     "HUB-PARTNER-01"               X-PARTNER-ID (the hub's client id)
    client_secret  "..."                          HMAC-SHA512 key (secret)
    access_token   "eyJ..."                       B2B access token (secret)
    channel_id     "95221"                        CHANNEL-ID
    merchant_id    "216620000000000001"           merchantId in every body
    currencies     ["IDR"]                        wallet currencies it charges in
    regions        ["ID"]                         regions of its users (ISO 3166)

``PayRequest.payment_code`` is the traveller's SNAP *customer* access token (the B2B2C token
an account binding yields), sent as ``Authorization-Customer: Bearer <token>``.

What the public docs say, and what is assumed or simplified here:

- Signing is SNAP's symmetric transaction signature (see ``_signature``). Responses to
  transaction calls are not signed in SNAP, so none is checked.
- The B2B access token is a setting. Obtaining it (``/v1.0/access-token/b2b``, signed
  SHA256withRSA over ``clientId|timestamp``) is out of scope: the token expires (typically
  after 15 minutes) and a stateless translator cannot refresh it, so whoever configures the
  route must keep it current. A stale token gets ``401xx01``, which leaves payments pending.
- ``X-EXTERNAL-ID`` must be unique per day and the wallet deduplicates on it. It is derived
  (32 digits of SHA-256) from the API and the request id, so a retry is the same message;
  status inquiries mix in the timestamp, since each is a new message. A wallet that answers
  a same-day retry with ``409xx00`` leaves the outcome to an inquiry.
- Amounts are decimal strings with the ISO 4217 exponent of their currency
  (``{"value": "10000.00", "currency": "IDR"}`` for 1,000,000 minor units).
- The foreign purchase travels in DANA's ``additionalInfo.order.internationalOrderInfo``
  (origin amount, rate, total); DANA-only fields (``productCode``, ``envInfo``) are left out.
- A ``200xx00`` pay answer that sends the traveller to a ``webRedirectUrl`` or
  ``appRedirectUrl`` only created the order (DANA's redirection flow): it is pending, and an
  inquiry resolves it. Status ``02`` ("paying") is not final either.
- Response codes read (see ``_codes``): ``2005400``, ``2005500``, ``2005700``, ``2005800``
  success; ``202xx00`` in progress; ``4035414`` insufficient funds; ``4035402`` over the
  limit; ``4045411`` / ``4015402`` unknown account or customer token; ``4045408`` invalid
  merchant; ``4015400`` / ``4015401`` bad signature or B2B token; ``4045418`` inconsistent
  repeat; ``4095400`` reused X-EXTERNAL-ID; ``4045501`` / ``4045701`` transaction not
  found; ``4035700`` outside the cancel window; ``4035802`` refund above what was paid.
  Request-level refusals (400, 401 for the hub, 408, 409, 429, ``404xx18``) say nothing
  about a payment an earlier attempt may have made, so they are pending, never declines.
- Inbound notifications (SNAP "notify", service 56, signed by the wallet with
  SHA256withRSA over ``METHOD:path:sha256(body):timestamp``) carry the same
  ``latestTransactionStatus`` as an inquiry and would map through the same translation;
  they are a later issue and no route is built here.

Example::

    connector = SnapBiConnector("dana", settings)
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
from connectors.snapbi import _translate
from connectors.snapbi._envelope import Envelope
from connectors.snapbi._settings import load_settings
from connectors.snapbi._wire import (
    CANCEL,
    PAY,
    REFUND,
    STATUS,
    CancelResponse,
    PayResponse,
    RefundResponse,
    StatusResponse,
)

__all__ = ["SnapBiConnector"]


def _unknown(response: httpx.Response) -> str:
    return f"wallet answered HTTP {response.status_code}; the outcome is unknown"


class SnapBiConnector:
    """A :class:`connectors.Connector` for one wallet speaking SNAP BI direct debit.

    It is also its own :class:`connectors.ConnectorFactory`. ``clock`` (keyword-only,
    returning an aware time) stamps ``X-TIMESTAMP``; tests pass a fixed one.
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
        self._merchant_id = config.merchant_id
        self._envelope = Envelope(connector=name, config=config, clock=clock)

    def __repr__(self) -> str:
        return f"SnapBiConnector(name={self.name!r}, merchant_id={self._merchant_id!r})"

    def build_pay(self, request: PayRequest) -> httpx.Request:
        """Direct debit of the traveller's bound account, keyed by ``wallet_request_id``."""
        body = _translate.pay_body(request, self._merchant_id)
        return self._envelope.request(
            PAY,
            body.to_bytes(),
            key=request.wallet_request_id,
            customer_token=request.payment_code,
        )

    def parse_pay(self, request: PayRequest, response: httpx.Response) -> PaymentResult:
        body = self._envelope.read(PAY, response, PayResponse)
        if body is None:
            return PaymentResult.pending(_unknown(response))
        self._envelope.check_echo(
            PAY, response, "partnerReferenceNo", request.wallet_request_id, body.partnerReferenceNo
        )
        return _translate.pay_result(body)

    def build_inquire(self, request: InquireRequest) -> httpx.Request:
        body = _translate.status_body(request, self._merchant_id)
        return self._envelope.request(
            STATUS, body.to_bytes(), key=request.wallet_request_id, per_call=True
        )

    def parse_inquire(self, request: InquireRequest, response: httpx.Response) -> PaymentResult:
        body = self._envelope.read(STATUS, response, StatusResponse)
        if body is None:
            return PaymentResult.pending(_unknown(response))
        self._envelope.check_echo(
            STATUS,
            response,
            "originalPartnerReferenceNo",
            request.wallet_request_id,
            body.originalPartnerReferenceNo,
        )
        return _translate.inquiry_result(body)

    def build_cancel(self, request: CancelRequest) -> httpx.Request:
        body = _translate.cancel_body(request, self._merchant_id)
        return self._envelope.request(CANCEL, body.to_bytes(), key=request.wallet_request_id)

    def parse_cancel(self, request: CancelRequest, response: httpx.Response) -> CancelResult:
        body = self._envelope.read(CANCEL, response, CancelResponse)
        if body is None:
            return CancelResult.pending(_unknown(response))
        self._envelope.check_echo(
            CANCEL,
            response,
            "originalPartnerReferenceNo",
            request.wallet_request_id,
            body.originalPartnerReferenceNo,
        )
        return _translate.cancel_result(body)

    def build_refund(self, request: RefundRequest) -> httpx.Request:
        """Refund keyed by ``refund_request_id``; ``originalReferenceNo`` is sent when known."""
        body = _translate.refund_body(request, self._merchant_id)
        return self._envelope.request(REFUND, body.to_bytes(), key=request.refund_request_id)

    def parse_refund(self, request: RefundRequest, response: httpx.Response) -> RefundResult:
        body = self._envelope.read(REFUND, response, RefundResponse)
        if body is None:
            return RefundResult.pending(_unknown(response))
        self._envelope.check_echo(
            REFUND, response, "partnerRefundNo", request.refund_request_id, body.partnerRefundNo
        )
        self._envelope.check_echo(
            REFUND,
            response,
            "originalPartnerReferenceNo",
            request.wallet_request_id,
            body.originalPartnerReferenceNo,
        )
        return _translate.refund_result(body)
