"""Translation between Causeway's canonical types and the WeChat Pay v2 wire.

Results are read top-down: ``return_code`` (did the wallet process the request), then
``result_code`` (how the operation went), then ``err_code`` or ``trade_state``. Statuses are
matched over enums; a value the protocol does not define becomes pending, and only an
explicit ``SUCCESS`` at every level is ever a success.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import assert_never

from connectors import (
    Amount,
    CancelResult,
    PaymentResult,
    PayRequest,
    RefundRequest,
    RefundResult,
)
from connectors.wechatpay._wire import (
    BusinessResult,
    MicropayBody,
    MicropayReply,
    OrderqueryReply,
    Recall,
    RefundBody,
    RefundReply,
    ReturnCode,
    ReverseReply,
    TradeState,
    WireReply,
    known,
)

__all__ = [
    "cancel_result",
    "inquiry_result",
    "micropay_body",
    "pay_result",
    "refund_body",
    "refund_result",
]

#: WeChat Pay's times are China Standard Time, ``yyyyMMddHHmmss``, without an offset.
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")

#: The documented length of ``body``; a longer description would fail the payment.
_BODY_LENGTH = 127

#: Quick-pay error codes that leave the payment's fate open: the payer is typing a
#: password, the wallet or the bank failed mid-way, or the order number was already used
#: (by an earlier request of ours, whose charge this answer neither shows nor denies).
_PAY_PENDING = frozenset(
    {"USERPAYING", "SYSTEMERROR", "BANKERROR", "ORDERPAID", "OUT_TRADE_NO_USED"}
)

#: Quick-pay declines with a matching Alipay+ code; any other decline is PROCESS_FAIL.
_PAY_DECLINES = {
    "NOTENOUGH": "USER_BALANCE_NOT_ENOUGH",
    # The code identifies no payer (mistyped, not a WeChat code, or already spent).
    "AUTH_CODE_INVALID": "USER_NOT_EXIST",
    "AUTH_CODE_ERROR": "USER_NOT_EXIST",
    # Documented as "account abnormal, risk control, rule limits": the wallet's policy.
    "TRADE_ERROR": "RISK_REJECT",
    "ORDERCLOSED": "ORDER_IS_CLOSED",
    "ORDERREVERSED": "ORDER_IS_CLOSED",
}

#: Reverse and refund codes that ask for the same request again.
_RETRY = frozenset({"SYSTEMERROR", "BIZERR_NEED_RETRY", "FREQUENCY_LIMITED", "USERPAYING"})


def _description(text: str) -> str:
    # Display text for the payer's bill: control characters would make invalid XML.
    return "".join(ch for ch in text if ch.isprintable())[:_BODY_LENGTH]


def _paid_at(value: str | None) -> datetime | None:
    """``time_end`` as an aware time, or ``None``: a malformed time is informational and
    must not turn a charge into an error."""
    if value is None:
        return None
    try:
        parsed = datetime.strptime(value, "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return parsed.replace(tzinfo=CHINA_STANDARD_TIME)


def micropay_body(request: PayRequest, spbill_create_ip: str) -> MicropayBody:
    """The quick pay: the merchant's price in its own currency, the payer's auth code.

    WeChat Pay converts ``total_fee`` to CNY at its own rate; ``pay_to_amount`` is not on
    the wire (see the package docstring).
    """
    return MicropayBody(
        body=_description(request.order_description),
        attach=request.reference_order_id or None,
        out_trade_no=request.wallet_request_id,
        total_fee=str(request.payment_amount.value),
        fee_type=request.payment_amount.currency,
        spbill_create_ip=spbill_create_ip,
        auth_code=request.payment_code,
    )


def refund_body(request: RefundRequest) -> RefundBody:
    """A refund of ``refund_amount``: WeChat Pay refunds in the order's currency and works
    out the CNY to give back in proportion to what the payer paid."""
    return RefundBody(
        transaction_id=request.wallet_payment_id,
        out_trade_no=request.wallet_request_id,
        out_refund_no=request.refund_request_id,
        refund_fee=str(request.refund_amount.value),
        refund_fee_type=request.refund_amount.currency,
    )


def _processed(reply: WireReply) -> bool:
    """Whether the wallet took the request in; anything but ``SUCCESS`` means it did not."""
    match known(ReturnCode, reply.return_code):
        case ReturnCode.SUCCESS:
            return True
        case ReturnCode.FAIL | None:
            return False
        case unreachable:
            assert_never(unreachable)


def _refused(reply: WireReply) -> str:
    return f"the wallet refused the request before processing it: {reply.return_msg}"


def _succeeded(reply: MicropayReply) -> PaymentResult:
    cash = reply.cash_fee
    return PaymentResult.succeeded(
        wallet_payment_id=reply.transaction_id,
        customer_id=reply.openid,
        paid_at=_paid_at(reply.time_end),
        # What WeChat charged at its own rate; CNY when the answer does not say.
        pay_to_amount=None if cash is None else Amount(reply.cash_fee_type or "CNY", cash),
    )


def _pay_failure(reply: WireReply) -> PaymentResult:
    code = reply.err_code
    if code in _PAY_PENDING:
        return PaymentResult.pending(reply.failure, wallet_code=code)
    return PaymentResult.declined(
        _PAY_DECLINES.get(code or "", "PROCESS_FAIL"), reply.failure, wallet_code=code
    )


def pay_result(reply: MicropayReply) -> PaymentResult:
    if not _processed(reply):
        # Nothing was charged by *this* request, but an earlier one with the same order
        # number may have been; an inquiry tells.
        return PaymentResult.pending(_refused(reply))
    match known(BusinessResult, reply.result_code):
        case BusinessResult.SUCCESS:
            return _succeeded(reply)
        case BusinessResult.FAIL:
            return _pay_failure(reply)
        case None:
            return PaymentResult.pending(
                f"result_code {reply.result_code!r}", wallet_code=reply.result_code
            )
        case unreachable:
            assert_never(unreachable)


def _trade_state(reply: OrderqueryReply) -> PaymentResult:
    state = known(TradeState, reply.trade_state)
    message = reply.trade_state_desc or f"trade_state {reply.trade_state!r}"
    match state:
        case TradeState.SUCCESS | TradeState.REFUND:
            # REFUND: the payment succeeded; its refunds are children of it.
            return _succeeded(reply)
        case TradeState.CLOSED | TradeState.REVOKED:
            return PaymentResult.declined("ORDER_IS_CLOSED", message, wallet_code=reply.trade_state)
        case TradeState.PAYERROR:
            return PaymentResult.declined("PROCESS_FAIL", message, wallet_code=reply.trade_state)
        case TradeState.NOTPAY | TradeState.USERPAYING | TradeState.ACCEPT | None:
            return PaymentResult.pending(message, wallet_code=reply.trade_state)
        case unreachable:
            assert_never(unreachable)


def inquiry_result(reply: OrderqueryReply) -> PaymentResult:
    if not _processed(reply):
        return PaymentResult.pending(_refused(reply))
    match known(BusinessResult, reply.result_code):
        case BusinessResult.SUCCESS:
            return _trade_state(reply)
        case BusinessResult.FAIL if reply.err_code == "ORDERNOTEXIST":
            return PaymentResult.declined(
                "ORDER_NOT_EXIST", reply.failure, wallet_code="ORDERNOTEXIST"
            )
        case BusinessResult.FAIL | None:
            # The inquiry itself failed: the payment's state is as unknown as before.
            return PaymentResult.pending(
                f"inquiry failed: {reply.failure}", wallet_code=reply.err_code
            )
        case unreachable:
            assert_never(unreachable)


def cancel_result(reply: ReverseReply) -> CancelResult:
    if not _processed(reply):
        return CancelResult.pending(_refused(reply))
    match known(BusinessResult, reply.result_code):
        case BusinessResult.SUCCESS:
            return _recall(reply)
        case BusinessResult.FAIL if reply.err_code == "ORDERNOTEXIST":
            # WeChat Pay never saw a pay with this order number. See the package docstring
            # for why that counts as cancelled.
            return CancelResult.succeeded()
        case BusinessResult.FAIL if reply.err_code == "REVERSE_EXPIRE":
            return CancelResult.declined("CANCEL_WINDOW_EXCEED", reply.failure)
        case BusinessResult.FAIL if reply.err_code in _RETRY:
            return CancelResult.pending(reply.failure)
        case BusinessResult.FAIL:
            return CancelResult.declined("PROCESS_FAIL", reply.failure)
        case None:
            return CancelResult.pending(f"result_code {reply.result_code!r}")
        case unreachable:
            assert_never(unreachable)


def _recall(reply: ReverseReply) -> CancelResult:
    match known(Recall, reply.recall):
        case Recall.NO:
            return CancelResult.succeeded()
        case Recall.YES | None:
            # The wallet has not finished reversing: it asks for the same call again.
            return CancelResult.pending(f"reverse not finished (recall {reply.recall!r})")
        case unreachable:
            assert_never(unreachable)


def refund_result(reply: RefundReply, payer_currency: str) -> RefundResult:
    """The answer to a refund; a success says what the payer gets back, in
    ``payer_currency``, when the answer has ``cash_refund_fee``."""
    if not _processed(reply):
        return RefundResult.pending(_refused(reply))
    match known(BusinessResult, reply.result_code):
        case BusinessResult.SUCCESS:
            # The refund is accepted and will be paid out; see the package docstring.
            cash = reply.cash_refund_fee
            return RefundResult.succeeded(
                wallet_refund_id=reply.refund_id,
                refund_from_amount=None if cash is None else Amount(payer_currency, cash),
            )
        case BusinessResult.FAIL if reply.err_code == "ORDERNOTEXIST":
            return RefundResult.declined("ORDER_NOT_EXIST", reply.failure)
        case BusinessResult.FAIL if reply.err_code in _RETRY:
            return RefundResult.pending(reply.failure)
        case BusinessResult.FAIL:
            return RefundResult.declined("PROCESS_FAIL", reply.failure)
        case None:
            return RefundResult.pending(f"result_code {reply.result_code!r}")
        case unreachable:
            assert_never(unreachable)
