"""The M-Pesa connector's settings: every bad one is named, no secret is ever shown."""

from __future__ import annotations

import traceback
from typing import Any

import pytest

from connectors import ConnectorConfigError, build_connector, find_factory
from connectors.mpesa import MpesaConnector

SECRETS = {
    "consumer_secret": "consumer-secret-0042",
    "passkey": "passkey-0042-bfb279f9aa9bdbcf158e97dd71a467cd",
    "security_credential": "ENCRYPTED-CREDENTIAL-0042==",
    "access_token": "token-0042-c9SQxWWhmdVRlyh0zh8g",
    "callback_secret": "callback-secret-0042",
}
REQUIRED = [
    "base_url",
    "consumer_key",
    "consumer_secret",
    "shortcode",
    "passkey",
    "callback_url",
    "initiator_name",
    "security_credential",
    "currencies",
    "regions",
]


@pytest.fixture
def mpesa_settings() -> dict[str, Any]:
    return SECRETS | {
        "base_url": "https://api.safaricom.test",
        "consumer_key": "hub-consumer-key",
        "shortcode": "174379",
        "callback_url": "https://hub.example/callbacks/mpesa?route=ke",
        "initiator_name": "causeway_api",
        "currencies": ["KES"],
        "regions": ["KE"],
    }


def test_valid_settings_make_a_connector(mpesa_settings: dict[str, Any]) -> None:
    connector = MpesaConnector("ke", mpesa_settings)
    assert connector.name == "ke"
    assert connector.build_token_request().url.host == "api.safaricom.test"


@pytest.mark.parametrize("key", REQUIRED)
def test_a_missing_setting_is_named(mpesa_settings: dict[str, Any], key: str) -> None:
    del mpesa_settings[key]
    with pytest.raises(ConnectorConfigError, match=f"'{key}'") as caught:
        MpesaConnector("ke", mpesa_settings)
    assert caught.value.connector == "ke"


def test_the_access_token_is_optional(mpesa_settings: dict[str, Any]) -> None:
    del mpesa_settings["access_token"]
    assert MpesaConnector("ke", mpesa_settings).capabilities.currencies == {"KES"}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("base_url", "api.safaricom.test"),
        ("base_url", "ftp://api.safaricom.test"),
        ("base_url", "https://api.safaricom.test/?x=1"),
        ("base_url", "http://[::1"),
        ("callback_url", "/callbacks/mpesa"),
        ("callback_url", "https://hub.example/cb#frag"),
        ("consumer_key", ""),
        ("consumer_secret", " "),
        ("passkey", ""),
        ("security_credential", ""),
        ("access_token", ""),
        ("callback_secret", " "),
        ("shortcode", "1743"),
        ("shortcode", "17437900"),
        ("shortcode", "17437a"),
        ("shortcode", 174379),
        ("initiator_name", ""),
        ("currencies", []),
        ("currencies", ["KES", "TZS"]),
        ("currencies", ["kes"]),
        ("currencies", "KES"),
        ("regions", ["KEN"]),
        ("regions", []),
        ("pass_key", "typo"),
    ],
)
def test_an_invalid_setting_is_named(
    mpesa_settings: dict[str, Any], key: str, value: object
) -> None:
    mpesa_settings[key] = value
    with pytest.raises(ConnectorConfigError, match=f"'{key}'"):
        MpesaConnector("ke", mpesa_settings)


@pytest.mark.parametrize("key", list(SECRETS))
def test_a_bad_secret_is_never_echoed(mpesa_settings: dict[str, Any], key: str) -> None:
    mpesa_settings[key] = 12345  # wrong type: pydantic would normally show the input
    mpesa_settings["shortcode"] = "bad"
    with pytest.raises(ConnectorConfigError) as caught:
        MpesaConnector("ke", mpesa_settings)
    shown = "".join(traceback.format_exception(caught.value))
    assert f"'{key}'" in shown
    for secret in SECRETS.values():
        assert secret not in shown
    assert "12345" not in shown


def test_no_secret_in_the_connector_repr(mpesa_settings: dict[str, Any]) -> None:
    connector = MpesaConnector("ke", mpesa_settings)
    shown = repr(connector) + repr(vars(connector))
    assert "174379" in shown
    for secret in SECRETS.values():
        assert secret not in shown
    key = connector._config.callback_key  # the key that signs callback URLs
    assert key.hex() not in shown
    assert repr(key) not in shown


def test_the_callback_secret_is_optional(mpesa_settings: dict[str, Any]) -> None:
    del mpesa_settings["callback_secret"]
    derived = MpesaConnector("ke", mpesa_settings)._config.callback_key
    mpesa_settings["callback_secret"] = SECRETS["callback_secret"]
    assert MpesaConnector("ke", mpesa_settings)._config.callback_key != derived


def test_the_registry_builds_it(mpesa_settings: dict[str, Any]) -> None:
    assert find_factory("mpesa") is MpesaConnector
    assert isinstance(build_connector("mpesa", "ke", mpesa_settings), MpesaConnector)
