"""The WeChat Pay connector's settings: every bad one is named, the API key is never shown."""

from __future__ import annotations

import traceback
from typing import Any

import pytest

from connectors import ConnectorConfigError
from connectors.wechatpay import WeChatPayConnector

KEY = "Wx7fQ2mZ9kLp3RtV8nYc4HsJ6dGb1aE5"
REQUIRED = ["base_url", "appid", "mch_id", "api_key", "currencies", "regions"]


@pytest.fixture
def settings() -> dict[str, Any]:
    return {
        "base_url": "https://apihk.mch.weixin.qq.com",
        "appid": "wx2421b1c4370ec43b",
        "mch_id": "10000100",
        "api_key": KEY,
        "currencies": ["CNY"],
        "regions": ["CN"],
    }


def test_valid_settings_make_a_connector(settings: dict[str, Any]) -> None:
    settings |= {"sub_mch_id": "1900000109", "spbill_create_ip": "2001:db8::7"}
    connector = WeChatPayConnector("cn", settings)
    assert connector.name == "cn"
    assert connector.capabilities.currencies == {"CNY"}


@pytest.mark.parametrize("key", REQUIRED)
def test_a_missing_setting_is_named(settings: dict[str, Any], key: str) -> None:
    del settings[key]
    with pytest.raises(ConnectorConfigError, match=f"'{key}'") as caught:
        WeChatPayConnector("cn", settings)
    assert caught.value.connector == "cn"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("base_url", "apihk.mch.weixin.qq.com"),
        ("base_url", "ftp://apihk.mch.weixin.qq.com"),
        ("base_url", "https://apihk.mch.weixin.qq.com/?x=1"),
        ("appid", ""),
        ("appid", "wx" + "0" * 31),
        ("mch_id", "M-100"),
        ("mch_id", ""),
        ("sub_mch_id", "sub"),
        ("api_key", "short"),
        ("api_key", KEY + "x"),
        ("api_key", KEY[:-1] + "!"),
        ("api_key", 12345),
        ("currencies", []),
        ("currencies", ["cny"]),
        ("currencies", "CNY"),
        ("regions", ["CHN"]),
        ("spbill_create_ip", "localhost"),
        ("api_kee", KEY),
    ],
)
def test_an_invalid_setting_is_named(settings: dict[str, Any], key: str, value: object) -> None:
    settings[key] = value
    with pytest.raises(ConnectorConfigError, match=f"'{key}'"):
        WeChatPayConnector("cn", settings)


@pytest.mark.parametrize("bad_key", [KEY[:-1] + "!", KEY + "x", KEY[:16]])
def test_a_bad_key_is_never_echoed(settings: dict[str, Any], bad_key: str) -> None:
    settings["api_key"] = bad_key
    with pytest.raises(ConnectorConfigError) as caught:
        WeChatPayConnector("cn", settings)
    shown = "".join(traceback.format_exception(caught.value))
    assert "'api_key'" in shown
    assert bad_key not in shown
    assert caught.value.__cause__ is None


def test_the_key_is_never_echoed_when_another_setting_is_bad(settings: dict[str, Any]) -> None:
    settings["regions"] = "CN"
    with pytest.raises(ConnectorConfigError) as caught:
        WeChatPayConnector("cn", settings)
    assert KEY not in "".join(traceback.format_exception(caught.value))


def test_the_key_is_not_in_any_repr(settings: dict[str, Any]) -> None:
    connector = WeChatPayConnector("cn", settings)
    shown = repr(connector) + repr(vars(connector))
    assert "10000100" in shown
    assert KEY not in shown
