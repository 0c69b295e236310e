"""The SNAP BI symmetric transaction signature, and the header values computed with it.

For every transaction API (anything but the B2B token call)::

    stringToSign = METHOD ":" relativeUrl ":" accessToken ":"
                   lowercase(hex(SHA-256(minify(body)))) ":" X-TIMESTAMP
    X-SIGNATURE  = base64(HMAC-SHA512(clientSecret, stringToSign))

``relativeUrl`` is the request's whole path (no scheme, host or query); ``accessToken`` is
the B2B token without ``Bearer ``; ``X-TIMESTAMP`` is the header value byte for byte.
Minifying removes the whitespace between JSON tokens and nothing else: keys keep their
order and values their spelling, so both sides hash the same bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone

from pydantic import SecretStr

__all__ = [
    "JAKARTA",
    "HmacSigner",
    "external_id",
    "jakarta_time",
    "minify",
    "string_to_sign",
]

#: SNAP timestamps are Jakarta time (WIB, UTC+7) with an explicit offset.
JAKARTA = timezone(timedelta(hours=7), "WIB")

_JSON_WHITESPACE = frozenset(b" \t\r\n")
_QUOTE, _BACKSLASH = ord('"'), ord("\\")
# X-EXTERNAL-ID is "numeric, unique per day, at most 36 characters" (DANA, Finpay);
# 32 digits fit every reading of that limit.
_EXTERNAL_ID_DIGITS = 32


def minify(body: bytes) -> bytes:
    """``body`` without whitespace between JSON tokens; strings are left untouched.

    UTF-8 continuation bytes are all >= 0x80, so scanning bytes cannot mistake part of a
    multi-byte character for a quote, a backslash or a space.
    """
    out = bytearray()
    in_string = escaped = False
    for byte in body:
        if in_string:
            out.append(byte)
            if escaped:
                escaped = False
            elif byte == _BACKSLASH:
                escaped = True
            elif byte == _QUOTE:
                in_string = False
        elif byte not in _JSON_WHITESPACE:
            out.append(byte)
            in_string = byte == _QUOTE
    return bytes(out)


def string_to_sign(method: str, path: str, access_token: str, body: bytes, timestamp: str) -> str:
    """The text a SNAP symmetric signature covers."""
    digest = hashlib.sha256(minify(body)).hexdigest()  # hexdigest is already lower case
    return f"{method.upper()}:{path}:{access_token}:{digest}:{timestamp}"


def jakarta_time(moment: datetime) -> str:
    """``moment`` as SNAP writes times: ``2026-03-01T15:00:00+07:00``.

    A naive time is taken as UTC, the core's clock, never as the wallet's local time.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(JAKARTA).isoformat(timespec="seconds")


def external_id(*parts: str) -> str:
    """A numeric ``X-EXTERNAL-ID`` derived from ``parts`` alone.

    The same parts give the same id, so a retried request is recognisably the same message
    to a wallet that deduplicates on it.
    """
    digest = hashlib.sha256("\n".join(parts).encode()).digest()
    number = int.from_bytes(digest, "big") % 10**_EXTERNAL_ID_DIGITS
    return str(number).zfill(_EXTERNAL_ID_DIGITS)


class HmacSigner:
    """Signs and checks SNAP symmetric signatures with one client secret."""

    def __init__(self, client_secret: SecretStr) -> None:
        self._key = client_secret.get_secret_value().encode()

    def __repr__(self) -> str:
        return "HmacSigner(client_secret=<redacted>)"

    def sign(self, method: str, path: str, access_token: str, body: bytes, timestamp: str) -> str:
        """The ``X-SIGNATURE`` value for one request."""
        content = string_to_sign(method, path, access_token, body, timestamp).encode()
        raw = hmac.new(self._key, content, hashlib.sha512).digest()
        return base64.b64encode(raw).decode("ascii")

    def verify(
        self,
        signature: str,
        method: str,
        path: str,
        access_token: str,
        body: bytes,
        timestamp: str,
    ) -> bool:
        """Whether ``signature`` is this secret's signature of the request."""
        try:
            given = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            return False
        content = string_to_sign(method, path, access_token, body, timestamp).encode()
        expected = hmac.new(self._key, content, hashlib.sha512).digest()
        return hmac.compare_digest(given, expected)
