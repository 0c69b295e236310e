"""The SNAP BI HTTP envelope: signed requests out, checked responses in.

Every request is a ``POST`` of compact JSON with ``X-TIMESTAMP`` (Jakarta time),
``X-SIGNATURE`` (HMAC-SHA512, see ``_signature``), ``X-PARTNER-ID``, ``X-EXTERNAL-ID``,
``CHANNEL-ID`` and ``Authorization: Bearer <B2B token>``; a payment adds the traveller's
``Authorization-Customer: Bearer <customer token>``.

Response rules:

- SNAP answers with the HTTP status its ``responseCode`` starts with (403 for ``4035414``),
  so a 4xx is a business answer to read, not an error in itself.
- 5xx: the wallet may have done the work before failing, so the outcome is unknown
  (``None`` here, pending for the caller), whatever the body says.
- Any other answer must be a JSON object with a 7-digit ``responseCode``, else it is a
  protocol error. A success code must come with HTTP 2xx and name this API's service: a
  success that contradicts its own envelope is not believed.
- SNAP does not sign transaction responses (only the wallet's notifications are signed):
  their integrity rests on TLS, and an answer naming another transaction is rejected.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import httpx
from pydantic import ValidationError

from connectors import WalletProtocolError
from connectors._errors import first_problem
from connectors.snapbi._settings import HEADER_TOKEN, ConnectorSettings
from connectors.snapbi._signature import external_id, jakarta_time
from connectors.snapbi._wire import Api, WireResponse

__all__ = ["Envelope"]

ResponseT = TypeVar("ResponseT", bound=WireResponse)


class Envelope:
    """Signs requests to one wallet and checks its answers."""

    def __init__(
        self, *, connector: str, config: ConnectorSettings, clock: Callable[[], datetime]
    ) -> None:
        self._connector = connector
        self._config = config
        # The signed relative URL is the whole path, including any path in the base URL.
        self._base_path = config.base_url.path.rstrip("/")
        self._clock = clock

    def __repr__(self) -> str:
        return (
            f"Envelope(url={str(self._config.base_url)!r}, partner_id={self._config.partner_id!r})"
        )

    def path(self, api: Api) -> str:
        return f"{self._base_path}{api.path}"

    def request(
        self,
        api: Api,
        body: bytes,
        *,
        key: str,
        per_call: bool = False,
        customer_token: str | None = None,
    ) -> httpx.Request:
        """A signed ``POST`` of ``body`` to ``api``.

        ``X-EXTERNAL-ID`` derives from ``api`` and ``key`` (the request id), so a retry is
        the same message; ``per_call`` mixes in the timestamp, for reads that are new
        messages each time they are sent.
        """
        config = self._config
        path = self.path(api)
        timestamp = jakarta_time(self._clock())
        token = config.access_token.get_secret_value()
        parts = (api.name, key, timestamp) if per_call else (api.name, key)
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
            "X-TIMESTAMP": timestamp,
            "X-SIGNATURE": config.signer.sign("POST", path, token, body, timestamp),
            "X-PARTNER-ID": config.partner_id,
            "X-EXTERNAL-ID": external_id(*parts),
            "CHANNEL-ID": config.channel_id,
        }
        if customer_token is not None:
            if not HEADER_TOKEN.fullmatch(customer_token):
                # Raised before anything is sent, and without the token: it is a credential.
                raise ValueError("the payment code cannot be sent as a SNAP customer token")
            headers["Authorization-Customer"] = f"Bearer {customer_token}"
        return httpx.Request(
            "POST", config.base_url.copy_with(path=path), headers=headers, content=body
        )

    def read(self, api: Api, response: httpx.Response, model: type[ResponseT]) -> ResponseT | None:
        """The checked body of ``response``, or ``None`` when the outcome is unknown (5xx)."""
        status = response.status_code
        if status >= 500:
            return None
        try:
            body = model.model_validate_json(response.content)
        except ValidationError as exc:
            raise self._error(
                f"{api.name}: malformed response ({first_problem(exc)})", status
            ) from None
        code = body.code
        if code.http // 100 == 2 and (status // 100 != 2 or code.service != api.service):
            raise self._error(
                f"{api.name}: success code {code} does not fit HTTP {status} "
                f"and service {api.service}",
                status,
            )
        return body

    def check_echo(
        self, api: Api, response: httpx.Response, field: str, sent: str, echoed: str | None
    ) -> None:
        """Reject an answer that names another transaction than the one asked about."""
        if echoed is not None and echoed != sent:
            raise self._error(
                f"{api.name}: answer is for {field} {echoed!r}, not {sent!r}",
                response.status_code,
            )

    def _error(self, message: str, status: int) -> WalletProtocolError:
        return WalletProtocolError(message, connector=self._connector, http_status=status)
