"""The WeChat Pay v2 message format: flat ``<xml>`` documents signed with the API key.

Signing (the ``HMAC-SHA256`` sign type): take every field but ``sign`` whose value is not
empty, sort them by name (byte order), join them as ``name=value&...``, append
``&key=<API key>``, and HMAC-SHA256 the whole string keyed with the API key; ``sign`` is the
upper-case hex digest. Names are case-sensitive, values are signed as sent (never trimmed or
URL-encoded), and a field the verifier does not know is signed like any other, because the
wallet adds fields without notice.

Parsing uses the standard library's expat-based :mod:`xml.etree`. Expat never fetches
external entities, but it does expand internal ones, so any document type declaration is
refused on the raw bytes before parsing: no WeChat message has one, and refusing it rules
out entity-expansion bombs.
"""

from __future__ import annotations

import hashlib
import hmac
import xml.etree.ElementTree as ET
from collections.abc import Mapping

__all__ = ["Signer", "XmlError", "decode", "encode", "signing_string"]

#: The markup that opens a document type declaration or an entity declaration.
_DECLARATIONS = (b"<!DOCTYPE", b"<!ENTITY")


class XmlError(ValueError):
    """Raised when bytes are not a flat WeChat Pay ``<xml>`` document."""


def signing_string(fields: Mapping[str, str], key: str) -> str:
    """The exact text the signature covers (documented for tests and support tickets)."""
    pairs = "&".join(f"{name}={fields[name]}" for name in sorted(fields) if _signed(name, fields))
    return f"{pairs}&key={key}"


def _signed(name: str, fields: Mapping[str, str]) -> bool:
    return name != "sign" and fields[name] != ""


class Signer:
    """Signs and verifies field sets with one merchant's API key (HMAC-SHA256)."""

    def __init__(self, api_key: str) -> None:
        self._key = api_key

    def __repr__(self) -> str:
        return "Signer(sign_type='HMAC-SHA256', key=<redacted>)"

    def sign(self, fields: Mapping[str, str]) -> str:
        """The upper-case hex ``sign`` of ``fields`` (any ``sign`` among them is ignored)."""
        text = signing_string(fields, self._key).encode()
        return hmac.new(self._key.encode(), text, hashlib.sha256).hexdigest().upper()

    def verify(self, fields: Mapping[str, str]) -> bool:
        """Whether ``fields["sign"]`` signs the other fields."""
        given = fields.get("sign", "")
        if not given.isascii():
            return False
        return hmac.compare_digest(self.sign(fields), given.upper())


def encode(fields: Mapping[str, str]) -> bytes:
    """A flat ``<xml>`` document, UTF-8, without declaration (as WeChat Pay's examples)."""
    root = ET.Element("xml")
    for name, value in fields.items():
        ET.SubElement(root, name).text = value
    return ET.tostring(root, encoding="unicode").encode()


def decode(raw: bytes) -> dict[str, str]:
    """The fields of a flat ``<xml>`` document; an empty element is an empty string.

    Raises :class:`XmlError` for a declaration of any kind, bytes that are not well-formed
    UTF-8 XML, another root, nested elements, or a field given twice (two values for one
    name would make the signature ambiguous).
    """
    upper = raw.upper()
    if any(marker in upper for marker in _DECLARATIONS):
        raise XmlError("document type or entity declarations are refused")
    try:
        # Safe here: declarations were refused above, and expat fetches nothing external.
        root = ET.fromstring(raw)  # noqa: S314
    except ET.ParseError as exc:
        raise XmlError(f"not well-formed XML ({exc})") from None
    if root.tag != "xml":
        raise XmlError(f"the root element is <{root.tag}>, not <xml>")
    fields: dict[str, str] = {}
    for child in root:
        if len(child):
            raise XmlError(f"<{child.tag}> has child elements; the format is flat")
        if child.tag in fields:
            raise XmlError(f"<{child.tag}> appears twice")
        fields[child.tag] = child.text or ""
    return fields
