"""The Alipay+ message signature (``connectors._signing``)."""

from __future__ import annotations

import pytest

from connectors import RsaSigner, RsaVerifier, SignatureHeader, signed_content

# Pretty-printed, as the official Python SDK sends it: the raw bytes are what is signed.
BODY = (
    b'{\n   "paymentRequestId": "pay-1",\n'
    b'   "paymentAmount": {"currency": "JPY", "value": "100"}\n}'
)
CONTENT = signed_content(
    "post", "/aps/api/v1/payments/pay", "TEST_5X00000000000000", "2019-05-28T12:12:12+08:00", BODY
)


def test_signed_content_is_the_documented_layout() -> None:
    assert CONTENT == (
        b"POST /aps/api/v1/payments/pay\nTEST_5X00000000000000.2019-05-28T12:12:12+08:00." + BODY
    )


def test_round_trip(hub_keys: tuple[bytes, bytes]) -> None:
    header = RsaSigner(hub_keys[0]).header(CONTENT)
    assert header.startswith("algorithm=RSA256,keyVersion=1,signature=")
    assert RsaVerifier(hub_keys[1]).verify(CONTENT, header)


def test_signatures_are_deterministic_and_url_encoded(hub_keys: tuple[bytes, bytes]) -> None:
    signer = RsaSigner(hub_keys[0])
    value = signer.sign(CONTENT)
    assert value == signer.sign(CONTENT)
    assert not set("+/=") & set(value)


def test_a_tampered_body_fails(hub_keys: tuple[bytes, bytes]) -> None:
    header = RsaSigner(hub_keys[0]).header(CONTENT)
    assert not RsaVerifier(hub_keys[1]).verify(CONTENT.replace(b'"100"', b'"900"'), header)


def test_another_uri_time_or_client_fails(hub_keys: tuple[bytes, bytes]) -> None:
    header = RsaSigner(hub_keys[0]).header(CONTENT)
    verifier = RsaVerifier(hub_keys[1])
    for variant in (
        signed_content(
            "POST",
            "/aps/api/v1/payments/refund",
            "TEST_5X00000000000000",
            "2019-05-28T12:12:12+08:00",
            BODY,
        ),
        signed_content(
            "POST",
            "/aps/api/v1/payments/pay",
            "TEST_5X00000000000001",
            "2019-05-28T12:12:12+08:00",
            BODY,
        ),
        signed_content(
            "POST",
            "/aps/api/v1/payments/pay",
            "TEST_5X00000000000000",
            "2019-05-28T12:12:13+08:00",
            BODY,
        ),
    ):
        assert not verifier.verify(variant, header)


def test_a_header_with_spaces_parses_and_verifies(hub_keys: tuple[bytes, bytes]) -> None:
    value = RsaSigner(hub_keys[0]).sign(CONTENT)
    spaced = f"algorithm=RSA256, keyVersion=0, signature={value}"
    assert SignatureHeader.parse(spaced) == SignatureHeader("RSA256", "0", value)
    assert RsaVerifier(hub_keys[1]).verify(CONTENT, spaced)


def test_key_version_defaults_to_1_and_is_carried(hub_keys: tuple[bytes, bytes]) -> None:
    assert SignatureHeader.parse("algorithm=RSA256,signature=abc").key_version == "1"
    assert "keyVersion=3," in RsaSigner(hub_keys[0], key_version="3").header(CONTENT)


@pytest.mark.parametrize(
    "value", ["", "algorithm=RSA256", "keyVersion=1,signature=abc", "signature="]
)
def test_an_incomplete_header_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="lacks"):
        SignatureHeader.parse(value)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "nonsense",
        "algorithm=ECC224,keyVersion=1,signature=AAAA",
        "algorithm=RSA256,signature=%%%",
    ],
)
def test_garbage_headers_do_not_verify(hub_keys: tuple[bytes, bytes], header: str) -> None:
    assert not RsaVerifier(hub_keys[1]).verify(CONTENT, header)


def test_the_wrong_key_fails(
    hub_keys: tuple[bytes, bytes], stranger_keys: tuple[bytes, bytes]
) -> None:
    header = RsaSigner(stranger_keys[0]).header(CONTENT)
    assert not RsaVerifier(hub_keys[1]).verify(CONTENT, header)


def test_repr_redacts_the_key(hub_keys: tuple[bytes, bytes]) -> None:
    signer = RsaSigner(hub_keys[0], key_version="2")
    shown = repr(signer) + str(signer)
    assert "redacted" in shown
    assert "key_version='2'" in shown
    material = [line for line in hub_keys[0].decode().splitlines() if not line.startswith("-----")]
    assert material
    assert not [line for line in material if line in shown]


def test_keys_of_the_wrong_kind_are_refused(hub_keys: tuple[bytes, bytes]) -> None:
    with pytest.raises(ValueError, match="private key"):
        RsaSigner(hub_keys[1])
    with pytest.raises(ValueError, match="public key"):
        RsaVerifier(hub_keys[0])
