"""The KakaoPay connector: a Korean traveller pays from KakaoPay's online payment API.

KakaoPay's single payment is a redirect flow: the merchant calls ``ready``, sends the
traveller to ``next_redirect_*_url``, KakaoPay sends them back to ``approval_url`` with a
``pg_token``, and the merchant calls ``approve``. ``order`` reports a payment's status and
``cancel`` takes back all or part of it (a refund is a partial cancel). Every call is a JSON
``POST`` to ``https://open-api.kakaopay.com/online/v1/payment/<api>`` with
``Authorization: SECRET_KEY <secret key>`` (the current open API; the older
``kapi.kakao.com`` form with ``KakaoAK <admin key>`` and form bodies is not modelled, but
its ``code``/``msg`` error bodies are read). KakaoPay signs nothing, and its only currency
is the won, which has no minor unit: amounts go out as they are. Failures are HTTP 4xx with
``error_code``; ``_wire.ErrorCode`` says which codes are published and which are ours.

How Causeway's contract maps onto it:

- ``build_pay`` is ``ready``; ``partner_order_id`` is ``wallet_request_id`` and
  ``partner_user_id`` is ``PayRequest.payment_code``, the traveller's KakaoPay user
  identifier. (For a merchant, ``partner_user_id`` is its own user id and KakaoPay learns
  who pays on its page; here it names the traveller, so the simulator knows who approves.)
- ``parse_pay`` is always pending on success: nothing is charged until the traveller
  approves. It carries the ``tid`` in ``wallet_payment_id``; the core keeps it and passes
  it back as ``wallet_payment_id`` of :class:`~connectors.InquireRequest`,
  :class:`~connectors.CancelRequest` and :class:`~connectors.RefundRequest`.
- KakaoPay does not document deduplicating ``ready`` by ``partner_order_id``; the
  simulator does (a repeat gets the same ``tid``; other amounts under the same id are
  refused), as the contract needs. With the real wallet a repeated ``ready`` only opens a
  second ``tid`` nobody approves, which is harmless: money moves only on ``approve``.
- The traveller's approval (and the hub's ``approve`` call) happen outside the contract.
  The simulator plays the traveller and approves by itself, immediately or after
  ``approval_delay_seconds``, debiting the account or failing the payment; ``order`` then
  says ``SUCCESS_PAYMENT`` or ``FAIL_PAYMENT``. Its ``FAIL_PAYMENT`` answer carries the
  failed approval's ``extras`` (an extension) so a decline keeps its reason.
- ``build_inquire`` is ``order`` and ``build_cancel`` a full ``cancel``; both name the
  payment by ``cid`` + ``tid`` (the request's ``wallet_payment_id``), as KakaoPay requires,
  and an answer naming another ``tid`` is refused. Without a tid (a ``ready`` whose answer
  was lost) they name it by ``partner_order_id`` instead: a Causeway extension the
  simulator implements and **the real wallet does not**. There, such a payment is never
  charged (``approve`` needs the tid the hub never learnt), but it cannot be asked about
  either: the error answer reads as pending (or as ``ORDER_NOT_EXIST``, should it be
  -721). With the simulator, an ``order`` answer found this way carries the ``tid`` (a
  pending one too), so from then on the core asks by the tid.
- KakaoPay's ``cancel`` also needs ``cancel_amount``, which ``CancelRequest`` does not
  carry: leaving it out means "everything still cancellable", another extension the
  simulator implements; against the real wallet the SDK must pass the amount.
- ``build_refund`` is a ``cancel`` with ``cancel_amount`` = ``refund_from_amount``, naming
  the payment the same way. KakaoPay has no refund request id: ``refund_request_id``
  travels in ``payload`` (echoed back, stored with the cancel), on which the simulator
  deduplicates (unless told to behave as the real wallet, ``refunds_deduplicated=False``);
  the real wallet does not, so a retried refund could pay twice. The connector declares
  ``refunds_deduplicated=False`` and is a :class:`~connectors.RefundInquiry`: the hub
  looks for the refund's ``payload`` among the cancels ``order`` lists in
  ``payment_action_details`` before it ever sends that refund again.
- ``build_inquire_refund`` is ``order`` for the refunded payment, named as
  ``build_inquire`` names it. ``parse_inquire_refund`` finds the ``CANCEL`` entry whose
  ``payload`` is ``refund_request_id``: found, with its ``aid`` as ``wallet_refund_id``;
  an entry of another kind or amount, or two of them, is a protocol error (never a
  success). No such entry on a charged payment (``SUCCESS_PAYMENT``,
  ``PART_CANCEL_PAYMENT``, ``CANCEL_PAYMENT``) means absent; anything else does not tell.
- "A cancel wins" holds by construction with the real wallet (no money moves until the
  hub calls ``approve``); the simulator, approving by itself, instead closes a
  ``partner_order_id`` cancelled before its ``ready`` arrived.
- Inbound callbacks (a later issue): KakaoPay's single payment documents no
  server-to-server notification; its "callback" is the traveller's browser returning to
  ``approval_url`` with ``pg_token`` (or to ``cancel_url``/``fail_url``). The hub's route
  there would call ``approve`` and map its answer (``SUCCESS_PAYMENT`` fields, or -780
  with ``extras``) as ``parse_inquire`` maps ``order``.

Settings (one route's table in the configuration)::

    base_url      "https://open-api.kakaopay.com"         where the API lives
    cid           "TC0ONETIME"                            the merchant (here: hub) code
    secret_key    "DEV..."                                the secret key (secret)
    approval_url  "https://hub.example/kakaopay/return"   where KakaoPay sends the traveller
    cancel_url    (optional, default approval_url)
    fail_url      (optional, default approval_url)
    currencies    ["KRW"]                                 the only one KakaoPay charges in
    regions       ["KR"]
    path_prefix   "/online/v1/payment"                    optional

Example::

    connector = KakaoPayConnector("kakaopay", settings)
    response = await exchange(client, connector.build_pay(request), connector=connector.name)
    result = connector.parse_pay(request, response)   # PENDING, with the tid
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx

from connectors import (
    Amount,
    CancelRequest,
    CancelResult,
    Capabilities,
    InquireRequest,
    Operation,
    OperationNotSupported,
    PaymentResult,
    PayRequest,
    RefundLookup,
    RefundRequest,
    RefundResult,
)
from connectors._time import utc_now
from connectors.kakaopay import _results, _translate
from connectors.kakaopay._envelope import Envelope
from connectors.kakaopay._settings import load_settings
from connectors.kakaopay._wire import (
    CancelResponse,
    OrderResponse,
    PaymentActionType,
    ReadyResponse,
)

__all__ = ["KakaoPayConnector"]

_READY = "ready"
_ORDER = "order"
_CANCEL = "cancel"


def _unknown(response: httpx.Response) -> str:
    return f"KakaoPay answered HTTP {response.status_code}; the outcome is unknown"


class KakaoPayConnector:
    """A :class:`connectors.Connector` and :class:`connectors.RefundInquiry` for KakaoPay's
    online payment API.

    It is also its own :class:`connectors.ConnectorFactory`. ``clock`` is accepted for the
    uniform factory signature; KakaoPay's requests carry no timestamp to stamp.
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
            # The acquirer presents the traveller's code; the redirect is KakaoPay's side.
            modes=frozenset({"PaymentCode"}),
            # The real wallet takes no refund request id (see above): a refund sent again
            # could pay twice, so the hub asks (build_inquire_refund) before it does.
            refunds_deduplicated=False,
        )
        self._cid = config.cid
        self._currencies = config.currencies
        self._urls = (config.approval_url, config.cancel_url, config.fail_url)
        self._envelope = Envelope(
            connector=name,
            base_url=config.base_url,
            path_prefix=config.path_prefix,
            secret_key=config.secret_key,
        )

    def __repr__(self) -> str:
        return f"KakaoPayConnector(name={self.name!r}, cid={self._cid!r})"

    def _check_currency(self, amount: Amount) -> None:
        # Sending ¥1,200 as ₩1,200 would be a silent loss: refuse before anything leaves.
        if amount.currency not in self._currencies:
            raise OperationNotSupported(
                f"KakaoPay charges in {', '.join(sorted(self._currencies))}, not {amount.currency}",
                connector=self.name,
            )

    def build_pay(self, request: PayRequest) -> httpx.Request:
        """``ready`` for the traveller ``payment_code``, keyed by ``wallet_request_id``."""
        self._check_currency(request.pay_to_amount)
        body = _translate.ready_body(request, self._cid, self._urls)
        return self._envelope.request(_READY, body.to_bytes())

    def parse_pay(self, request: PayRequest, response: httpx.Response) -> PaymentResult:
        answer = self._envelope.read(_READY, response, ReadyResponse)
        if answer is None:
            return PaymentResult.pending(_unknown(response))
        return _results.pay_result(answer)

    def build_inquire(self, request: InquireRequest) -> httpx.Request:
        """``order`` by ``tid`` (``wallet_payment_id``), else by ``partner_order_id`` (see
        the module docstring)."""
        body = _translate.order_body(request, self._cid)
        return self._envelope.request(_ORDER, body.to_bytes())

    def parse_inquire(self, request: InquireRequest, response: httpx.Response) -> PaymentResult:
        answer = self._envelope.read(_ORDER, response, OrderResponse)
        if answer is None:
            return PaymentResult.pending(_unknown(response))
        if isinstance(answer, OrderResponse):
            echo = self._envelope.check_echo
            echo(_ORDER, "partner_order_id", request.wallet_request_id, answer.partner_order_id)
            echo(_ORDER, "tid", request.wallet_payment_id, answer.tid)
        return _results.inquiry_result(answer)

    def build_cancel(self, request: CancelRequest) -> httpx.Request:
        """A full ``cancel`` by ``tid``, else by ``partner_order_id``, before or after
        approval."""
        body = _translate.cancel_body(request, self._cid)
        return self._envelope.request(_CANCEL, body.to_bytes())

    def parse_cancel(self, request: CancelRequest, response: httpx.Response) -> CancelResult:
        answer = self._envelope.read(_CANCEL, response, CancelResponse)
        if answer is None:
            return CancelResult.pending(_unknown(response))
        if isinstance(answer, CancelResponse):
            echo = self._envelope.check_echo
            echo(_CANCEL, "partner_order_id", request.wallet_request_id, answer.partner_order_id)
            echo(_CANCEL, "tid", request.wallet_payment_id, answer.tid)
        return _results.cancel_result(answer)

    def build_refund(self, request: RefundRequest) -> httpx.Request:
        """A partial ``cancel`` of ``refund_from_amount``, keyed by ``refund_request_id``."""
        self._check_currency(request.refund_from_amount)
        body = _translate.refund_body(request, self._cid)
        return self._envelope.request(_CANCEL, body.to_bytes())

    def parse_refund(self, request: RefundRequest, response: httpx.Response) -> RefundResult:
        answer = self._envelope.read(_CANCEL, response, CancelResponse)
        if answer is None:
            return RefundResult.pending(_unknown(response))
        if isinstance(answer, CancelResponse):
            echo = self._envelope.check_echo
            echo(_CANCEL, "partner_order_id", request.wallet_request_id, answer.partner_order_id)
            echo(_CANCEL, "tid", request.wallet_payment_id, answer.tid)
            echo(_CANCEL, "payload", request.refund_request_id, answer.payload)
            # A cancel of another amount than asked is not the refund we sent.
            cancelled = answer.approved_cancel_amount
            echo(
                _CANCEL,
                "approved_cancel_amount",
                str(request.refund_from_amount.value),
                None if cancelled is None else str(cancelled.total),
            )
        return _results.refund_result(answer)

    def build_inquire_refund(self, request: RefundRequest) -> httpx.Request:
        """``order`` for the refunded payment (by ``tid``, else ``partner_order_id``), whose
        ``payment_action_details`` list its cancels."""
        self._check_currency(request.refund_from_amount)  # the amounts compared are won
        body = _translate.refund_order_body(request, self._cid)
        return self._envelope.request(_ORDER, body.to_bytes())

    def parse_inquire_refund(
        self, request: RefundRequest, response: httpx.Response
    ) -> RefundLookup:
        answer = self._envelope.read(_ORDER, response, OrderResponse)
        if answer is None:
            return RefundLookup.unknown(_unknown(response))
        if not isinstance(answer, OrderResponse):
            return RefundLookup.unknown(f"order refused: {answer.message}")
        echo = self._envelope.check_echo
        echo(_ORDER, "partner_order_id", request.wallet_request_id, answer.partner_order_id)
        echo(_ORDER, "tid", request.wallet_payment_id, answer.tid)
        if answer.payment_action_details is None:
            return RefundLookup.unknown("order lists no payment_action_details")
        payload = request.refund_request_id
        ours = [a for a in answer.payment_action_details if a.payload == payload]
        if not ours:
            return _results.refund_absence(answer, payload)
        refuse = self._envelope.refuse
        if len(ours) > 1:
            # Refunded more than once under one id: for an operator, not for a guess.
            raise refuse(_ORDER, f"{len(ours)} entries carry payload {payload!r}")
        action = ours[0]
        if PaymentActionType.read(action.payment_action_type) is not PaymentActionType.CANCEL:
            raise refuse(
                _ORDER, f"the entry with payload {payload!r} is {action.payment_action_type!r}"
            )
        wanted = request.refund_from_amount.value
        if action.amount != wanted:
            # Not the refund the hub asked for, whatever carries its id: never a success.
            raise refuse(
                _ORDER,
                f"the cancel with payload {payload!r} is of {action.amount} won, not {wanted}",
            )
        return RefundLookup.found(
            wallet_refund_id=action.aid, refunded_at=_translate.parse_time(action.approved_at)
        )
