"""The WeChat Pay v2 envelope: signed ``<xml>`` requests out, checked answers in.

Answer rules:

- 5xx: the wallet may have done the work before failing, so the outcome is unknown
  (``None`` here, pending for the caller); any other non-200 is a protocol error, because
  WeChat Pay answers every business outcome with HTTP 200.
- An answer that carries ``sign`` must verify, whatever it says. An answer with
  ``return_code`` ``SUCCESS`` must carry one: the wallet signs everything it processed. Only
  a ``return_code`` ``FAIL`` (the request was refused before processing, e.g. for a bad
  signature) may come unsigned, and nothing in it can claim success.
- An answer naming another merchant (``appid``, ``mch_id``) is rejected: the signature
  covers the answer but nothing of the request, so a signed answer could be replayed.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import TypeVar

import httpx
from pydantic import ValidationError

from connectors import WalletProtocolError
from connectors._errors import first_problem
from connectors.wechatpay._wire import ReturnCode, WireReply
from connectors.wechatpay._xml import Signer, XmlError, decode, encode

__all__ = ["SIGN_TYPE", "Envelope"]

ReplyT = TypeVar("ReplyT", bound=WireReply)

SIGN_TYPE = "HMAC-SHA256"


class Envelope:
    """Signs requests for one merchant account and checks the wallet's answers."""

    def __init__(
        self,
        *,
        connector: str,
        base_url: httpx.URL,
        identity: Mapping[str, str],
        signer: Signer,
    ) -> None:
        self._connector = connector
        self._base_url = base_url
        self._base_path = base_url.path.rstrip("/")
        # appid, mch_id and (institutional mode) sub_mch_id: sent with every request.
        self._identity = dict(identity)
        self._signer = signer

    def __repr__(self) -> str:
        return f"Envelope(url={str(self._base_url)!r}, mch_id={self._identity['mch_id']!r})"

    def request(self, api: str, fields: Mapping[str, str]) -> httpx.Request:
        """A signed ``POST`` of ``fields`` to ``api`` (a path such as ``/pay/micropay``)."""
        # nonce_str is WeChat's only defence against replaying a request; 32 hex characters
        # is the documented maximum length.
        body = self._identity | dict(fields)
        body |= {"nonce_str": secrets.token_hex(16), "sign_type": SIGN_TYPE}
        body["sign"] = self._signer.sign(body)
        return httpx.Request(
            "POST",
            self._base_url.copy_with(path=self._base_path + api),
            headers={"Content-Type": "text/xml; charset=UTF-8"},
            content=encode(body),
        )

    def read(self, api: str, response: httpx.Response, model: type[ReplyT]) -> ReplyT | None:
        """The checked answer in ``response``, or ``None`` when the outcome is unknown (5xx)."""
        status = response.status_code
        if status >= 500:
            return None
        if status != 200:
            raise self._error(f"{api}: unexpected HTTP {status}", status)
        try:
            fields = decode(response.content)
        except XmlError as exc:
            raise self._error(f"{api}: malformed answer ({exc})", status) from None
        self._check_signature(api, fields)
        try:
            reply = model.model_validate(fields)
        except ValidationError as exc:
            raise self._error(f"{api}: malformed answer ({first_problem(exc)})", status) from None
        for name in ("appid", "mch_id"):
            self.check_echo(api, name, self._identity[name], fields.get(name) or None)
        return reply

    def check_echo(self, api: str, field: str, sent: str, echoed: object) -> None:
        """Reject an answer whose ``field`` names something other than what we sent."""
        if echoed is not None and str(echoed) != sent:
            raise self._error(f"{api}: answer has {field} {echoed!r}, we sent {sent!r}", 200)

    def _check_signature(self, api: str, fields: Mapping[str, str]) -> None:
        if "sign" in fields:
            if not self._signer.verify(fields):
                raise self._error(f"{api}: answer signature does not verify", 200)
        elif fields.get("return_code") == ReturnCode.SUCCESS:
            raise self._error(f"{api}: unsigned answer with return_code SUCCESS", 200)

    def _error(self, message: str, status: int) -> WalletProtocolError:
        return WalletProtocolError(message, connector=self._connector, http_status=status)
