"""The Alipay+ connector's settings: validated once, when the connector is made.

Keys are parsed here too, so that a wrong PEM fails at start-up rather than on the first
payment. The raw private key never leaves this module: the connector keeps only the
:class:`~connectors.RsaSigner` built from it, whose ``repr`` is redacted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.exceptions import UnsupportedAlgorithm
from pydantic import Field, SecretStr, field_validator

import connectors
from connectors import ConnectorConfigError, RsaSigner, RsaVerifier, SettingsModel

__all__ = ["ConnectorSettings", "load_settings"]


class _Settings(SettingsModel):
    client_id: str = Field(min_length=1)
    psp_id: str = Field(min_length=1)
    private_key: SecretStr
    wallet_public_key: str = Field(min_length=1)
    path_prefix: str = "/aps/api/v1/payments"
    key_version: str = Field(default="1", min_length=1)

    @field_validator("path_prefix")
    @classmethod
    def _absolute_path(cls, value: str) -> str:
        if not value.startswith("/") or value.endswith("/"):
            raise ValueError("must start with '/' and not end with '/'")
        return value


@dataclass(frozen=True, slots=True)
class ConnectorSettings:
    """Validated settings, with the keys already loaded."""

    base_url: httpx.URL
    client_id: str
    psp_id: str
    signer: RsaSigner
    verifier: RsaVerifier
    currencies: frozenset[str]
    regions: frozenset[str]
    path_prefix: str


def load_settings(name: str, settings: Mapping[str, Any]) -> ConnectorSettings:
    """Validate ``settings``; raise :class:`ConnectorConfigError` naming each bad setting."""
    parsed = connectors.load_settings(_Settings, name, settings)
    try:
        signer = RsaSigner(
            parsed.private_key.get_secret_value().encode(), key_version=parsed.key_version
        )
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ConnectorConfigError(
            f"connector {name!r}: setting 'private_key': not a PEM RSA private key",
            connector=name,
        ) from None
    try:
        verifier = RsaVerifier(parsed.wallet_public_key.encode())
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ConnectorConfigError(
            f"connector {name!r}: setting 'wallet_public_key': not a PEM RSA public key",
            connector=name,
        ) from exc
    return ConnectorSettings(
        base_url=httpx.URL(parsed.base_url),
        client_id=parsed.client_id,
        psp_id=parsed.psp_id,
        signer=signer,
        verifier=verifier,
        currencies=frozenset(parsed.currencies),
        regions=frozenset(parsed.regions),
        path_prefix=parsed.path_prefix,
    )
