"""What a SNAP ``responseCode`` says, and which Alipay+ result code a decline becomes.

A code is ``HTTP(3) + service(2) + case(2)``; the case numbers are shared by every service
but scoped by the HTTP part (``403xx14`` is insufficient funds, ``404xx14`` a paid bill).
The cases used here, from the SNAP standard's table as DANA, Faspay and Midtrans publish it:

====================  ==============================================================
``200xx00``           successful
``202xx00``           request in progress
``400xx00/01/02``     bad request, invalid field format, invalid mandatory field
``401xx00/01/03``     unauthorized (signature, client), invalid / unknown B2B token
``401xx02/04``        invalid / unknown *customer* token: the payer, not the hub
``403xx00``           transaction expired (DANA: outside the cancel window)
``403xx02``           exceeds transaction amount limit (refunds: more than was paid)
``403xx03``           suspected fraud
``403xx14``           insufficient funds (refunds: the merchant's)
``403xx19``           account limit exceeded
``404xx00``           invalid transaction status
``404xx01``           transaction not found
``404xx04``           transaction cancelled
``404xx11``           invalid card / account / customer
``404xx12``           invalid bill (DANA, refund of an unknown order)
``404xx18``           inconsistent request (same partner reference, other fields)
``409xx00/01``        conflict: X-EXTERNAL-ID reused today / duplicate partnerReferenceNo
``429xx00``           too many requests
``5xxxxyy``           general / internal / external server error, timeout
====================  ==============================================================
"""

from __future__ import annotations

import enum

from connectors.snapbi._wire import ResponseCode

__all__ = ["Verdict", "cancel_decline", "payment_decline", "refund_decline", "verdict"]


class Verdict(enum.StrEnum):
    """What a response code says about the operation it answers."""

    #: ``200xx00``: done.
    SUCCESS = "success"
    #: ``202xxyy``: accepted, not finished.
    IN_PROGRESS = "in-progress"
    #: The wallet refused *this request* (format, credentials, rate, a reused id) without
    #: saying anything about the transaction it names, which an earlier request with the
    #: same id may well have completed: only an inquiry can tell.
    REJECTED = "rejected"
    #: An explicit refusal of the transaction itself.
    DECLINED = "declined"
    #: A server error or a code outside the table: the outcome is unknown.
    UNKNOWN = "unknown"


def verdict(code: ResponseCode) -> Verdict:
    match code.http, code.case:
        case 200, "00":
            return Verdict.SUCCESS
        case 202, _:
            return Verdict.IN_PROGRESS
        case 401, "02" | "04":
            return Verdict.DECLINED
        case (404, "18") | (400 | 401 | 408 | 409 | 429, _):
            return Verdict.REJECTED
        case 403 | 404, _:
            return Verdict.DECLINED
        case _:
            return Verdict.UNKNOWN


def payment_decline(code: ResponseCode) -> str:
    """The Alipay+ result code of a declined payment."""
    match code.http, code.case:
        case 403, "14":
            return "USER_BALANCE_NOT_ENOUGH"
        case 403, "02" | "19":
            return "PAYMENT_AMOUNT_EXCEED_LIMIT"
        case 403, "03":
            return "RISK_REJECT"
        case (404, "11") | (401, "02" | "04"):
            return "USER_NOT_EXIST"
        case 404, "01":
            return "ORDER_NOT_EXIST"
        case (403, "00") | (404, "04"):
            return "ORDER_IS_CLOSED"
        case _:
            return "PROCESS_FAIL"


def cancel_decline(code: ResponseCode) -> str:
    """The Alipay+ result code of a refused cancel."""
    match code.http, code.case:
        case 404, "01":
            return "ORDER_NOT_EXIST"
        case 403, "00":
            return "CANCEL_WINDOW_EXCEED"
        case 404, "00":
            return "ORDER_STATUS_INVALID"
        case _:
            return "PROCESS_FAIL"


def refund_decline(code: ResponseCode) -> str:
    """The Alipay+ result code of a refused refund."""
    match code.http, code.case:
        case 403, "02":
            return "REFUND_AMOUNT_EXCEED"
        case 404, "01" | "12":
            return "ORDER_NOT_EXIST"
        case 404, "00":
            return "ORDER_STATUS_INVALID"
        case 403, "14":
            return "MERCHANT_BALANCE_NOT_ENOUGH"
        case _:
            return "PROCESS_FAIL"
