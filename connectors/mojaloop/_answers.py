"""Reading the scheme adapter's HTTP answers, before any meaning is given to them.

The adapter answers a transfer with HTTP 200 and its final state, or with the error body
of ``handleError`` (``{statusCode, message, transferState}``) under the HTTP status of the
failure: 500 when a party, quote or transfer step came back with an FSPIOP error, 504 on a
timeout, 400 when the request failed validation. So, unlike most wallets, a 500 can carry
an explicit decline; whether it does is decided by ``_translate`` from the state it carries.

- 200: the body must be a transfer state, or the answer is not understood.
- 400, 401, 403: the adapter (or the gateway in front of it, for the bearer token) refused
  the request before acting on it: :class:`Refused`.
- 5xx: the error body's ``transferState`` if there is one (:class:`Reported`), otherwise
  :class:`Silent`: the outcome is unknown. A body that cannot be read is silent too, since
  a 5xx from a proxy in front of the adapter says nothing either way.
- anything else is not part of the API: :class:`~connectors.WalletProtocolError`.

A committed transfer carries its proof: the fulfilment, whose SHA-256 is the condition the
payee's quote named. The switch checks it before committing, so an answer where it does not
hold was not produced by a switch and is not understood.

There is no response signature to check: FSPIOP's JWS covers the adapter's traffic with the
switch, not its outbound API, which a DFSP reaches over mTLS inside its own network.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import TypeVar

import httpx
from pydantic import ValidationError

from connectors import WalletProtocolError
from connectors._errors import first_problem
from connectors.mojaloop._wire import ErrorResponse, TransferResponse

__all__ = ["Answer", "Refused", "Reported", "Silent", "ilp_condition", "read"]

ResponseT = TypeVar("ResponseT", bound=TransferResponse)

_REFUSALS = frozenset({400, 401, 403})


@dataclass(frozen=True, slots=True)
class Refused:
    """The request was refused before anything was done (HTTP 400, 401 or 403)."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Reported:
    """The adapter's state of the transfer: the body of a 200, or the ``transferState``
    of an error body (``final`` is false then: only an ``ERROR_OCCURRED`` with an FSPIOP
    error code in it is an answer)."""

    state: TransferResponse
    final: bool


@dataclass(frozen=True, slots=True)
class Silent:
    """Nothing can be told of the transfer (a 5xx without a readable state)."""

    message: str


Answer = Refused | Reported | Silent


def read(
    response: httpx.Response,
    model: type[ResponseT],
    *,
    connector: str,
    api: str,
    transfer_id: str,
    home_transaction_id: str | None = None,
) -> Answer:
    """What ``response`` says about the transfer ``transfer_id``."""
    status = response.status_code
    if status == 200:
        try:
            body = model.model_validate_json(response.content)
        except ValidationError as exc:
            raise WalletProtocolError(
                f"{api}: malformed response ({first_problem(exc)})",
                connector=connector,
                http_status=status,
            ) from None
        _check_echo(body, connector, api, status, transfer_id, home_transaction_id)
        _check_fulfilment(body, connector, api)
        return Reported(body, final=True)
    if status in _REFUSALS:
        error = _error_body(response)
        code = (error.statusCode if error else None) or str(status)
        message = (error.message if error else None) or f"HTTP {status}"
        return Refused(code, f"{api} refused: {message}")
    if status >= 500:
        error = _error_body(response)
        if error is None or error.transferState is None:
            return Silent(f"{api}: HTTP {status} without a transfer state; the outcome is unknown")
        _check_echo(error.transferState, connector, api, status, transfer_id, home_transaction_id)
        return Reported(error.transferState, final=False)
    raise WalletProtocolError(
        f"{api}: unexpected HTTP {status}", connector=connector, http_status=status
    )


def _error_body(response: httpx.Response) -> ErrorResponse | None:
    try:
        return ErrorResponse.model_validate_json(response.content)
    except ValidationError:
        return None


def _check_echo(
    body: TransferResponse,
    connector: str,
    api: str,
    status: int,
    transfer_id: str,
    home_transaction_id: str | None,
) -> None:
    """Reject a state that names another transfer than ours: whatever it says, it is not
    about this payment."""
    mismatch = None
    if body.transferId is not None and body.transferId != transfer_id:
        mismatch = f"transferId {body.transferId!r}, not {transfer_id!r}"
    elif (
        home_transaction_id is not None
        and body.homeTransactionId is not None
        and body.homeTransactionId != home_transaction_id
    ):
        mismatch = f"homeTransactionId {body.homeTransactionId!r}, not {home_transaction_id!r}"
    if mismatch is not None:
        raise WalletProtocolError(
            f"{api}: answer is for {mismatch}", connector=connector, http_status=status
        )


def ilp_condition(fulfilment: str) -> str | None:
    """The condition a base64url fulfilment fulfils (SHA-256, base64url without padding),
    or ``None`` if it is not base64url."""
    try:
        preimage = base64.urlsafe_b64decode(fulfilment + "=" * (-len(fulfilment) % 4))
    except (binascii.Error, ValueError):
        return None
    return base64.urlsafe_b64encode(hashlib.sha256(preimage).digest()).rstrip(b"=").decode()


def _check_fulfilment(body: TransferResponse, connector: str, api: str) -> None:
    if body.quoteResponse is None or body.fulfil is None:
        return  # an inquiry carries no quote; a parked transfer no fulfil
    condition, fulfil = body.quoteResponse.body.condition, body.fulfil.body
    if condition is None or fulfil.fulfilment is None or fulfil.transferState != "COMMITTED":
        return
    if ilp_condition(fulfil.fulfilment) != condition:
        raise WalletProtocolError(
            f"{api}: the fulfilment does not fulfil the quote's condition",
            connector=connector,
            http_status=200,
        )
