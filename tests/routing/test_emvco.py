from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.emvco import QrError, crc16, decode, encode

# A merchant-presented payload published with an EMV QR library (phannaly/emv-qr-code's
# README), CRC included: a vector this module did not produce.
PUBLISHED = (
    "00020101021252044131153137210116372101160123456789ABCDE6016Banteay Meanchey"
    "5913Kuntheas Shop5802KH540510.005303840621201081234567863041FF2"
)


def test_the_crc_is_ccitt_false() -> None:
    assert crc16(b"123456789") == "29B1"  # the catalogue check value


def test_a_published_payload_decodes_and_its_crc_verifies() -> None:
    fields = decode(PUBLISHED)

    assert fields["59"] == "Kuntheas Shop"
    assert fields["54"] == "10.00"
    assert fields["53"] == "840"
    assert fields["62.01"] == "12345678"


def test_a_changed_character_breaks_the_crc() -> None:
    with pytest.raises(QrError, match="CRC"):
        decode(PUBLISHED.replace("10.00", "90.00"))


@pytest.mark.parametrize("payload", ["", "6304ABCD", "0002016304FFFF", "00990163041234"])
def test_malformed_payloads_are_refused(payload: str) -> None:
    with pytest.raises(QrError):
        decode(payload)


_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=40
)


@given(
    name=_text,
    city=_text,
    reference=st.text(alphabet="ABCDEF0123456789", min_size=1, max_size=25),
)
def test_what_is_encoded_is_decoded(name: str, city: str, reference: str) -> None:
    payload = encode(
        [
            ("00", "01"),
            ("01", "12"),
            ("26", [("00", "com.causeway"), ("01", reference)]),
            ("59", name),
            ("60", city),
            ("62", [("05", reference)]),
        ]
    )

    fields = decode(payload)

    assert fields["26.01"] == fields["62.05"] == reference
    assert fields["59"] == name
    assert fields["60"] == city


def test_a_value_too_long_for_its_length_field_is_refused() -> None:
    with pytest.raises(QrError, match="does not fit"):
        encode([("59", "x" * 100)])
