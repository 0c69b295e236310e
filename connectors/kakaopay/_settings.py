"""The KakaoPay connector's settings: validated once, when the connector is made.

The secret key stays a :class:`~pydantic.SecretStr` until the one moment it becomes the
``Authorization`` header value; nothing here ever prints it, and a bad value is named by
its setting, never shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import Field, SecretStr, field_validator

import connectors
from connectors import SettingsModel, http_url

__all__ = ["ConnectorSettings", "load_settings"]

# A header value must be visible ASCII: a stray newline would split the header.
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")


class _Settings(SettingsModel):
    cid: str = Field(min_length=1, max_length=10)
    secret_key: SecretStr
    approval_url: str = Field(min_length=1)
    cancel_url: str | None = None
    fail_url: str | None = None
    path_prefix: str = "/online/v1/payment"

    @field_validator("approval_url", "cancel_url", "fail_url")
    @classmethod
    def _redirect(cls, value: str | None) -> str | None:
        if value is None:
            return None
        http_url(value)
        # KakaoPay refuses redirect URLs longer than 255 characters.
        if len(value) > 255:
            raise ValueError("must be at most 255 characters")
        return value

    @field_validator("secret_key")
    @classmethod
    def _header_safe(cls, value: SecretStr) -> SecretStr:
        if not _HEADER_SAFE.fullmatch(value.get_secret_value()):
            raise ValueError("must be non-empty printable ASCII without spaces")
        return value

    @field_validator("currencies")
    @classmethod
    def _won_only(cls, value: list[str]) -> list[str]:
        if set(value) != {"KRW"}:
            raise ValueError("KakaoPay charges only in KRW")
        return value

    @field_validator("path_prefix")
    @classmethod
    def _absolute_path(cls, value: str) -> str:
        if not value.startswith("/") or value.endswith("/"):
            raise ValueError("must start with '/' and not end with '/'")
        return value


@dataclass(frozen=True, slots=True)
class ConnectorSettings:
    """Validated settings. ``secret_key`` is kept out of ``repr``."""

    base_url: httpx.URL
    cid: str
    secret_key: SecretStr = field(repr=False)
    approval_url: str
    cancel_url: str
    fail_url: str
    currencies: frozenset[str]
    regions: frozenset[str]
    path_prefix: str


def load_settings(name: str, settings: Mapping[str, Any]) -> ConnectorSettings:
    """Validate ``settings``; raise :class:`ConnectorConfigError` naming each bad setting."""
    parsed = connectors.load_settings(_Settings, name, settings)
    return ConnectorSettings(
        base_url=httpx.URL(parsed.base_url),
        cid=parsed.cid,
        secret_key=parsed.secret_key,
        approval_url=parsed.approval_url,
        # KakaoPay wants all three; by default the hub's one page tells them apart.
        cancel_url=parsed.cancel_url or parsed.approval_url,
        fail_url=parsed.fail_url or parsed.approval_url,
        currencies=frozenset(parsed.currencies),
        regions=frozenset(parsed.regions),
        path_prefix=parsed.path_prefix,
    )
