"""Translation between Causeway's canonical types and the adapter's outbound transfers.

A payment is a transfer *from* the traveller (MSISDN = ``payment_code``) *to* the
configured payee party, for exactly ``pay_to_amount`` (``amountType`` SEND: fees come out of
what the payee receives, never on top of what the traveller was told). A refund is a new
transfer back, for exactly ``refund_from_amount`` received by the traveller (RECEIVE: any
fee is the merchant side's). The canonical refund does not know the traveller, and needs
not: it is addressed, as FSPIOP addresses a refund, by the original transaction. Its payee
is the party ``ALIAS`` = the payment's transferId at the wallet's DFSP (``skipPartyLookup``:
only that DFSP can resolve it, to the customer who paid), and the extension
``originalTransferId`` marks it as a refund of that payment.

Results: the adapter's state is first reduced to a :data:`~_verdict.Verdict` (committed,
failed, or still open); each operation then gives that its own meaning.
"""

from __future__ import annotations

from typing import assert_never

from connectors import (
    Amount,
    OperationNotSupported,
    PaymentResult,
    PayRequest,
    RefundRequest,
    RefundResult,
)
from connectors.mojaloop._amounts import to_major
from connectors.mojaloop._answers import Answer, Refused, Reported, Silent
from connectors.mojaloop._settings import ConnectorSettings
from connectors.mojaloop._verdict import Committed, Failed, Open, verdict
from connectors.mojaloop._wire import TransferBody, WireExtension, WireParty, transfer_id

__all__ = ["inquiry_result", "pay_body", "pay_result", "refund_body", "refund_result"]

_NOTE_MAX = 128  # FSPIOP Note
_ORIGINAL = "originalTransferId"  # the refund's link to its payment (ExtensionKey ≤ 32)

#: FSPIOP errors that end a payment, as Alipay+ codes; any other ends it as PROCESS_FAIL.
#: 4001 is the *payer FSP's* liquidity at the switch: FSPIOP has no code for a customer's
#: own balance, so a payer DFSP refusing its customer for funds has nothing nearer (the
#: simulator uses it so); for the merchant it is the same: the traveller's side cannot pay.
_PAY_DECLINES = {
    "3204": "USER_NOT_EXIST",  # party not found
    "4001": "USER_BALANCE_NOT_ENOUGH",
    "4200": "PAYMENT_AMOUNT_EXCEED_LIMIT",  # payer limit error
    "4100": "RISK_REJECT",  # generic payer rejection
    "4101": "RISK_REJECT",  # payer rejected
    "4300": "RISK_REJECT",  # payer permission error
    "4400": "RISK_REJECT",  # payer blocked / failed screening
}
#: For a refund the merchant side pays: 4200 is its limit on what is left to refund.
_REFUND_DECLINES = {"3208": "ORDER_NOT_EXIST", "4200": "REFUND_AMOUNT_EXCEED"}


def _major(amount: Amount, config: ConnectorSettings, connector: str) -> str:
    # The one exponent configured is right only for the currencies configured.
    if amount.currency not in config.currencies:
        raise OperationNotSupported(
            f"{connector} moves {sorted(config.currencies)}, not {amount.currency}",
            connector=connector,
        )
    return to_major(amount.value, config.currency_exponent)


def _note(text: str) -> str:
    return text if len(text) <= _NOTE_MAX else text[: _NOTE_MAX - 1] + "…"


def _payee(config: ConnectorSettings) -> WireParty:
    return WireParty(type="BUSINESS", idType=config.payee_id_type, idValue=config.payee_id_value)


def pay_body(request: PayRequest, config: ConnectorSettings, connector: str) -> TransferBody:
    merchant = request.merchant
    return TransferBody(
        homeTransactionId=request.wallet_request_id,
        transferId=transfer_id("pay", request.wallet_request_id),
        from_=WireParty(
            type="CONSUMER", idType="MSISDN", idValue=request.payment_code, fspId=config.dfsp_id
        ),
        to=_payee(config),
        amountType="SEND",
        currency=request.pay_to_amount.currency,
        amount=_major(request.pay_to_amount, config, connector),
        note=_note(f"{merchant.name}: {request.order_description}"),
    )


def refund_body(request: RefundRequest, config: ConnectorSettings, connector: str) -> TransferBody:
    original = transfer_id("pay", request.wallet_request_id)
    return TransferBody(
        homeTransactionId=request.refund_request_id,
        transferId=transfer_id("refund", request.refund_request_id),
        from_=_payee(config),
        to=WireParty(type="CONSUMER", idType="ALIAS", idValue=original, fspId=config.dfsp_id),
        amountType="RECEIVE",
        currency=request.refund_from_amount.currency,
        amount=_major(request.refund_from_amount, config, connector),
        note=_note(f"Refund: {request.reason}" if request.reason else "Refund"),
        quoteRequestExtensions=[WireExtension(key=_ORIGINAL, value=original)],
        skipPartyLookup=True,
    )


def pay_result(answer: Answer, *, transfer: str) -> PaymentResult:
    match answer:
        case Refused(code, message):
            return PaymentResult.declined("PROCESS_FAIL", message, wallet_code=code)
        case Silent(message):
            return PaymentResult.pending(message)
        case Reported(state, final):
            match verdict(state, final):
                case Committed(completed_at):
                    return PaymentResult.succeeded(wallet_payment_id=transfer, paid_at=completed_at)
                case Failed(code, message, source):
                    mapped = _PAY_DECLINES.get(code, "PROCESS_FAIL")
                    return PaymentResult.declined(
                        mapped if source == "scheme" else "PROCESS_FAIL", message, wallet_code=code
                    )
                case Open(state_code, message):
                    return PaymentResult.pending(message, wallet_code=state_code)
        case unreachable:
            assert_never(unreachable)


def inquiry_result(answer: Answer, *, transfer: str) -> PaymentResult:
    """Only the switch's own word is final: ``COMMITTED``, ``ABORTED``, or 3208 (it has no
    such transfer). An inquiry that fails in any other way leaves the payment unknown."""
    match answer:
        case Refused(code, message):
            return PaymentResult.pending(message, wallet_code=code)
        case Silent(message):
            return PaymentResult.pending(message)
        case Reported(state, final):
            match verdict(state, final):
                case Committed(completed_at):
                    return PaymentResult.succeeded(wallet_payment_id=transfer, paid_at=completed_at)
                case Failed(code, message, "switch"):
                    return PaymentResult.declined("PROCESS_FAIL", message, wallet_code=code)
                case Failed("3208", message, "scheme"):
                    return PaymentResult.declined("ORDER_NOT_EXIST", message, wallet_code="3208")
                case Failed(code, message, _):
                    return PaymentResult.pending(f"inquiry: {message}", wallet_code=code)
                case Open(state_code, message):
                    return PaymentResult.pending(f"inquiry: {message}", wallet_code=state_code)
        case unreachable:
            assert_never(unreachable)


def refund_result(answer: Answer, *, transfer: str) -> RefundResult:
    match answer:
        case Refused(code, message):
            return RefundResult.declined("PROCESS_FAIL", f"{message} ({code})")
        case Silent(message):
            return RefundResult.pending(message)
        case Reported(state, final):
            match verdict(state, final):
                case Committed(completed_at):
                    return RefundResult.succeeded(
                        wallet_refund_id=transfer, refunded_at=completed_at
                    )
                case Failed(code, message, source):
                    mapped = _REFUND_DECLINES.get(code, "PROCESS_FAIL")
                    return RefundResult.declined(
                        mapped if source == "scheme" else "PROCESS_FAIL", f"{message} ({code})"
                    )
                case Open(_, message):
                    return RefundResult.pending(message)
        case unreachable:
            assert_never(unreachable)
