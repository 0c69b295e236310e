"""The Alipay+ HTTP envelope: signed requests out, checked responses in.

Response rules, as the official SDKs apply them:

- 5xx: the wallet may have done the work before failing, so the outcome is unknown
  (``None`` here, pending for the caller); any other non-200 is a protocol error, because
  Alipay+ answers business failures with HTTP 200 and a ``result``.
- A response that carries any signature header must carry all three and verify; a
  half-signed or badly signed answer is rejected whatever it says.
- An unsigned response is accepted only if nothing in it says ``S``: a forged decline costs
  a retry, a forged success would cost the merchant the goods.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import httpx
from pydantic import ValidationError

from connectors import RsaSigner, RsaVerifier, WalletProtocolError, signed_content
from connectors._errors import first_problem
from connectors.alipayplus._wire import WireResponse

__all__ = ["Envelope"]

ResponseT = TypeVar("ResponseT", bound=WireResponse)

_SIGNATURE_HEADERS = ("signature", "response-time", "client-id")


class Envelope:
    """Signs requests to one wallet and checks its answers."""

    def __init__(
        self,
        *,
        connector: str,
        base_url: httpx.URL,
        path_prefix: str,
        client_id: str,
        signer: RsaSigner,
        verifier: RsaVerifier,
        clock: Callable[[], datetime],
    ) -> None:
        self._connector = connector
        self._base_url = base_url
        # The signed Request-URI is the whole path, including any path in the base URL.
        self._base_path = base_url.path.rstrip("/") + path_prefix
        self._client_id = client_id
        self._signer = signer
        self._verifier = verifier
        self._clock = clock

    def __repr__(self) -> str:
        return f"Envelope(url={str(self._base_url)!r}, client_id={self._client_id!r})"

    def path(self, api: str) -> str:
        return f"{self._base_path}/{api}"

    def request(self, api: str, body: bytes) -> httpx.Request:
        """A signed ``POST`` of ``body`` to the wallet's ``api``."""
        path = self.path(api)
        request_time = self._clock().astimezone(UTC).isoformat(timespec="seconds")
        content = signed_content("POST", path, self._client_id, request_time, body)
        return httpx.Request(
            "POST",
            self._base_url.copy_with(path=path),
            headers={
                "Content-Type": "application/json; charset=UTF-8",
                "Client-Id": self._client_id,
                "Request-Time": request_time,
                "Signature": self._signer.header(content),
            },
            content=body,
        )

    def read(self, api: str, response: httpx.Response, model: type[ResponseT]) -> ResponseT | None:
        """The checked body of ``response``, or ``None`` when the outcome is unknown (5xx)."""
        status = response.status_code
        if status >= 500:
            return None
        if status != 200:
            raise self._error(f"{api}: unexpected HTTP {status}", status)
        try:
            body = model.model_validate_json(response.content)
        except ValidationError as exc:
            raise self._error(f"{api}: malformed response ({first_problem(exc)})", status) from None
        self._check_signature(api, response, body)
        return body

    def check_echo(self, api: str, field: str, sent: str, echoed: str | None) -> None:
        """Reject an answer that names another request than the one sent.

        A signature covers the response body but nothing of the request, so a signed answer
        to one payment could be replayed as the answer to another; where the wallet echoes
        the request id, it must be ours.
        """
        if echoed is not None and echoed != sent:
            raise self._error(f"{api}: answer is for {field} {echoed!r}, not {sent!r}", 200)

    def _check_signature(self, api: str, response: httpx.Response, body: WireResponse) -> None:
        present = [name for name in _SIGNATURE_HEADERS if name in response.headers]
        if not present:
            if body.claims_success():
                raise self._error(f"{api}: unsigned response claims success", response.status_code)
            return
        if len(present) != len(_SIGNATURE_HEADERS):
            missing = sorted(set(_SIGNATURE_HEADERS) - set(present))
            raise self._error(
                f"{api}: half-signed response (no {', '.join(missing)})", response.status_code
            )
        content = signed_content(
            "POST",
            self.path(api),
            response.headers["client-id"],
            response.headers["response-time"],
            response.content,
        )
        if not self._verifier.verify(content, response.headers["signature"]):
            raise self._error(f"{api}: response signature does not verify", response.status_code)

    def _error(self, message: str, status: int) -> WalletProtocolError:
        return WalletProtocolError(message, connector=self._connector, http_status=status)
