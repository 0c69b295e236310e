"""The WeChat Pay connector's settings: validated once, when the connector is made.

The API key never leaves this module as text: the connector keeps only the
:class:`~connectors.wechatpay._xml.Signer` built from it, whose ``repr`` is redacted.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import Field, SecretStr, field_validator

import connectors
from connectors import SettingsModel
from connectors.wechatpay._xml import Signer

__all__ = ["ConnectorSettings", "load_settings"]

_MERCHANT_ID = re.compile(r"[0-9]{1,32}")
# The merchant platform issues 32-character keys of letters and digits.
_API_KEY = re.compile(r"[0-9A-Za-z]{32}")


class _Settings(SettingsModel):
    appid: str = Field(min_length=1, max_length=32)
    mch_id: str
    sub_mch_id: str | None = None
    api_key: SecretStr
    spbill_create_ip: str = "127.0.0.1"

    @field_validator("mch_id", "sub_mch_id")
    @classmethod
    def _merchant_id(cls, value: str | None) -> str | None:
        if value is not None and not _MERCHANT_ID.fullmatch(value):
            raise ValueError("must be the merchant number WeChat Pay assigned (1 to 32 digits)")
        return value

    @field_validator("api_key")
    @classmethod
    def _key_shape(cls, value: SecretStr) -> SecretStr:
        if not _API_KEY.fullmatch(value.get_secret_value()):
            raise ValueError("must be the 32-character API v2 key (letters and digits)")
        return value

    @field_validator("spbill_create_ip")
    @classmethod
    def _ip_address(cls, value: str) -> str:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise ValueError("must be an IPv4 or IPv6 address") from None
        return value


@dataclass(frozen=True, slots=True)
class ConnectorSettings:
    """Validated settings, with the API key already turned into a signer."""

    base_url: httpx.URL
    appid: str
    mch_id: str
    sub_mch_id: str | None
    signer: Signer
    currencies: frozenset[str]
    regions: frozenset[str]
    spbill_create_ip: str


def load_settings(name: str, settings: Mapping[str, Any]) -> ConnectorSettings:
    """Validate ``settings``; raise :class:`ConnectorConfigError` naming each bad setting."""
    parsed = connectors.load_settings(_Settings, name, settings)
    return ConnectorSettings(
        base_url=httpx.URL(parsed.base_url),
        appid=parsed.appid,
        mch_id=parsed.mch_id,
        sub_mch_id=parsed.sub_mch_id,
        signer=Signer(parsed.api_key.get_secret_value()),
        currencies=frozenset(parsed.currencies),
        regions=frozenset(parsed.regions),
        spbill_create_ip=parsed.spbill_create_ip,
    )
