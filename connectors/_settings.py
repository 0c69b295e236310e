"""What every connector's settings have in common, and how they are loaded.

A connector declares its settings as a subclass of :class:`SettingsModel`, which already
has ``base_url`` (an absolute http(s) URL without query or fragment), ``currencies`` (ISO
4217 alpha-3 codes) and ``regions`` (ISO 3166 alpha-2 codes), refuses unknown keys (a
misspelt optional key would otherwise silently fall back to its default) and never puts an
input in an error. :func:`load_settings` validates a route's settings against it::

    class _Settings(SettingsModel):
        merchant_id: str = Field(min_length=1)
        api_key: SecretStr

    parsed = load_settings(_Settings, name, settings)  # or ConnectorConfigError

A subclass adds validators of its own (a wallet that charges in one currency only checks
that too); the common ones run first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from connectors._errors import ConnectorConfigError

__all__ = ["SettingsModel", "http_url", "load_settings"]

_CURRENCY = re.compile(r"[A-Z]{3}")
_REGION = re.compile(r"[A-Z]{2}")

_Model = TypeVar("_Model", bound=BaseModel)


def http_url(value: str) -> httpx.URL:
    """``value`` parsed, when it is an absolute http(s) URL; ``ValueError`` saying why not.

    For a validator of a URL setting other than ``base_url`` (a redirect or callback URL,
    whose query and fragment rules are the wallet's).
    """
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as exc:
        raise ValueError(f"not a URL: {exc}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("must be an absolute http(s) URL")
    return url


class SettingsModel(BaseModel):
    """The settings every connector has; subclass it with the wallet's own."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    base_url: str = Field(min_length=1)
    currencies: list[str] = Field(min_length=1)
    regions: list[str] = Field(min_length=1)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        url = http_url(value)
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


def load_settings(model: type[_Model], name: str, settings: Mapping[str, Any]) -> _Model:
    """``settings`` validated as ``model``, or :class:`ConnectorConfigError` for connector
    ``name`` naming each bad setting and saying what is wrong, never showing its value.
    """
    try:
        return model.model_validate(dict(settings))
    except ValidationError as exc:
        problems = "; ".join(
            f"setting {'.'.join(str(part) for part in error['loc'])!r}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False, include_context=False)
        )
        # ``from None``: the chained ValidationError adds nothing we did not say, and
        # printing it is one more place a secret could surface.
        raise ConnectorConfigError(f"connector {name!r}: {problems}", connector=name) from None
