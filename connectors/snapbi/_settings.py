"""The SNAP BI connector's settings: validated once, when the connector is made.

The client secret and the B2B access token are ``SecretStr`` from the moment they are read:
the connector keeps only an :class:`~connectors.snapbi._signature.HmacSigner` (whose
``repr`` is redacted) and the token as a ``SecretStr``, unwrapped only to fill a header.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from iso4217 import Currency
from pydantic import Field, SecretStr, field_validator

import connectors
from connectors import SettingsModel
from connectors.snapbi._signature import HmacSigner

__all__ = ["HEADER_TOKEN", "ConnectorSettings", "load_settings"]

#: What a header may carry here: visible ASCII without spaces, so nothing can split it.
HEADER_TOKEN = re.compile(r"[\x21-\x7e]+")


class _Settings(SettingsModel):
    # Lengths as DANA documents the headers and fields they fill.
    partner_id: str = Field(min_length=1, max_length=36)
    client_secret: SecretStr = Field(min_length=1)
    access_token: SecretStr = Field(min_length=1)
    channel_id: str = Field(min_length=1, max_length=5)
    merchant_id: str = Field(min_length=1, max_length=64)

    @field_validator("partner_id", "channel_id")
    @classmethod
    def _header_safe(cls, value: str) -> str:
        if not HEADER_TOKEN.fullmatch(value):
            raise ValueError("must be visible ASCII without spaces (it is sent as a header)")
        return value

    @field_validator("access_token")
    @classmethod
    def _token_header_safe(cls, value: SecretStr) -> SecretStr:
        if not HEADER_TOKEN.fullmatch(value.get_secret_value()):
            raise ValueError("must be visible ASCII without spaces (it is sent as a header)")
        return value

    @field_validator("currencies")
    @classmethod
    def _minor_units(cls, value: list[str]) -> list[str]:
        # SNAP amounts are decimal strings, so each currency's exponent must be known.
        bad = [code for code in value if _exponent(code) is None]
        if bad:
            raise ValueError(f"not ISO 4217 currencies with minor units: {bad}")
        return value


def _exponent(code: str) -> int | None:
    try:
        exponent: int | None = Currency(code).exponent
    except ValueError:
        return None
    return exponent


@dataclass(frozen=True, slots=True)
class ConnectorSettings:
    """Validated settings, with the signer already built."""

    base_url: httpx.URL
    partner_id: str
    channel_id: str
    merchant_id: str
    signer: HmacSigner
    access_token: SecretStr
    currencies: frozenset[str]
    regions: frozenset[str]


def load_settings(name: str, settings: Mapping[str, Any]) -> ConnectorSettings:
    """Validate ``settings``; raise :class:`ConnectorConfigError` naming each bad setting."""
    parsed = connectors.load_settings(_Settings, name, settings)
    return ConnectorSettings(
        base_url=httpx.URL(parsed.base_url),
        partner_id=parsed.partner_id,
        channel_id=parsed.channel_id,
        merchant_id=parsed.merchant_id,
        signer=HmacSigner(parsed.client_secret),
        access_token=parsed.access_token,
        currencies=frozenset(parsed.currencies),
        regions=frozenset(parsed.regions),
    )
