"""The Alipay+ connector's settings: validated once, when the connector is made.

Keys are parsed here too, so that a wrong PEM fails at start-up rather than on the first
payment. The raw private key never leaves this module: the connector keeps only the
:class:`~connectors.RsaSigner` built from it, whose ``repr`` is redacted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.exceptions import UnsupportedAlgorithm
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from connectors import ConnectorConfigError, RsaSigner, RsaVerifier

__all__ = ["ConnectorSettings", "load_settings"]

_CURRENCY = re.compile(r"[A-Z]{3}")
_REGION = re.compile(r"[A-Z]{2}")


class _Settings(BaseModel):
    # A misspelt optional key would otherwise silently fall back to its default.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    base_url: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    psp_id: str = Field(min_length=1)
    private_key: SecretStr
    wallet_public_key: str = Field(min_length=1)
    currencies: list[str] = Field(min_length=1)
    regions: list[str] = Field(min_length=1)
    path_prefix: str = "/aps/api/v1/payments"
    key_version: str = Field(default="1", min_length=1)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        try:
            url = httpx.URL(value)
        except httpx.InvalidURL as exc:
            raise ValueError(f"not a URL: {exc}") from exc
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("must be an absolute http(s) URL")
        if url.query or url.fragment:
            raise ValueError("must not carry a query or fragment")
        return value

    @field_validator("currencies")
    @classmethod
    def _iso_currencies(cls, value: list[str]) -> list[str]:
        bad = [code for code in value if not _CURRENCY.fullmatch(code)]
        if bad:
            raise ValueError(f"not ISO 4217 alpha-3 codes: {bad}")
        return value

    @field_validator("regions")
    @classmethod
    def _iso_regions(cls, value: list[str]) -> list[str]:
        bad = [code for code in value if not _REGION.fullmatch(code)]
        if bad:
            raise ValueError(f"not ISO 3166 alpha-2 codes: {bad}")
        return value

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
    try:
        parsed = _Settings.model_validate(dict(settings))
    except ValidationError as exc:
        problems = "; ".join(
            f"setting {'.'.join(str(part) for part in error['loc'])!r}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        )
        # ``from None``: the chained ValidationError would be printed with tracebacks, and
        # its context is all we already said; nothing of the inputs (keys) goes further.
        raise ConnectorConfigError(f"connector {name!r}: {problems}", connector=name) from None
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
