"""The Mojaloop connector's settings: every bad one is named, the token is never shown."""

from __future__ import annotations

import traceback
from typing import Any

import pytest

from connectors import Amount, ConnectorConfigError, InquireRequest, Merchant, PayRequest
from connectors.mojaloop import MojaloopConnector

TOKEN = "TOPSECRETTOKENMATERIAL"


@pytest.fixture
def settings() -> dict[str, Any]:
    return {
        "base_url": "https://adapter.test/sdk-out",
        "dfsp_id": "tzwallet",
        "payee_id_value": "255700900900",
        "currency_exponent": 2,
        "bearer_token": TOKEN,
        "currencies": ["TZS"],
        "regions": ["TZ"],
    }


def test_valid_settings_make_a_connector(settings: dict[str, Any]) -> None:
    connector = MojaloopConnector("tz", settings)
    assert connector.capabilities.currencies == {"TZS"}
    request = connector.build_inquire(InquireRequest("p-1", "ACQ"))
    assert request.url.path.startswith("/sdk-out/transfers/")


@pytest.mark.parametrize(
    "key",
    ["base_url", "dfsp_id", "payee_id_value", "currency_exponent", "currencies", "regions"],
)
def test_a_missing_setting_is_named(settings: dict[str, Any], key: str) -> None:
    del settings[key]
    with pytest.raises(ConnectorConfigError, match=f"'{key}'") as caught:
        MojaloopConnector("tz", settings)
    assert caught.value.connector == "tz"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("base_url", "adapter.test"),
        ("base_url", "ftp://adapter.test"),
        ("base_url", "http://adapter.test/?x=1"),
        ("base_url", "http://[::1"),
        ("dfsp_id", ""),
        ("dfsp_id", "d" * 33),
        ("payee_id_type", "PHONE"),
        ("payee_id_value", ""),
        ("payee_id_value", "9" * 129),
        ("currency_exponent", 5),
        ("currency_exponent", -1),
        ("currency_exponent", "2"),
        ("currency_exponent", True),
        ("currency_exponent", 2.0),
        ("bearer_token", ""),
        ("currencies", []),
        ("currencies", ["tzs"]),
        ("currencies", "TZS"),
        ("regions", ["TZA"]),
        ("bearer_tokne", "x"),
    ],
)
def test_an_invalid_setting_is_named(settings: dict[str, Any], key: str, value: object) -> None:
    settings[key] = value
    with pytest.raises(ConnectorConfigError, match=f"'{key}'"):
        MojaloopConnector("tz", settings)


def test_the_payee_id_type_is_any_fspiop_party_type(settings: dict[str, Any]) -> None:
    connector = MojaloopConnector("tz", settings | {"payee_id_type": "BUSINESS"})
    pay = PayRequest(
        "p-1",
        "ACQ",
        "255712345001",
        Amount("KES", 100),
        Amount("TZS", 2000),
        None,
        Merchant("M", "Shop", "5411", "KE"),
        "goods",
        "O-1",
    )
    body = connector.build_pay(pay).content
    assert b'"to":{"type":"BUSINESS","idType":"BUSINESS","idValue":"255700900900"}' in body


@pytest.mark.parametrize("bad_token", [f"{TOKEN} WITH SPACE", f"{TOKEN}\n", 98765432109876])
def test_a_bad_token_is_not_echoed(settings: dict[str, Any], bad_token: object) -> None:
    settings["bearer_token"] = bad_token
    settings["currencies"] = ["tzs"]  # a second problem, reported beside it
    with pytest.raises(ConnectorConfigError) as caught:
        MojaloopConnector("tz", settings)
    printed = "".join(traceback.format_exception(caught.value))
    assert "'bearer_token'" in printed
    assert "'currencies'" in printed
    assert TOKEN not in printed
    assert "98765432109876" not in printed


def test_the_token_is_absent_from_every_repr(settings: dict[str, Any]) -> None:
    connector = MojaloopConnector("tz", settings)
    shown = repr(connector) + str(connector) + repr(vars(connector))
    assert "tz" in repr(connector)
    assert TOKEN not in shown
