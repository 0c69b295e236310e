"""EMVCo merchant-presented QR payloads: build and read the TLV text, with its CRC.

A payload is a string of ``ID(2) LENGTH(2) VALUE`` fields; templates (IDs 26–51 for
merchant account information, 62 for additional data) hold sub-fields of the same form.
The last field, ``63``, is a CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF) over
everything before its value, ``6304`` included, as four upper-case hex digits
(EMV® QR Code Specification for Payment Systems, Merchant-Presented Mode).

>>> payload = encode([("00", "01"), ("01", "12"), ("58", "TH")])
>>> decode(payload)["58"]
'TH'
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["QrError", "crc16", "decode", "encode"]

Field = tuple[str, "str | Sequence[tuple[str, str]]"]

#: Templates whose value is itself a list of fields.
_TEMPLATES = frozenset({f"{n:02d}" for n in range(26, 52)} | {"62", "64"})


class QrError(ValueError):
    """Raised when a payload is not a well-formed EMVCo QR payload."""


def crc16(data: bytes) -> str:
    """CRC-16/CCITT-FALSE of ``data``, as EMVCo QR payloads carry it."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def _field(tag: str, value: str) -> str:
    if len(tag) != 2 or not tag.isdigit():
        raise QrError(f"field id {tag!r} is not two digits")
    if not 0 < len(value) <= 99:
        raise QrError(f"field {tag}: a value of {len(value)} characters does not fit")
    return f"{tag}{len(value):02d}{value}"


def encode(fields: Sequence[Field]) -> str:
    """The payload of ``fields`` (in order), with the CRC appended."""
    parts: list[str] = []
    for tag, value in fields:
        if isinstance(value, str):
            parts.append(_field(tag, value))
        else:
            parts.append(_field(tag, "".join(_field(sub, text) for sub, text in value)))
    body = "".join(parts) + "6304"
    return body + crc16(body.encode())


def _split(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    position = 0
    while position < len(text):
        header = text[position : position + 4]
        if len(header) < 4 or not header.isdigit():
            raise QrError(f"malformed field header at position {position}")
        length = int(header[2:])
        value = text[position + 4 : position + 4 + length]
        if len(value) != length:
            raise QrError(f"field {header[:2]} is cut short")
        fields[header[:2]] = value
        position += 4 + length
    return fields


def decode(payload: str) -> dict[str, str]:
    """The fields of a payload, flat: a template's sub-field ``05`` of ``62`` is ``"62.05"``.

    Raises :class:`QrError` if the payload is malformed or its CRC does not match.
    """
    if len(payload) < 8 or payload[-8:-4] != "6304":
        raise QrError("the payload does not end with a CRC field")
    if crc16(payload[:-4].encode()) != payload[-4:].upper():
        raise QrError("the CRC does not match")
    fields = _split(payload[:-8])
    flat: dict[str, str] = {}
    for tag, value in fields.items():
        flat[tag] = value
        if tag in _TEMPLATES:
            for sub, text in _split(value).items():
                flat[f"{tag}.{sub}"] = text
    flat["63"] = payload[-4:]
    return flat
