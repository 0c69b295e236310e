"""``SettingsModel`` and ``load_settings``: the settings every connector validates alike."""

from __future__ import annotations

import traceback
from typing import Any

import pytest
from pydantic import SecretStr, field_validator

from connectors import ConnectorConfigError, SettingsModel, http_url, load_settings

SECRET = "sk_live_do-not-print-me"


class _Settings(SettingsModel):
    api_key: SecretStr
    merchant_id: str = "M-1"

    @field_validator("currencies")
    @classmethod
    def _dollars_only(cls, value: list[str]) -> list[str]:
        if set(value) != {"USD"}:
            raise ValueError("charges only in USD")
        return value


@pytest.fixture
def settings() -> dict[str, Any]:
    return {
        "base_url": "https://api.wallet.test/v1",
        "api_key": SECRET,
        "currencies": ["USD"],
        "regions": ["US"],
    }


def test_valid_settings_are_parsed(settings: dict[str, Any]) -> None:
    parsed = load_settings(_Settings, "us", settings)
    assert parsed.base_url == "https://api.wallet.test/v1"
    assert parsed.api_key.get_secret_value() == SECRET
    assert (parsed.currencies, parsed.regions, parsed.merchant_id) == (["USD"], ["US"], "M-1")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("base_url", ""),
        ("base_url", "api.wallet.test"),
        ("base_url", "ftp://api.wallet.test"),
        ("base_url", "https://api.wallet.test/?x=1"),
        ("base_url", "https://api.wallet.test/#top"),
        ("base_url", "https://[::1"),
        ("currencies", []),
        ("currencies", ["usd"]),
        ("currencies", "USD"),
        ("regions", []),
        ("regions", ["USA"]),
        ("api_kee", SECRET),
    ],
)
def test_a_bad_setting_is_named(settings: dict[str, Any], key: str, value: object) -> None:
    settings[key] = value
    with pytest.raises(ConnectorConfigError, match=f"^connector 'us': setting '{key}': ") as caught:
        load_settings(_Settings, "us", settings)
    assert caught.value.connector == "us"


@pytest.mark.parametrize("key", ["base_url", "api_key", "currencies", "regions"])
def test_a_missing_setting_is_named(settings: dict[str, Any], key: str) -> None:
    del settings[key]
    with pytest.raises(ConnectorConfigError, match=f"setting '{key}': Field required"):
        load_settings(_Settings, "us", settings)


def test_every_bad_setting_is_named(settings: dict[str, Any]) -> None:
    settings |= {"base_url": "nowhere", "regions": ["usa"]}
    with pytest.raises(ConnectorConfigError) as caught:
        load_settings(_Settings, "us", settings)
    assert "'base_url'" in str(caught.value)
    assert "'regions'" in str(caught.value)


def test_a_subclass_validator_runs_after_the_common_one(settings: dict[str, Any]) -> None:
    settings["currencies"] = ["EUR"]
    with pytest.raises(ConnectorConfigError, match="charges only in USD"):
        load_settings(_Settings, "us", settings)
    settings["currencies"] = ["eur"]
    with pytest.raises(ConnectorConfigError, match="not ISO 4217 alpha-3 codes"):
        load_settings(_Settings, "us", settings)


@pytest.mark.parametrize(
    ("key", "value"),
    [("api_key", [SECRET]), ("merchant_id", [SECRET]), ("base_url", f"https://{SECRET}/?q")],
)
def test_a_bad_value_is_never_echoed(settings: dict[str, Any], key: str, value: object) -> None:
    settings[key] = value
    with pytest.raises(ConnectorConfigError) as caught:
        load_settings(_Settings, "us", settings)
    shown = "".join(traceback.format_exception(caught.value))
    assert f"'{key}'" in shown
    assert SECRET not in shown
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_the_settings_are_frozen(settings: dict[str, Any]) -> None:
    parsed = load_settings(_Settings, "us", settings)
    with pytest.raises(ValueError, match="frozen"):
        parsed.merchant_id = "M-2"  # type: ignore[misc]


def test_http_url_takes_absolute_http_urls_only() -> None:
    assert http_url("https://hub.test/return?x=1#y").host == "hub.test"
    for bad in ("hub.test/return", "mailto:a@hub.test", "https://"):
        with pytest.raises(ValueError, match=r"absolute http\(s\) URL"):
            http_url(bad)
