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
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from connectors import ConnectorConfigError
from connectors.wechatpay._xml import Signer

__all__ = ["ConnectorSettings", "load_settings"]

_CURRENCY = re.compile(r"[A-Z]{3}")
_REGION = re.compile(r"[A-Z]{2}")
_MERCHANT_ID = re.compile(r"[0-9]{1,32}")
# The merchant platform issues 32-character keys of letters and digits.
_API_KEY = re.compile(r"[0-9A-Za-z]{32}")


class _Settings(BaseModel):
    # A misspelt optional key would otherwise silently fall back to its default.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    base_url: str = Field(min_length=1)
    appid: str = Field(min_length=1, max_length=32)
    mch_id: str
    sub_mch_id: str | None = None
    api_key: SecretStr
    currencies: list[str] = Field(min_length=1)
    regions: list[str] = Field(min_length=1)
    spbill_create_ip: str = "127.0.0.1"

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
    try:
        parsed = _Settings.model_validate(dict(settings))
    except ValidationError as exc:
        problems = "; ".join(
            f"setting {'.'.join(str(part) for part in error['loc'])!r}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False, include_context=False)
        )
        # ``from None``: the chained ValidationError adds nothing we did not say, and
        # nothing of the inputs (the key) may travel further.
        raise ConnectorConfigError(f"connector {name!r}: {problems}", connector=name) from None
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
