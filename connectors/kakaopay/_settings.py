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
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from connectors import ConnectorConfigError

__all__ = ["ConnectorSettings", "load_settings"]

_CURRENCY = re.compile(r"[A-Z]{3}")
_REGION = re.compile(r"[A-Z]{2}")
# A header value must be visible ASCII: a stray newline would split the header.
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")


def _http_url(value: str, *, base: bool) -> str:
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as exc:
        raise ValueError(f"not a URL: {exc}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("must be an absolute http(s) URL")
    if base and (url.query or url.fragment):
        raise ValueError("must not carry a query or fragment")
    # KakaoPay refuses redirect URLs longer than 255 characters.
    if not base and len(value) > 255:
        raise ValueError("must be at most 255 characters")
    return value


class _Settings(BaseModel):
    # A misspelt optional key would otherwise silently fall back to its default.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    base_url: str = Field(min_length=1)
    cid: str = Field(min_length=1, max_length=10)
    secret_key: SecretStr
    approval_url: str = Field(min_length=1)
    cancel_url: str | None = None
    fail_url: str | None = None
    currencies: list[str] = Field(min_length=1)
    regions: list[str] = Field(min_length=1)
    path_prefix: str = "/online/v1/payment"

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str) -> str:
        return _http_url(value, base=True)

    @field_validator("approval_url", "cancel_url", "fail_url")
    @classmethod
    def _redirect(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value, base=False)

    @field_validator("secret_key")
    @classmethod
    def _header_safe(cls, value: SecretStr) -> SecretStr:
        if not _HEADER_SAFE.fullmatch(value.get_secret_value()):
            raise ValueError("must be non-empty printable ASCII without spaces")
        return value

    @field_validator("currencies")
    @classmethod
    def _won_only(cls, value: list[str]) -> list[str]:
        bad = [code for code in value if not _CURRENCY.fullmatch(code)]
        if bad:
            raise ValueError(f"not ISO 4217 alpha-3 codes: {bad}")
        if set(value) != {"KRW"}:
            raise ValueError("KakaoPay charges only in KRW")
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
    try:
        parsed = _Settings.model_validate(dict(settings))
    except ValidationError as exc:
        problems = "; ".join(
            f"setting {'.'.join(str(part) for part in error['loc'])!r}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        )
        # ``from None``: the chained ValidationError adds nothing we did not say, and
        # nothing of the inputs (the secret key) may travel further.
        raise ConnectorConfigError(f"connector {name!r}: {problems}", connector=name) from None
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
