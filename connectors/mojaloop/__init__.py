"""A Mojaloop scheme as one route, through the SDK scheme adapter's synchronous outbound API.

**Model.** The traveller's home wallet is a DFSP in a Mojaloop scheme (a national
mobile-money switch, e.g. in Tanzania). It runs the SDK scheme adapter ("Mojaloop
Connector") and lets the hub drive its outbound API, as a wallet backend would. A payment
is ``POST /transfers`` *from* the traveller *to* the scheme account that collects for the
merchant (``payee_id_type``/``payee_id_value``); the adapter resolves the payee
(``GET /parties``), gets the payee DFSP's quote (fees, expiry, ILP condition) and sends the
transfer, and with ``AUTO_ACCEPT_PARTY`` and ``AUTO_ACCEPT_QUOTES`` on (the adapter's
defaults, which this connector requires) answers once, with ``currentState`` ``COMPLETED``
and the switch's ``fulfil`` (``transferState`` ``COMMITTED``/``ABORTED``) or an FSPIOP error.

Chosen over the payee-side ``POST /requestToPay`` (Causeway as the merchant's DFSP asking
the traveller's DFSP to pay): that call only delivers a transaction request; the payer DFSP
moves the money later in its own ``requestToPayTransfer``, the payee learns the outcome on
its *inbound* API, and the outbound API has no inquiry for it. Every payment would be
pending with nothing to resolve it until inbound callbacks exist.

**Identifiers.** ``payment_code`` carries the traveller's MSISDN (``from.idValue``;
``from.fspId`` is ``dfsp_id``, the wallet's DFSP). ``wallet_request_id`` is the
``homeTransactionId``, and the ``transferId`` is a UUID v5 of it: the adapter keeps a
transferId it is given, the switch deduplicates on it (a resend cannot move money twice),
and ``GET /transfers/{transferId}`` can be built from the canonical inquiry, which carries
only ``wallet_request_id``; the SDK has no lookup by ``homeTransactionId``. Refunds use
``refund_request_id`` the same way.

**What the SDK does not do, and what is assumed of the deployment.**

- It does not deduplicate ``POST /transfers``: a resend with the same transferId quotes
  again, so its prepare differs and the switch refuses it with 3106 (modified request).
  The connector reads 3106 as "unknown" and the inquiry resolves it; the simulator, like a
  wallet backend in front of the adapter, answers a resend from its records.
- Refunds: Mojaloop transfers are final once committed, so there is no cancel
  (``build_cancel`` raises :class:`~connectors.OperationNotSupported`; CANCEL is not a
  capability). A refund is a new transfer from the payee party back to the traveller.
  FSPIOP links a refund to its payment with ``refundInfo.originalTransactionId``, which
  the outbound API cannot send, and the canonical refund does not carry the traveller;
  so the refund names the payment instead: its payee is the party ``ALIAS`` = the
  payment's transferId at ``dfsp_id`` (no lookup: the wallet's DFSP resolves it to the
  customer who paid) and the quote extension ``originalTransferId`` marks it. Both are
  scheme conventions the wallet's DFSP must honour, as the simulator does; it also caps
  refunds at the payment (the hub's own cap comes first). It assumes ``base_url`` can
  debit the payee party too, i.e. the collecting account is reachable through the same
  adapter.
- ``wallet_payment_id`` is the transferId; ``customer_id`` is left empty, since the
  traveller's MSISDN is personal data the merchant's acquirer has no use for.
- The hub's FX quote and the payment expiry are not sent: the scheme quotes its own fees
  (``quoteResponse``, kept to the adapter) and the adapter's ``EXPIRY_SECONDS`` bounds the
  transfer.
- Amounts are FSPIOP decimal strings in major units; ``currency_exponent`` converts (see
  ``_amounts``), so a route serves currencies of one exponent.
- Auth: the adapter is reached over mTLS inside the DFSP (the client certificate is the
  core's transport concern); an optional ``bearer_token`` is sent for a gateway in front.
  The outbound API signs nothing (FSPIOP's JWS is between adapter and switch).

**Inbound callbacks** (later): this model needs none. The request-to-pay model would take
its outcomes on the SDK *backend* API that Causeway, as the payee DFSP, would implement:
``PUT /requestToPay/{transactionRequestId}`` (the request's status) and
``PUT /transfers/{transferId}`` (the fulfil notification "when the FSP is a Payee"), whose
``transferState`` would map as ``_verdict`` maps the synchronous answers.

Settings::

    base_url           "https://mojaloop-connector.wallet.tz/sdk-out"   outbound API
    dfsp_id            "tzwallet"            the wallet's FSP id in the scheme
    payee_id_type      "MSISDN"              optional; FSPIOP PartyIdType of the payee
    payee_id_value     "255700900900"        the account collecting for merchants
    currency_exponent  2                     minor-unit exponent of ``currencies``
    bearer_token       "..."                 optional; secret
    currencies         ["TZS"]
    regions            ["TZ"]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx

from connectors import (
    CancelRequest,
    CancelResult,
    Capabilities,
    InquireRequest,
    Operation,
    OperationNotSupported,
    PaymentResult,
    PayRequest,
    RefundRequest,
    RefundResult,
)
from connectors._time import utc_now
from connectors.mojaloop import _translate
from connectors.mojaloop._answers import read
from connectors.mojaloop._settings import load_settings
from connectors.mojaloop._wire import TransferResponse, TransferStatusResponse, transfer_id

__all__ = ["MojaloopConnector"]


class MojaloopConnector:
    """A :class:`connectors.Connector` for a DFSP's SDK scheme adapter (outbound API).

    It is also its own :class:`connectors.ConnectorFactory`. ``clock`` stamps the ``Date``
    header: FSPIOP requires one on every request; the outbound API does not, but a gateway
    in front of it may check or log it, and tests pass a fixed clock.
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
        self._config = load_settings(name, settings)
        self.name = name
        self.capabilities = Capabilities(
            operations=frozenset({Operation.PAY, Operation.INQUIRE, Operation.REFUND}),
            currencies=self._config.currencies,
            regions=self._config.regions,
            modes=frozenset({"PaymentCode"}),
        )
        self._clock = clock
        self._transfers = self._config.base_url.path.rstrip("/") + "/transfers"

    def __repr__(self) -> str:
        return f"MojaloopConnector(name={self.name!r}, dfsp_id={self._config.dfsp_id!r})"

    def _request(self, method: str, path: str, body: bytes | None = None) -> httpx.Request:
        headers = {
            "Accept": "application/json",
            "Date": format_datetime(self._clock().astimezone(UTC), usegmt=True),
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self._config.bearer_token is not None:
            headers["Authorization"] = f"Bearer {self._config.bearer_token.get_secret_value()}"
        url = self._config.base_url.copy_with(path=path)
        return httpx.Request(method, url, headers=headers, content=body)

    def build_pay(self, request: PayRequest) -> httpx.Request:
        """``POST /transfers`` from the traveller, keyed by ``wallet_request_id``."""
        body = _translate.pay_body(request, self._config, self.name)
        return self._request("POST", self._transfers, body.to_bytes())

    def parse_pay(self, request: PayRequest, response: httpx.Response) -> PaymentResult:
        transfer = transfer_id("pay", request.wallet_request_id)
        answer = read(
            response,
            TransferResponse,
            connector=self.name,
            api="POST /transfers",
            transfer_id=transfer,
            home_transaction_id=request.wallet_request_id,
        )
        return _translate.pay_result(answer, transfer=transfer)

    def build_inquire(self, request: InquireRequest) -> httpx.Request:
        """``GET /transfers/{transferId}``: the adapter asks the switch."""
        transfer = transfer_id("pay", request.wallet_request_id)
        return self._request("GET", f"{self._transfers}/{transfer}")

    def parse_inquire(self, request: InquireRequest, response: httpx.Response) -> PaymentResult:
        transfer = transfer_id("pay", request.wallet_request_id)
        answer = read(
            response,
            TransferStatusResponse,
            connector=self.name,
            api="GET /transfers",
            transfer_id=transfer,
        )
        return _translate.inquiry_result(answer, transfer=transfer)

    def build_cancel(self, request: CancelRequest) -> httpx.Request:
        """Mojaloop transfers are irrevocable once committed: refund instead."""
        raise OperationNotSupported(
            f"{self.name}: a Mojaloop transfer cannot be cancelled; refund it", connector=self.name
        )

    def parse_cancel(self, request: CancelRequest, response: httpx.Response) -> CancelResult:
        raise OperationNotSupported(
            f"{self.name}: a Mojaloop transfer cannot be cancelled; refund it", connector=self.name
        )

    def build_refund(self, request: RefundRequest) -> httpx.Request:
        """``POST /transfers`` back to the traveller, keyed by ``refund_request_id``."""
        body = _translate.refund_body(request, self._config, self.name)
        return self._request("POST", self._transfers, body.to_bytes())

    def parse_refund(self, request: RefundRequest, response: httpx.Response) -> RefundResult:
        transfer = transfer_id("refund", request.refund_request_id)
        answer = read(
            response,
            TransferResponse,
            connector=self.name,
            api="POST /transfers",
            transfer_id=transfer,
            home_transaction_id=request.refund_request_id,
        )
        return _translate.refund_result(answer, transfer=transfer)
