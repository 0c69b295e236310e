"""The Alipay+ connector's settings: every bad one is named, no secret is ever shown."""

from __future__ import annotations

import traceback
from typing import Any

import pytest

from connectors import ConnectorConfigError
from connectors.alipayplus import AlipayPlusConnector

REQUIRED = [
    "base_url",
    "client_id",
    "psp_id",
    "private_key",
    "wallet_public_key",
    "currencies",
    "regions",
]


@pytest.mark.parametrize("key", REQUIRED)
def test_a_missing_setting_is_named(settings: dict[str, Any], key: str) -> None:
    del settings[key]
    with pytest.raises(ConnectorConfigError, match=f"'{key}'") as caught:
        AlipayPlusConnector("kr", settings)
    assert caught.value.connector == "kr"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("base_url", "wallet.test"),
        ("base_url", "ftp://wallet.test"),
        ("base_url", "http://wallet.test/?x=1"),
        ("base_url", "http://[::1"),
        ("client_id", ""),
        ("currencies", []),
        ("currencies", ["krw"]),
        ("currencies", "KRW"),
        ("regions", ["KOR"]),
        ("path_prefix", "aps/api"),
        ("path_prefix", "/aps/api/"),
        ("key_version", ""),
        ("private_key", "not a key"),
        ("wallet_public_key", "not a key"),
        ("key_verison", "2"),
    ],
)
def test_an_invalid_setting_is_named(settings: dict[str, Any], key: str, value: object) -> None:
    settings[key] = value
    with pytest.raises(ConnectorConfigError, match=f"'{key}'"):
        AlipayPlusConnector("kr", settings)


def test_a_public_key_is_not_a_private_key(
    settings: dict[str, Any], wallet_keys: tuple[bytes, bytes]
) -> None:
    settings["private_key"] = wallet_keys[1].decode()
    with pytest.raises(ConnectorConfigError, match="'private_key'"):
        AlipayPlusConnector("kr", settings)


def key_material(pem: str) -> list[str]:
    """The base64 lines of a PEM, which must never show up anywhere."""
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def test_the_private_key_is_absent_from_repr(
    settings: dict[str, Any], hub_keys: tuple[bytes, bytes]
) -> None:
    connector = AlipayPlusConnector("kr", settings)
    shown = repr(connector) + str(connector) + repr(vars(connector))
    assert "kr" in repr(connector)
    lines = key_material(hub_keys[0].decode())
    assert lines
    assert not [line for line in lines if line in shown]


@pytest.mark.parametrize(
    "bad_key",
    [
        "-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n",
        "TOPSECRETKEYMATERIAL",
    ],
)
def test_a_broken_private_key_is_not_echoed(settings: dict[str, Any], bad_key: str) -> None:
    settings["private_key"] = bad_key
    with pytest.raises(ConnectorConfigError) as caught:
        AlipayPlusConnector("kr", settings)
    printed = "".join(traceback.format_exception(caught.value))
    assert "'private_key'" in printed
    assert "TOPSECRETKEYMATERIAL" not in printed


def test_a_private_key_of_the_wrong_type_is_not_echoed(settings: dict[str, Any]) -> None:
    settings["private_key"] = 987654321987
    settings["currencies"] = ["krw"]
    with pytest.raises(ConnectorConfigError) as caught:
        AlipayPlusConnector("kr", settings)
    printed = "".join(traceback.format_exception(caught.value))
    assert "'private_key'" in printed
    assert "'currencies'" in printed
    assert "987654321987" not in printed
