"""WeChat Pay v2 signing and XML: the published test vector, and what the parser refuses."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from connectors.wechatpay._xml import Signer, XmlError, decode, encode, signing_string

FIXTURES = Path(__file__).parent / "fixtures" / "wechatpay"

#: The signature example of WeChat Pay's "Signature Algorithm" page.
DOC_KEY = "192006250b4c09247ec02edce69f6a2d"
DOC_FIELDS = {
    "appid": "wxd930ea5d5a258f4f",
    "mch_id": "10000100",
    "device_info": "1000",
    "body": "test",
    "nonce_str": "ibuaiVcKdpRxkhJA",
}
DOC_STRING = (
    "appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100"
    "&nonce_str=ibuaiVcKdpRxkhJA&key=192006250b4c09247ec02edce69f6a2d"
)
DOC_HMAC_SHA256 = "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"


def independent_sign(fields: dict[str, str], key: str) -> str:
    """The documented algorithm, written out again so the fixtures do not lean on ours."""
    pairs = sorted((k, v) for k, v in fields.items() if v and k != "sign")
    text = "&".join(f"{k}={v}" for k, v in pairs) + f"&key={key}"
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest().upper()


def test_the_published_example_signs_as_documented() -> None:
    assert signing_string(DOC_FIELDS, DOC_KEY) == DOC_STRING
    assert Signer(DOC_KEY).sign(DOC_FIELDS) == DOC_HMAC_SHA256


def test_empty_values_and_sign_itself_are_not_signed() -> None:
    signer = Signer(DOC_KEY)
    padded = DOC_FIELDS | {"attach": "", "sign": "ANYTHING"}
    assert signer.sign(padded) == DOC_HMAC_SHA256
    assert signer.verify(DOC_FIELDS | {"sign": DOC_HMAC_SHA256})
    assert signer.verify(DOC_FIELDS | {"sign": DOC_HMAC_SHA256.lower()})


@pytest.mark.parametrize(
    "change",
    [{"body": "test "}, {"Body": "test"}, {"sign": ""}, {"sign": "签名"}, {"extra": "1"}],
    ids=["value-trimmed", "name-case", "empty-sign", "non-ascii-sign", "added-field"],
)
def test_any_change_breaks_the_signature(change: dict[str, str]) -> None:
    fields = DOC_FIELDS | {"sign": DOC_HMAC_SHA256} | change
    assert not Signer(DOC_KEY).verify(fields)


def test_the_key_is_not_in_the_signers_repr() -> None:
    assert DOC_KEY not in repr(Signer(DOC_KEY))


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.xml")), ids=lambda p: p.stem)
def test_every_recorded_answer_parses_and_signed_ones_verify(path: Path) -> None:
    fields = decode(path.read_bytes())
    assert fields["return_code"] in ("SUCCESS", "FAIL")
    if "sign" in fields:
        assert fields["sign"] == independent_sign(fields, DOC_KEY)
        assert Signer(DOC_KEY).verify(fields)


def test_encode_then_decode_round_trips_markup_in_values() -> None:
    fields = {"body": 'Fish & <chips> "2"', "attach": "", "out_trade_no": "P-1"}
    raw = encode(fields)
    assert raw.startswith(b"<xml><body>Fish &amp; &lt;chips&gt;")
    assert decode(raw) == fields


def test_cdata_and_whitespace_between_fields() -> None:
    raw = b"<xml>\n  <a><![CDATA[x <y> & z]]></a>\n  <b>12</b>\n  <c></c>\n</xml>\n"
    assert decode(raw) == {"a": "x <y> & z", "b": "12", "c": ""}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "well-formed"),
        (b"<html><body>502</body></html>", "root"),
        (b'{"return_code":"SUCCESS"}', "well-formed"),
        (b"<xml><a>1</a>", "well-formed"),
        (b"<xml><a><b>1</b></a></xml>", "flat"),
        (b"<xml><a>1</a><a>2</a></xml>", "twice"),
        (b"<xml><a>\xff\xfe</a></xml>", "well-formed"),
        (
            b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><xml><a>&b;</a></xml>',
            "declarations",
        ),
        (b'<!doctype xml SYSTEM "file:///etc/passwd"><xml/>', "declarations"),
        (b'<xml><!ENTITY x "y"></xml>', "declarations"),
    ],
    ids=[
        "empty",
        "html",
        "json",
        "truncated",
        "nested",
        "duplicate",
        "not-utf8",
        "entity-bomb",
        "external-dtd",
        "entity",
    ],
)
def test_what_the_parser_refuses(raw: bytes, reason: str) -> None:
    with pytest.raises(XmlError, match=reason):
        decode(raw)
