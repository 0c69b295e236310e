"""The KakaoPay HTTP envelope: authorised requests out, checked answers in.

Requests are ``POST`` with a JSON body and ``Authorization: SECRET_KEY <secret key>``.
KakaoPay signs nothing, so an answer is trusted as far as TLS to the configured host goes;
what can be checked is checked: the shape of the body and that it names our payment.

Response rules:

- 5xx: the wallet may have done the work before failing, so the outcome is unknown
  (``None`` here, pending for the caller);
- 200: the operation's answer; a body that does not parse is a protocol error;
- 4xx: KakaoPay's error body (its explicit refusal); a 4xx without one (a proxy's page) is
  a protocol error, and so is any other status.
"""

from __future__ import annotations

from typing import TypeVar

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from connectors import WalletProtocolError
from connectors._errors import first_problem
from connectors.kakaopay._wire import ErrorBody

__all__ = ["Envelope"]

AnswerT = TypeVar("AnswerT", bound=BaseModel)


class Envelope:
    """Builds the requests to one KakaoPay endpoint and reads its answers."""

    def __init__(
        self, *, connector: str, base_url: httpx.URL, path_prefix: str, secret_key: SecretStr
    ) -> None:
        self._connector = connector
        self._base_url = base_url
        self._base_path = base_url.path.rstrip("/") + path_prefix
        self._secret_key = secret_key

    def __repr__(self) -> str:
        return f"Envelope(url={str(self._base_url)!r}, secret_key=<redacted>)"

    def path(self, api: str) -> str:
        return f"{self._base_path}/{api}"

    def request(self, api: str, body: bytes) -> httpx.Request:
        """An authorised ``POST`` of ``body`` to KakaoPay's ``api``."""
        return httpx.Request(
            "POST",
            self._base_url.copy_with(path=self.path(api)),
            headers={
                "Authorization": f"SECRET_KEY {self._secret_key.get_secret_value()}",
                "Content-Type": "application/json",
            },
            content=body,
        )

    def read(
        self, api: str, response: httpx.Response, model: type[AnswerT]
    ) -> AnswerT | ErrorBody | None:
        """The parsed answer, KakaoPay's error body, or ``None`` when the outcome is unknown."""
        status = response.status_code
        if status >= 500:
            return None
        if status == 200:
            return self._parse(api, response, model)
        if 400 <= status < 500:
            return self._parse(api, response, ErrorBody)
        raise self._error(f"{api}: unexpected HTTP {status}", status)

    def check_echo(self, api: str, field: str, sent: str | None, echoed: str | None) -> None:
        """Reject an answer that names another payment than the one asked about.

        Nothing authenticates an answer's body, so an answer meant for another payment
        (a misrouted or replayed one) is caught here, where the wallet echoes what we sent.
        """
        if sent is not None and echoed is not None and echoed != sent:
            raise self._error(f"{api}: answer is for {field} {echoed!r}, not {sent!r}", 200)

    def refuse(self, api: str, problem: str) -> WalletProtocolError:
        """The error for an answer to ``api`` that parses but cannot be taken as it is."""
        return self._error(f"{api}: {problem}", 200)

    def _parse(self, api: str, response: httpx.Response, model: type[AnswerT]) -> AnswerT:
        status = response.status_code
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise self._error(
                f"{api}: malformed HTTP {status} answer ({first_problem(exc)})", status
            ) from None

    def _error(self, message: str, status: int) -> WalletProtocolError:
        return WalletProtocolError(message, connector=self._connector, http_status=status)
