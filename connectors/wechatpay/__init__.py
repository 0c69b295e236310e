"""WeChat Pay cross-border (global) quick pay: the classic XML API v2, signed HMAC-SHA256.

A Chinese traveller shows the payment code on WeChat's "Money" page; the merchant abroad
prices in its own currency and WeChat Pay charges the traveller in CNY at its own rate.

=========  ============================  =========================================
operation  wallet API                    idempotency key
=========  ============================  =========================================
pay        ``POST /pay/micropay``        ``out_trade_no`` = ``wallet_request_id``
inquire    ``POST /pay/orderquery``      ``out_trade_no``
cancel     ``POST /secapi/pay/reverse``  ``out_trade_no``
refund     ``POST /secapi/pay/refund``   ``out_refund_no`` = ``refund_request_id``
=========  ============================  =========================================

Settings (one route's table in the configuration)::

    base_url          "https://apihk.mch.weixin.qq.com"   (a path in it prefixes the APIs)
    appid             "wx2421b1c4370ec43b"    the Official Account ID bound to the merchant
    mch_id            "10000100"              the merchant (or institution) number
    sub_mch_id        "1900000109"            optional: institutional mode's sub-merchant
    api_key           32 letters and digits   the API v2 key (secret)
    currencies        ["CNY"]                 what the wallet charges in
    regions           ["CN"]                  where its users are
    spbill_create_ip  "203.0.113.7"           optional: the calling machine's IP
                                              (WeChat requires one; default 127.0.0.1)

What the public docs say, and what is assumed or simplified here:

- ``PayRequest.payment_code`` is the ``auth_code``: 18 digits, starting 10-14 for mainland
  users (15 is Hong Kong, which cannot pay cross-border); one use, valid for a minute.
- ``payment_amount`` is ``total_fee`` in minor units of ``fee_type``, the merchant's
  currency. ``pay_to_amount`` is what the traveller's wallet is charged, which WeChat Pay
  reports as ``cash_fee`` of ``cash_fee_type`` (CNY) at ``rate`` (x 10^8) but never takes
  as input: the hub's quote and WeChat's rate may differ. The connector checks that a
  success echoes the ``total_fee``/``fee_type`` it sent and charged in the payer's
  currency, and returns ``cash_fee`` as the result's ``pay_to_amount``, which the hub
  books.
- Quick pay answers synchronously, except ``USERPAYING`` (the payer must type a password)
  and ``SYSTEMERROR``/``BANKERROR``, which are pending and resolved by ``orderquery``. A
  repeat of a paid order number answers ``ORDERPAID`` without the payment's facts: pending,
  so that the inquiry fetches them. ``return_code`` ``FAIL`` (refused unprocessed, e.g. a bad
  signature) is pending everywhere: this request did nothing, but an earlier one may have.
- Declines: ``NOTENOUGH`` is USER_BALANCE_NOT_ENOUGH, ``AUTH_CODE_INVALID`` USER_NOT_EXIST,
  ``TRADE_ERROR`` (account, risk or rule limits; WeChat has no limit-specific code)
  RISK_REJECT, ``ORDERREVERSED``/``ORDERCLOSED`` ORDER_IS_CLOSED; ``AUTHCODEEXPIRE`` and
  any other code PROCESS_FAIL. ``orderquery``'s ``trade_state``: SUCCESS and REFUND
  succeeded, CLOSED and REVOKED ORDER_IS_CLOSED, PAYERROR PROCESS_FAIL, NOTPAY and
  USERPAYING pending.
- ``reverse`` closes an unpaid order or refunds a paid one; ``recall`` ``Y`` asks for the
  call again (pending). ``ORDERNOTEXIST`` counts as cancelled: WeChat never saw the pay.
  The docs do not say whether it then refuses a late pay with that order number (the
  simulator does, answering ``ORDERREVERSED``); if it does not, the risk is bounded by the
  payment code, which stops working a minute after the traveller showed it.
- ``refund`` answers ``SUCCESS`` when WeChat *accepts* the refund, which it then pays out
  (balance refunds in minutes); the contract has no refund inquiry, so accepted is
  ``SUCCEEDED``. The refund is in ``fee_type`` (``refund_amount``); WeChat works out the CNY
  in proportion to what the payer paid, so ``refund_from_amount`` is not on the wire. It
  answers the CNY it gives back as ``cash_refund_fee``, which the result carries as its
  ``refund_from_amount``, for the hub to book: WeChat's rounding and the hub's may differ
  by a fen on a partial refund. The docs make the order's
  ``total_fee`` mandatory in a refund, but ``RefundRequest`` does not carry the original
  amount, so it is left out (flagged for the SDK).
- ``/secapi/`` APIs require the merchant's client certificate (mutual TLS): that belongs to
  the core's HTTP client for this route, not to a request a connector builds.
- Left out: ``detail``/``version``/``goods_tag`` (goods details and single-item discounts;
  the global page marks ``detail`` and ``version`` required without saying what ``detail``
  must hold for in-store pay), ``device_info``, ``time_start``/``time_expire``. v2 messages
  carry no timestamp (``nonce_str`` only), so ``clock`` is accepted for the factory
  contract and unused.
- Callbacks (a later issue): WeChat Pay posts the same signed ``<xml>`` fields as an
  ``orderquery`` success to a ``notify_url`` and expects ``<xml><return_code>SUCCESS
  </return_code></xml>``; it would be checked by the same envelope and map like an
  inquiry's success. Refund notifications carry ``req_info``, AES-256-ECB encrypted with
  MD5(api_key).
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
    WalletProtocolError,
)
from connectors._time import utc_now
from connectors.wechatpay import _translate
from connectors.wechatpay._envelope import Envelope
from connectors.wechatpay._settings import load_settings
from connectors.wechatpay._wire import (
    BusinessResult,
    MicropayReply,
    OrderqueryReply,
    OrderRef,
    RefundReply,
    ReverseReply,
)

__all__ = ["WeChatPayConnector"]

_MICROPAY = "/pay/micropay"
_ORDERQUERY = "/pay/orderquery"
_REVERSE = "/secapi/pay/reverse"
_REFUND = "/secapi/pay/refund"


def _unknown(response: httpx.Response) -> str:
    return f"wallet answered HTTP {response.status_code}; the outcome is unknown"


class WeChatPayConnector:
    """A :class:`connectors.Connector` for one WeChat Pay cross-border merchant account.

    It is also its own :class:`connectors.ConnectorFactory`.
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
        self._mch_id = config.mch_id
        self._spbill_create_ip = config.spbill_create_ip
        identity = {"appid": config.appid, "mch_id": config.mch_id}
        if config.sub_mch_id is not None:
            identity["sub_mch_id"] = config.sub_mch_id
        self._envelope = Envelope(
            connector=name, base_url=config.base_url, identity=identity, signer=config.signer
        )

    def __repr__(self) -> str:
        return f"WeChatPayConnector(name={self.name!r}, mch_id={self._mch_id!r})"

    def build_pay(self, request: PayRequest) -> httpx.Request:
        """``micropay`` with the traveller's auth code, keyed by ``wallet_request_id``."""
        body = _translate.micropay_body(request, self._spbill_create_ip)
        return self._envelope.request(_MICROPAY, body.fields())

    def parse_pay(self, request: PayRequest, response: httpx.Response) -> PaymentResult:
        reply = self._envelope.read(_MICROPAY, response, MicropayReply)
        if reply is None:
            return PaymentResult.pending(_unknown(response))
        self._check_order(_MICROPAY, request.wallet_request_id, reply)
        if reply.result_code == BusinessResult.SUCCESS:
            # A signed success for another amount is not an answer to this request.
            amount = request.payment_amount
            self._envelope.check_echo(_MICROPAY, "fee_type", amount.currency, reply.fee_type)
            self._envelope.check_echo(_MICROPAY, "total_fee", str(amount.value), reply.total_fee)
            payer_currency = request.pay_to_amount.currency
            self._envelope.check_echo(
                _MICROPAY, "cash_fee_type", payer_currency, reply.cash_fee_type
            )
        return _translate.pay_result(reply)

    def build_inquire(self, request: InquireRequest) -> httpx.Request:
        body = OrderRef(out_trade_no=request.wallet_request_id)
        return self._envelope.request(_ORDERQUERY, body.fields())

    def parse_inquire(self, request: InquireRequest, response: httpx.Response) -> PaymentResult:
        reply = self._envelope.read(_ORDERQUERY, response, OrderqueryReply)
        if reply is None:
            return PaymentResult.pending(_unknown(response))
        self._check_order(_ORDERQUERY, request.wallet_request_id, reply)
        return _translate.inquiry_result(reply)

    def build_cancel(self, request: CancelRequest) -> httpx.Request:
        """``reverse``: closes the order if unpaid, gives the money back if paid."""
        body = OrderRef(out_trade_no=request.wallet_request_id)
        return self._envelope.request(_REVERSE, body.fields())

    def parse_cancel(self, request: CancelRequest, response: httpx.Response) -> CancelResult:
        reply = self._envelope.read(_REVERSE, response, ReverseReply)
        if reply is None:
            return CancelResult.pending(_unknown(response))
        return _translate.cancel_result(reply)

    def build_refund(self, request: RefundRequest) -> httpx.Request:
        """``refund`` keyed by ``refund_request_id``; ``transaction_id`` is sent when known."""
        body = _translate.refund_body(request)
        return self._envelope.request(_REFUND, body.fields())

    def parse_refund(self, request: RefundRequest, response: httpx.Response) -> RefundResult:
        reply = self._envelope.read(_REFUND, response, RefundReply)
        if reply is None:
            return RefundResult.pending(_unknown(response))
        self._check_order(_REFUND, request.wallet_request_id, reply)
        self._envelope.check_echo(
            _REFUND, "out_refund_no", request.refund_request_id, reply.out_refund_no
        )
        if reply.result_code == BusinessResult.SUCCESS:
            self._check_refunded(request, reply)
        return _translate.refund_result(reply, request.refund_from_amount.currency)

    def _check_refunded(self, request: RefundRequest, reply: RefundReply) -> None:
        """A success must be for the amount sent, and give back cash that fits the order:
        the hub books ``cash_refund_fee`` as what the traveller got back."""
        self._envelope.check_echo(
            _REFUND, "refund_fee", str(request.refund_amount.value), reply.refund_fee
        )
        payer_currency = request.refund_from_amount.currency
        self._envelope.check_echo(
            _REFUND, "cash_refund_fee_type", payer_currency, reply.cash_refund_fee_type
        )
        cash, charged = reply.cash_refund_fee, reply.cash_fee
        if cash is not None and (cash < 0 or (charged is not None and cash > charged)):
            raise WalletProtocolError(
                f"{_REFUND}: answer gives back cash_refund_fee {cash} of cash_fee {charged}",
                connector=self.name,
                http_status=200,
            )

    def _check_order(self, api: str, out_trade_no: str, reply: MicropayReply | RefundReply) -> None:
        self._envelope.check_echo(api, "out_trade_no", out_trade_no, reply.out_trade_no)
