"""Fixtures for the connector tests: RSA keys (made once: 2048-bit generation is slow),
an Alipay+ connector with a fixed clock, and its settings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connectors import generate_rsa_key_pair
from connectors.alipayplus import AlipayPlusConnector

#: The instant every test connector signs its requests at.
FIXED_NOW = datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def hub_keys() -> tuple[bytes, bytes]:
    """The hub's (private PEM, public PEM)."""
    return generate_rsa_key_pair()


@pytest.fixture(scope="session")
def wallet_keys() -> tuple[bytes, bytes]:
    """The wallet's (private PEM, public PEM)."""
    return generate_rsa_key_pair()


@pytest.fixture(scope="session")
def stranger_keys() -> tuple[bytes, bytes]:
    """A key pair that neither side trusts."""
    return generate_rsa_key_pair()


@pytest.fixture
def settings(hub_keys: tuple[bytes, bytes], wallet_keys: tuple[bytes, bytes]) -> dict[str, Any]:
    return {
        "base_url": "http://wallet.test",
        "client_id": "HUB_CLIENT_0001",
        "psp_id": "KRWALLET",
        "private_key": hub_keys[0].decode(),
        "wallet_public_key": wallet_keys[1].decode(),
        "currencies": ["KRW"],
        "regions": ["KR"],
    }


@pytest.fixture
def connector(settings: dict[str, Any]) -> AlipayPlusConnector:
    return AlipayPlusConnector("kr-wallet", settings, clock=lambda: FIXED_NOW)
