"""Daraja's OAuth client-credentials token: the request for one and the reading of the answer.

Every Daraja call carries ``Authorization: Bearer <access_token>``. The token comes from
``GET /oauth/v1/generate?grant_type=client_credentials`` with HTTP Basic authentication of
``consumer_key:consumer_secret`` and lives ``expires_in`` seconds (3599 in practice). The
connector does no I/O, so the *core* fetches it (see the package docstring) and hands it
back with :meth:`MpesaConnector.with_access_token`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from pydantic import ValidationError

from connectors import ConnectorConfigError, WalletProtocolError
from connectors.mpesa._settings import MpesaSettings
from connectors.mpesa._wire import DarajaError, ErrorCode, TokenAnswer

__all__ = ["OAUTH_PATH", "AccessToken", "build_token_request", "parse_token"]

OAUTH_PATH = "/oauth/v1/generate"

#: Refresh this long before the wallet says the token expires: a token that dies while a
#: request is in flight turns a payment into an avoidable decline.
_EARLY = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A bearer token and the instant (aware) from which it must no longer be used."""

    value: str = field(repr=False)
    expires_at: datetime

    def is_fresh(self, now: datetime) -> bool:
        return now < self.expires_at


def build_token_request(config: MpesaSettings) -> httpx.Request:
    # The secret is unwrapped only here, into the header of a request that is sent at once.
    pair = f"{config.consumer_key}:{config.consumer_secret.get_secret_value()}"
    return httpx.Request(
        "GET",
        config.base_url.copy_with(path=OAUTH_PATH, params={"grant_type": "client_credentials"}),
        headers={"Authorization": f"Basic {base64.b64encode(pair.encode()).decode()}"},
    )


def parse_token(connector: str, response: httpx.Response, now: datetime) -> AccessToken:
    """The token in ``response``; refused credentials raise :class:`ConnectorConfigError`
    (they are a configuration fault), anything else unreadable :class:`WalletProtocolError`.
    """
    status = response.status_code
    if status == 200:
        try:
            answer = TokenAnswer.model_validate_json(response.content)
            lifetime = int(answer.expires_in)
        except (ValidationError, ValueError):
            raise WalletProtocolError(
                "token: malformed answer", connector=connector, http_status=status
            ) from None
        if lifetime <= 0:
            raise WalletProtocolError(
                f"token: expires_in {lifetime} s", connector=connector, http_status=status
            )
        expires_at = now + timedelta(seconds=lifetime) - min(_EARLY, timedelta(seconds=lifetime))
        return AccessToken(answer.access_token, expires_at)
    try:
        error = DarajaError.model_validate_json(response.content)
    except ValidationError:
        error = None
    if error is not None and error.errorCode == ErrorCode.INVALID_AUTHENTICATION:
        raise ConnectorConfigError(
            f"connector {connector!r}: settings 'consumer_key'/'consumer_secret' were refused "
            f"by Daraja ({error.errorCode} {error.errorMessage})",
            connector=connector,
        )
    what = f"{error.errorCode} {error.errorMessage}" if error else "no Daraja error body"
    raise WalletProtocolError(
        f"token: HTTP {status} ({what})", connector=connector, http_status=status
    )
