"""The SNAP BI connector's settings (every bad one named, no secret ever shown), its
registration and its public surface."""

from __future__ import annotations

import importlib
import traceback
from types import ModuleType
from typing import Any

import pytest

from connectors import (
    Amount,
    ConnectorConfigError,
    InquireRequest,
    Merchant,
    PayRequest,
    build_connector,
)
from connectors.snapbi import SnapBiConnector

SECRET = "TOPSECRET-client-secret-8d1e"
TOKEN = "TOPSECRET-b2b-token-42aa"


@pytest.fixture
def settings() -> dict[str, Any]:
    return {
        "base_url": "https://api.wallet.test",
        "partner_id": "HUB-PARTNER-01",
        "client_secret": SECRET,
        "access_token": TOKEN,
        "channel_id": "95221",
        "merchant_id": "216620000000000001",
        "currencies": ["IDR"],
        "regions": ["ID"],
    }


REQUIRED = [
    "base_url",
    "partner_id",
    "client_secret",
    "access_token",
    "channel_id",
    "merchant_id",
    "currencies",
    "regions",
]


@pytest.mark.parametrize("key", REQUIRED)
def test_a_missing_setting_is_named(settings: dict[str, Any], key: str) -> None:
    del settings[key]
    with pytest.raises(ConnectorConfigError, match=f"'{key}'") as caught:
        SnapBiConnector("dana", settings)
    assert caught.value.connector == "dana"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("base_url", "wallet.test"),
        ("base_url", "ftp://wallet.test"),
        ("base_url", "http://wallet.test/?x=1"),
        ("base_url", "http://[::1"),
        ("partner_id", ""),
        ("partner_id", "X" * 37),
        ("partner_id", "HUB PARTNER"),
        ("channel_id", "123456"),
        ("channel_id", "95\n21"),
        ("merchant_id", ""),
        ("client_secret", ""),
        ("access_token", ""),
        ("currencies", []),
        ("currencies", ["idr"]),
        ("currencies", "IDR"),
        ("currencies", ["ZZZ"]),
        ("currencies", ["XAU"]),
        ("regions", ["IDN"]),
        ("chanel_id", "95221"),
    ],
)
def test_an_invalid_setting_is_named(settings: dict[str, Any], key: str, value: object) -> None:
    settings[key] = value
    with pytest.raises(ConnectorConfigError, match=f"'{key}'"):
        SnapBiConnector("dana", settings)


def test_a_token_that_would_break_its_header_is_refused_unseen(settings: dict[str, Any]) -> None:
    settings["access_token"] = "TOPSECRET\r\nX-Injected: 1"
    with pytest.raises(ConnectorConfigError) as caught:
        SnapBiConnector("dana", settings)
    printed = "".join(traceback.format_exception(caught.value))
    assert "'access_token'" in printed
    assert "TOPSECRET" not in printed


def test_secrets_are_absent_from_every_repr(settings: dict[str, Any]) -> None:
    connector = SnapBiConnector("dana", settings)
    shown = repr(connector) + str(connector) + repr(vars(connector))
    shown += "".join(repr(value) for value in vars(connector).values())
    assert "dana" in repr(connector)
    assert "HUB-PARTNER-01" in shown
    assert SECRET not in shown
    assert TOKEN not in shown


def test_the_payment_code_is_absent_from_the_request_repr(settings: dict[str, Any]) -> None:
    connector = SnapBiConnector("dana", settings)
    request = PayRequest(
        wallet_request_id="pay-1",
        acquirer_id="CAUSEWAY",
        payment_code="TOPSECRET-customer-token",
        payment_amount=Amount("JPY", 1200),
        pay_to_amount=Amount("IDR", 12_720_000),
        quote=None,
        merchant=Merchant("M-1", "Ramen", "5812", "JP"),
        order_description="ramen",
        reference_order_id="ORD-1",
    )
    built = connector.build_pay(request)
    assert "TOPSECRET" not in repr(request) + repr(built)
    assert TOKEN not in repr(connector.build_inquire(InquireRequest("pay-1", "CAUSEWAY")))


@pytest.mark.parametrize("secret_key", ["client_secret", "access_token"])
def test_a_secret_of_the_wrong_type_is_not_echoed(
    settings: dict[str, Any], secret_key: str
) -> None:
    settings[secret_key] = 987654321987
    settings["currencies"] = ["idr"]
    with pytest.raises(ConnectorConfigError) as caught:
        SnapBiConnector("dana", settings)
    printed = "".join(traceback.format_exception(caught.value))
    assert f"'{secret_key}'" in printed
    assert "'currencies'" in printed
    assert "987654321987" not in printed


def test_several_currencies_with_minor_units_are_accepted(settings: dict[str, Any]) -> None:
    connector = SnapBiConnector("dana", settings | {"currencies": ["IDR", "JPY", "KWD"]})
    assert connector.capabilities.currencies == {"IDR", "JPY", "KWD"}


def test_the_registry_builds_it(settings: dict[str, Any]) -> None:
    built = build_connector("snapbi", "dana", settings)
    assert isinstance(built, SnapBiConnector)
    assert built.name == "dana"


@pytest.mark.parametrize("name", ["connectors.snapbi", "connectors.snapbi.simulator"])
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    exported: list[str] = module.__all__
    defined = {
        member
        for member, value in vars(module).items()
        if not member.startswith("_")
        and not isinstance(value, ModuleType)
        and getattr(value, "__module__", None) == module.__name__
    }
    assert exported == sorted(exported)
    assert defined == set(exported)
