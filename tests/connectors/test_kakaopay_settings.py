"""The KakaoPay connector's settings: every bad one is named, the secret key never shown."""

from __future__ import annotations

import traceback
from typing import Any

import pytest

from connectors import ConnectorConfigError, InquireRequest
from connectors.kakaopay import KakaoPayConnector

SECRET = "DEVTOPSECRET0123456789ABCDEF"

REQUIRED = ["base_url", "cid", "secret_key", "approval_url", "currencies", "regions"]


@pytest.fixture
def settings() -> dict[str, Any]:
    return {
        "base_url": "https://open-api.kakaopay.test",
        "cid": "TC0ONETIME",
        "secret_key": SECRET,
        "approval_url": "https://hub.causeway.test/kakaopay/return",
        "currencies": ["KRW"],
        "regions": ["KR"],
    }


def printed(error: BaseException) -> str:
    """Everything a log line or traceback of ``error`` would show."""
    return "".join(traceback.format_exception(error))


@pytest.mark.parametrize("key", REQUIRED)
def test_a_missing_setting_is_named(settings: dict[str, Any], key: str) -> None:
    del settings[key]
    with pytest.raises(ConnectorConfigError, match=f"'{key}'") as caught:
        KakaoPayConnector("kr", settings)
    assert caught.value.connector == "kr"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("base_url", "open-api.kakaopay.test"),
        ("base_url", "ftp://open-api.kakaopay.test"),
        ("base_url", "https://open-api.kakaopay.test/?x=1"),
        ("base_url", "http://[::1"),
        ("cid", ""),
        ("cid", "TC0ONETIME1"),
        ("approval_url", "/kakaopay/return"),
        ("approval_url", "https://hub.causeway.test/" + "r" * 250),
        ("cancel_url", "kakaopay/cancel"),
        ("fail_url", "mailto:hub@causeway.test"),
        ("currencies", []),
        ("currencies", ["krw"]),
        ("currencies", ["KRW", "JPY"]),
        ("currencies", "KRW"),
        ("regions", ["KOR"]),
        ("path_prefix", "online/v1/payment"),
        ("path_prefix", "/online/v1/payment/"),
        ("secret_key", ""),
        ("cid_secret", "x"),
    ],
)
def test_an_invalid_setting_is_named(settings: dict[str, Any], key: str, value: object) -> None:
    settings[key] = value
    with pytest.raises(ConnectorConfigError, match=f"'{key}'"):
        KakaoPayConnector("kr", settings)


def test_the_secret_key_is_absent_from_repr(settings: dict[str, Any]) -> None:
    connector = KakaoPayConnector("kr", settings)
    request = connector.build_inquire(InquireRequest("pay-1", "CAUSEWAY"))
    shown = repr(connector) + str(connector) + repr(vars(connector)) + repr(request)
    assert "TC0ONETIME" in shown
    assert SECRET not in shown
    # It is sent, though: only where it belongs.
    assert request.headers["authorization"] == f"SECRET_KEY {SECRET}"


@pytest.mark.parametrize(
    "bad_secret", ["DEV TOPSECRET0123456789", "DEVTOPSECRET\n0123456789", "DEVTOPSECRET한글"]
)
def test_a_malformed_secret_key_is_named_not_echoed(
    settings: dict[str, Any], bad_secret: str
) -> None:
    settings["secret_key"] = bad_secret
    with pytest.raises(ConnectorConfigError) as caught:
        KakaoPayConnector("kr", settings)
    shown = printed(caught.value)
    assert "'secret_key'" in shown
    assert "TOPSECRET" not in shown


def test_a_secret_key_of_the_wrong_type_is_not_echoed(settings: dict[str, Any]) -> None:
    settings["secret_key"] = 987654321987
    settings["currencies"] = ["krw"]
    with pytest.raises(ConnectorConfigError) as caught:
        KakaoPayConnector("kr", settings)
    shown = printed(caught.value)
    assert "'secret_key'" in shown
    assert "'currencies'" in shown
    assert "987654321987" not in shown
