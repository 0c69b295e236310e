"""Canonical requests as Daraja bodies: amounts, references, timestamps and passwords.

The answers go the other way in ``_results``.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta, timezone

from connectors import Amount, ConnectorError, PayRequest, RefundRequest
from connectors.mpesa._callback import signed_url
from connectors.mpesa._settings import WALLET_CURRENCY, MpesaSettings
from connectors.mpesa._wire import ReversalBody, StkPushBody, StkQueryBody

__all__ = [
    "CENTS_PER_SHILLING",
    "EAT",
    "account_reference",
    "password",
    "reversal_body",
    "stk_push_body",
    "stk_query_body",
    "timestamp",
    "whole_shillings",
]

#: Kenya's time (UTC+3, no daylight saving): Daraja's timestamps are local.
EAT = timezone(timedelta(hours=3), "EAT")

#: KES has two minor digits (ISO 4217); Daraja's ``Amount`` is whole shillings, so this is
#: also the connector's ``amount_step``.
CENTS_PER_SHILLING = 100
_ACCOUNT_REFERENCE_LENGTH = 12  # Daraja: "Maximum of 12 characters"
_TRANSACTION_DESC_LENGTH = 13  # Daraja: "between 1 and 13 characters"


def timestamp(now: datetime) -> str:
    """Daraja's ``Timestamp``: ``YYYYMMDDHHMMSS`` in Kenyan time."""
    return now.astimezone(EAT).strftime("%Y%m%d%H%M%S")


def password(shortcode: str, passkey: str, stamp: str) -> str:
    """``base64(Shortcode + Passkey + Timestamp)``: M-Pesa Express's request credential."""
    return base64.b64encode(f"{shortcode}{passkey}{stamp}".encode()).decode()


def account_reference(wallet_request_id: str) -> str:
    """The 12-character ``AccountReference`` standing for ``wallet_request_id``.

    The id itself may be longer than Daraja allows and may hold characters it rejects, so
    the reference is the first 12 base32 characters (60 bits) of its SHA-256: the same id
    always gives the same reference, which is what the wallet deduplicates on.
    """
    digest = hashlib.sha256(wallet_request_id.encode()).digest()
    return base64.b32encode(digest).decode()[:_ACCOUNT_REFERENCE_LENGTH]


def whole_shillings(amount: Amount, connector: str) -> int:
    """``amount`` (minor units) in whole shillings; refuses what Daraja cannot express."""
    if amount.currency != WALLET_CURRENCY:
        raise ConnectorError(
            f"M-Pesa charges in {WALLET_CURRENCY}, not {amount.currency}", connector=connector
        )
    shillings, cents = divmod(amount.value, CENTS_PER_SHILLING)
    if cents:
        # Rounding would charge a different amount than the quote the acquirer agreed to.
        raise ConnectorError(
            f"M-Pesa charges whole shillings; {amount} has {cents} cents", connector=connector
        )
    return shillings


def stk_push_body(
    request: PayRequest, config: MpesaSettings, now: datetime, connector: str
) -> StkPushBody:
    stamp = timestamp(now)
    phone = request.payment_code.strip().removeprefix("+")
    description = request.merchant.name.strip()[:_TRANSACTION_DESC_LENGTH] or "Payment"
    return StkPushBody(
        BusinessShortCode=config.shortcode,
        Password=password(config.shortcode, config.passkey.get_secret_value(), stamp),
        Timestamp=stamp,
        TransactionType="CustomerPayBillOnline",
        Amount=whole_shillings(request.pay_to_amount, connector),
        PartyA=phone,
        PartyB=config.shortcode,
        PhoneNumber=phone,
        CallBackURL=signed_url(
            config.callback_url, config.callback_key, "pay", request.wallet_request_id
        ),
        AccountReference=account_reference(request.wallet_request_id),
        TransactionDesc=description,
    )


def stk_query_body(checkout_request_id: str, config: MpesaSettings, now: datetime) -> StkQueryBody:
    stamp = timestamp(now)
    return StkQueryBody(
        BusinessShortCode=config.shortcode,
        Password=password(config.shortcode, config.passkey.get_secret_value(), stamp),
        Timestamp=stamp,
        CheckoutRequestID=checkout_request_id,
    )


def reversal_body(request: RefundRequest, config: MpesaSettings, connector: str) -> ReversalBody:
    if not request.wallet_payment_id:
        raise ConnectorError(
            "an M-Pesa reversal names the payment by its M-Pesa receipt number "
            "(wallet_payment_id), which this refund lacks",
            connector=connector,
        )
    # The result comes to ResultURL, or to QueueTimeOutURL if M-Pesa's queue gave up on it.
    result_url = signed_url(
        config.callback_url, config.callback_key, "refund", request.refund_request_id
    )
    return ReversalBody(
        Initiator=config.initiator_name,
        SecurityCredential=config.security_credential.get_secret_value(),
        TransactionID=request.wallet_payment_id,
        Amount=whole_shillings(request.refund_from_amount, connector),
        ReceiverParty=config.shortcode,
        ResultURL=result_url,
        QueueTimeOutURL=result_url,
        Remarks=(request.reason or "Refund").strip()[:100] or "Refund",
        # Occasion is free text echoed nowhere else; it carries the refund's idempotency key
        # (Daraja allows 100 characters), on which the simulator deduplicates.
        Occasion=request.refund_request_id[:100],
    )
