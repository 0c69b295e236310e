"""The Alipay+ message signature (RSA256), for requests, responses and notifications.

The signed content is ``"<METHOD> <Request-URI>\\n<Client-Id>.<Request-Time>.<raw body>"``
(``Response-Time`` for responses), signed with SHA256withRSA (PKCS#1 v1.5), base64-encoded
and then URL-encoded. The header reads
``algorithm=RSA256,keyVersion=1,signature=<value>``; spaces after the commas are accepted.

The body is the exact bytes sent or received: never re-serialised before signing or
verifying.
"""

from __future__ import annotations

import base64
import binascii
import functools
from dataclasses import dataclass
from urllib.parse import quote_plus, unquote_plus

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

__all__ = [
    "RsaSigner",
    "RsaVerifier",
    "SignatureHeader",
    "generate_rsa_key_pair",
    "signed_content",
]


def signed_content(method: str, uri: str, client_id: str, time: str, body: bytes) -> bytes:
    """The bytes an Alipay+ signature covers."""
    return f"{method.upper()} {uri}\n{client_id}.{time}.".encode() + body


@dataclass(frozen=True, slots=True)
class SignatureHeader:
    """The parsed ``Signature`` header."""

    algorithm: str
    key_version: str
    signature: str

    @classmethod
    def parse(cls, value: str) -> SignatureHeader:
        """Parse ``algorithm=RSA256,keyVersion=1,signature=...``.

        Raises ``ValueError`` naming what is missing. The signature value may itself
        contain ``=`` (padding, if not URL-encoded), so only the first ``=`` splits.
        """
        parts: dict[str, str] = {}
        for item in value.split(","):
            key, sep, val = item.strip().partition("=")
            if sep:
                parts[key.strip()] = val.strip()
        missing = [k for k in ("algorithm", "signature") if not parts.get(k)]
        if missing:
            raise ValueError(f"Signature header lacks {', '.join(missing)}")
        return cls(parts["algorithm"], parts.get("keyVersion", "1"), parts["signature"])

    def format(self) -> str:
        return (
            f"algorithm={self.algorithm},keyVersion={self.key_version},signature={self.signature}"
        )


@functools.lru_cache(maxsize=64)
def _load_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    # Loading checks the key's consistency, which costs tens of milliseconds; a hub signs
    # with one key for every route, so each distinct key is loaded once per process.
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the private key is not an RSA key")
    return key


class RsaSigner:
    """Signs content with a PEM private key (PKCS#1 or PKCS#8)."""

    def __init__(self, private_key_pem: bytes, *, key_version: str = "1") -> None:
        self._key = _load_private_key(private_key_pem)
        self.key_version = key_version

    def __repr__(self) -> str:
        return f"RsaSigner(key_version={self.key_version!r}, key=<redacted>)"

    def sign(self, content: bytes) -> str:
        """The URL-encoded base64 signature of ``content``."""
        raw = self._key.sign(content, padding.PKCS1v15(), hashes.SHA256())
        return quote_plus(base64.b64encode(raw).decode("ascii"))

    def header(self, content: bytes) -> str:
        """A complete ``Signature`` header value for ``content``."""
        return SignatureHeader("RSA256", self.key_version, self.sign(content)).format()


class RsaVerifier:
    """Verifies signatures with a PEM public key (X.509 SubjectPublicKeyInfo)."""

    def __init__(self, public_key_pem: bytes) -> None:
        key = serialization.load_pem_public_key(public_key_pem)
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("the public key is not an RSA key")
        self._key = key

    def verify(self, content: bytes, header_value: str) -> bool:
        """Whether ``header_value`` (a whole ``Signature`` header) signs ``content``."""
        try:
            header = SignatureHeader.parse(header_value)
        except ValueError:
            return False
        if header.algorithm != "RSA256":
            return False
        try:
            raw = base64.b64decode(unquote_plus(header.signature), validate=True)
        except (binascii.Error, ValueError):
            return False
        try:
            self._key.verify(raw, content, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True


def generate_rsa_key_pair(bits: int = 2048) -> tuple[bytes, bytes]:
    """A fresh ``(private PEM (PKCS#8), public PEM (SPKI))`` pair, for demos and tests."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public
