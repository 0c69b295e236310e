"""The Safaricom M-Pesa connector (Daraja API, M-Pesa Express a.k.a. STK push), Kenya.

The traveller's ``PayRequest.payment_code`` is their M-Pesa phone number (MSISDN,
``2547XXXXXXXX``; a leading ``+`` is dropped, anything else is left for M-Pesa to judge).

Operations, and how Daraja makes them::

    pay       POST /mpesa/stkpush/v1/processrequest   -> PENDING + CheckoutRequestID
    inquire   POST /mpesa/stkpushquery/v1/query       -> ResultCode "0" / "1" / "1032"...
    refund    POST /mpesa/reversal/v1/request         -> PENDING (result by callback)
    cancel    not supported: no API withdraws a prompt; an unanswered one expires by itself
    callback  M-Pesa POSTs to callback_url            -> parse_notification, acknowledge

Settings (one route's table)::

    base_url             "https://api.safaricom.co.ke"
    consumer_key         the Daraja app's key         consumer_secret   its secret (secret)
    shortcode            the paybill, 5-7 digits       passkey           M-Pesa Express (secret)
    callback_url         where M-Pesa POSTs results (CallBackURL, ResultURL, QueueTimeOutURL),
                         signed per request (see Callbacks)
    callback_secret      optional (secret): signs callback URLs; by default a key derived
                         from consumer_secret
    initiator_name       the reversal operator         security_credential  (secret; already
                                                       encrypted with Safaricom's certificate)
    currencies ["KES"]   regions ["KE"]                access_token      optional (secret)

What the public documentation says, and what this connector assumes or simplifies:

- **Token.** Every call carries ``Authorization: Bearer`` with a token from
  ``GET /oauth/v1/generate?grant_type=client_credentials`` (Basic auth of key:secret), valid
  ``expires_in`` seconds. The connector does no I/O, so the core fetches it:
  ``build_token_request()`` / ``parse_token(response)`` give an :class:`AccessToken` and
  ``with_access_token(token)`` a connector that uses it; ``access_token`` in the settings
  is a pre-fetched one. A build with no token, or a stale one, raises.
- **Amounts.** Daraja's ``Amount`` is whole shillings; KES has 2 minor digits, so the
  connector sends ``value // 100`` and *refuses* (``ConnectorError``) an amount with cents or
  in another currency rather than rounding away from the quoted amount; it declares
  ``capabilities.amount_step`` 100.
- **Idempotency.** ``AccountReference`` holds at most 12 characters, so it carries the first
  12 base32 characters of SHA-256(``wallet_request_id``). Daraja documents no dedup; the
  simulator treats a push with the same ``AccountReference``, ``Amount`` and phone within its
  window (24 h) as a repeat and returns the original's ids; against Daraja itself such a
  resend may prompt the traveller again, so the core never resends a push. A push whose
  answer was lost is found by its callback instead (see Callbacks). ``TransactionDesc``
  (13 characters at most) is the merchant's name.
- **Asynchrony.** The push answer only says the prompt was sent: ``parse_pay`` is PENDING
  with the ``CheckoutRequestID`` as ``wallet_payment_id``. The query answers ``ResultCode``;
  while the traveller has not answered it fails with ``500.001.1001 The transaction is being
  processed`` (5xx: PENDING) or ``ResultCode`` 4999.
- **Inquiry by our id is impossible** (``capabilities.inquiry_by_request_id`` is False):
  the query names the push by its ``CheckoutRequestID`` alone, so ``build_inquire`` needs
  ``InquireRequest.wallet_payment_id`` and raises ``OperationNotSupported`` without it. A
  query by any other id would come back "Invalid CheckoutRequestID", which must never be
  read as "no such payment" for a push whose answer was merely lost.
- **Refunds** are reversals (``CommandID`` ``TransactionReversal``) of the M-Pesa receipt
  in ``RefundRequest.wallet_payment_id``; the refund key travels in ``Occasion``. Daraja
  documents a reversal of the whole transaction; partial reversals are modelled (their sum
  is capped at the charge). The answer only says "accepted": ``parse_refund`` is PENDING
  and carries the ``ConversationID`` that the result will name.
- **Callbacks** (the connector is a :class:`~connectors.NotificationParser`). M-Pesa POSTs
  ``{"Body": {"stkCallback": ...}}`` to a push's ``CallBackURL`` and ``{"Result": ...}`` to
  a reversal's ``ResultURL`` (or ``QueueTimeOutURL``). Each request gets its own URL: the
  route's ``callback_url`` with our id for the operation (``ref``: the payment's
  ``wallet_request_id``, the refund's ``refund_request_id``) and an HMAC of it (``sig``).
  ``parse_notification`` reads either body and names the operation by both ids: ours from
  the URL, M-Pesa's from the body (``CheckoutRequestID`` as ``wallet_payment_id``,
  ``ConversationID`` as ``wallet_refund_id``). So a callback finds its payment even when
  the push's answer, and with it the ``CheckoutRequestID`` a query needs, was lost; the core
  keeps that id and asks. On success the result names the payment by its
  ``MpesaReceiptNumber``, which a reversal needs: the core keeps the ``CheckoutRequestID``
  to query by and the receipt to refund by. ``acknowledge`` answers Daraja's
  ``{"ResultCode": 0, "ResultDesc": "Accepted"}``, or ``ResultCode`` 1 "Rejected" (HTTP
  400) to a refused callback.
- **Nothing is signed by M-Pesa.** Daraja signs neither its answers nor its callbacks (TLS
  only; at the edge, an allow-list of Safaricom's addresses): the signed URL is what tells
  a callback to one of our requests from a forgery, and a callback to any other URL is
  refused. It covers the URL, not the body, so the core confirms a paid STK callback with
  a query before it tells the merchant. Errors come as
  ``{"errorCode", "errorMessage"}`` whose HTTP status varies, so the ``errorCode`` decides.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx
from pydantic import SecretStr, ValidationError

from connectors import (
    CancelRequest,
    CancelResult,
    Capabilities,
    ConnectorConfigError,
    InquireRequest,
    Operation,
    OperationNotSupported,
    PaymentResult,
    PayRequest,
    RefundRequest,
    RefundResult,
    WalletNotification,
    WalletProtocolError,
)
from connectors._time import utc_now
from connectors.mpesa import _callback, _results, _translate
from connectors.mpesa._settings import load_settings
from connectors.mpesa._token import AccessToken, build_token_request, parse_token
from connectors.mpesa._wire import (
    REVERSAL_PATH,
    STK_PUSH_PATH,
    STK_QUERY_PATH,
    DarajaError,
    ReversalAck,
    ReversalResultEnvelope,
    StkCallbackEnvelope,
    StkPushAck,
    StkQueryAnswer,
)

__all__ = ["AccessToken", "MpesaConnector"]


class MpesaConnector:
    """A :class:`connectors.Connector` and :class:`connectors.NotificationParser` for
    M-Pesa Kenya over Daraja; its own factory.

    ``clock`` (keyword-only, aware) stamps ``Timestamp`` and judges token expiry.
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
            inquiry_by_request_id=False,
            amount_step=_translate.CENTS_PER_SHILLING,
        )
        self._clock = clock
        self._token: SecretStr | None = self._config.access_token
        self._token_expiry: datetime | None = None

    def __repr__(self) -> str:
        return f"MpesaConnector(name={self.name!r}, shortcode={self._config.shortcode!r})"

    # --- the bearer token (fetched by the core) ----------------------------------------

    def build_token_request(self) -> httpx.Request:
        """``GET /oauth/v1/generate``: what the core sends to get a token."""
        return build_token_request(self._config)

    def parse_token(self, response: httpx.Response) -> AccessToken:
        return parse_token(self.name, response, self._clock())

    def with_access_token(self, token: AccessToken) -> MpesaConnector:
        """A connector like this one that authenticates with ``token``."""
        other = copy.copy(self)
        other._token, other._token_expiry = SecretStr(token.value), token.expires_at
        return other

    def _post(self, path: str, body: bytes) -> httpx.Request:
        if self._token is None:
            raise ConnectorConfigError(
                f"connector {self.name!r}: no access token (setting 'access_token' or "
                "with_access_token())",
                connector=self.name,
            )
        if self._token_expiry is not None and self._clock() >= self._token_expiry:
            raise ConnectorConfigError(
                f"connector {self.name!r}: the access token expired at {self._token_expiry}",
                connector=self.name,
            )
        base = self._config.base_url
        return httpx.Request(
            "POST",
            base.copy_with(path=base.path.rstrip("/") + path),
            headers={
                "Authorization": f"Bearer {self._token.get_secret_value()}",
                "Content-Type": "application/json",
            },
            content=body,
        )

    # --- the contract ------------------------------------------------------------------

    def build_pay(self, request: PayRequest) -> httpx.Request:
        """An STK push to the phone in ``payment_code``, referenced by ``wallet_request_id``."""
        body = _translate.stk_push_body(request, self._config, self._clock(), self.name)
        return self._post(STK_PUSH_PATH, body.to_bytes())

    def parse_pay(self, request: PayRequest, response: httpx.Response) -> PaymentResult:
        answer = _results.read(self.name, "stkpush", response, StkPushAck)
        if answer is None:
            return PaymentResult.pending(f"M-Pesa answered HTTP {response.status_code}")
        if isinstance(answer, DarajaError):
            return _results.pay_error(answer)
        return _results.stk_push_ack(answer)

    def _checkout_request_id(self, request: InquireRequest) -> str:
        if request.wallet_payment_id:
            return request.wallet_payment_id
        raise OperationNotSupported(
            "M-Pesa is asked about an STK push by its CheckoutRequestID only, and this "
            "inquiry has none (the pay answer was lost?): it cannot be asked",
            connector=self.name,
        )

    def build_inquire(self, request: InquireRequest) -> httpx.Request:
        """The STK push query of the ``CheckoutRequestID`` the pay answer gave."""
        checkout = self._checkout_request_id(request)
        body = _translate.stk_query_body(checkout, self._config, self._clock())
        return self._post(STK_QUERY_PATH, body.to_bytes())

    def parse_inquire(self, request: InquireRequest, response: httpx.Response) -> PaymentResult:
        answer = _results.read(self.name, "stkpushquery", response, StkQueryAnswer)
        if answer is None:
            # Daraja's "The transaction is being processed" is an HTTP 500.
            return PaymentResult.pending(f"M-Pesa answered HTTP {response.status_code}")
        if isinstance(answer, DarajaError):
            return _results.query_error(answer)
        checkout = self._checkout_request_id(request)
        if answer.CheckoutRequestID is not None and answer.CheckoutRequestID != checkout:
            raise WalletProtocolError(
                f"stkpushquery: answer is for {answer.CheckoutRequestID!r}, not {checkout!r}",
                connector=self.name,
                http_status=response.status_code,
            )
        return _results.stk_outcome(
            answer.ResultCode, answer.ResultDesc, wallet_payment_id=checkout
        )

    def build_cancel(self, request: CancelRequest) -> httpx.Request:
        raise OperationNotSupported(
            "M-Pesa cannot withdraw an STK prompt; a charged payment is refunded by reversal",
            connector=self.name,
        )

    def parse_cancel(self, request: CancelRequest, response: httpx.Response) -> CancelResult:
        raise OperationNotSupported("M-Pesa has no cancel", connector=self.name)

    def build_refund(self, request: RefundRequest) -> httpx.Request:
        """A reversal of ``refund_from_amount`` of the receipt in ``wallet_payment_id``."""
        body = _translate.reversal_body(request, self._config, self.name)
        return self._post(REVERSAL_PATH, body.to_bytes())

    def parse_refund(self, request: RefundRequest, response: httpx.Response) -> RefundResult:
        answer = _results.read(self.name, "reversal", response, ReversalAck)
        if answer is None:
            return RefundResult.pending(f"M-Pesa answered HTTP {response.status_code}")
        if isinstance(answer, DarajaError):
            return _results.refund_error(answer)
        return _results.reversal_ack(answer)

    # --- callbacks -----------------------------------------------------------------------

    def parse_notification(self, request: httpx.Request) -> WalletNotification:
        """An STK callback (the payment's result) or a reversal ``Result`` (the refund's),
        each named by our id from its signed URL and by M-Pesa's (``CheckoutRequestID``,
        ``ConversationID``) from its body."""
        if request.method != "POST":
            raise WalletProtocolError(
                f"callback: M-Pesa POSTs its callbacks, not {request.method}", connector=self.name
            )
        try:
            payload = json.loads(request.content)
        except ValueError:  # json.JSONDecodeError and UnicodeDecodeError alike
            payload = None
        match payload:
            case {"Body": _}:
                checkout, paid = self.parse_stk_callback(request.content)
                if not checkout:
                    raise WalletProtocolError(
                        "stkCallback: an empty CheckoutRequestID", connector=self.name
                    )
                return WalletNotification.for_payment(
                    paid,
                    wallet_request_id=self._signed_ref(request, "pay"),
                    wallet_payment_id=checkout,
                )
            case {"Result": _}:
                conversation, refunded = self.parse_reversal_result(request.content)
                return WalletNotification.for_refund(
                    refunded,
                    refund_request_id=self._signed_ref(request, "refund"),
                    wallet_refund_id=conversation or None,
                )
            case _:
                raise WalletProtocolError(
                    "callback: neither an stkCallback nor a Result", connector=self.name
                )

    def _signed_ref(self, request: httpx.Request, kind: _callback.Kind) -> str:
        """Our id for the operation a callback is about, from the URL our request gave
        M-Pesa; refuses a callback to any other URL (see ``_callback``)."""
        ref = _callback.verified_ref(request.url, self._config.callback_key, kind)
        if ref is None:
            raise WalletProtocolError(
                f"callback: its URL carries no reference signed by this hub for a {kind} "
                f"({_callback.REF}, {_callback.SIG}), so no request of ours asked for it",
                connector=self.name,
            )
        return ref

    def acknowledge(self, notification: WalletNotification | None) -> httpx.Response:
        """Daraja's acknowledgement: ``ResultCode`` 0 "Accepted", or 1 "Rejected"."""
        if notification is None:
            return httpx.Response(400, json={"ResultCode": 1, "ResultDesc": "Rejected"})
        return httpx.Response(200, json={"ResultCode": 0, "ResultDesc": "Accepted"})

    def parse_stk_callback(self, body: bytes) -> tuple[str, PaymentResult]:
        """The ``CheckoutRequestID`` an STK callback is about, and its result."""
        try:
            callback = StkCallbackEnvelope.model_validate_json(body).Body.stkCallback
        except ValidationError:
            raise WalletProtocolError("stkCallback: malformed", connector=self.name) from None
        return callback.CheckoutRequestID, _results.stk_callback_outcome(callback)

    def parse_reversal_result(self, body: bytes) -> tuple[str | None, RefundResult]:
        """The ``ConversationID`` a reversal ``Result`` is about, and the refund's result."""
        try:
            result = ReversalResultEnvelope.model_validate_json(body).Result
        except ValidationError:
            raise WalletProtocolError("Result: malformed", connector=self.name) from None
        return result.ConversationID, _results.reversal_outcome(result)
