"""The M-Pesa connector's settings: validated once, when the connector is made.

Secrets (``consumer_secret``, ``passkey``, ``security_credential`` and a pre-fetched
``access_token``) stay :class:`~pydantic.SecretStr` for as long as the connector lives; they
are unwrapped only at the moment a request is built.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from connectors import ConnectorConfigError

__all__ = ["WALLET_CURRENCY", "MpesaSettings", "load_settings"]

_REGION = re.compile(r"[A-Z]{2}")
_SHORTCODE = re.compile(r"[0-9]{5,7}")

#: Daraja charges Kenyan shillings only: ``Amount`` carries no currency.
WALLET_CURRENCY = "KES"


def _http_url(value: str, *, path_allowed: bool) -> str:
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as exc:
        raise ValueError(f"not a URL: {exc}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("must be an absolute http(s) URL")
    if url.fragment or (not path_allowed and url.query):
        raise ValueError("must not carry a query or fragment")
    return value


class _Settings(BaseModel):
    # A misspelt optional key would otherwise silently fall back to its default.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    base_url: str = Field(min_length=1)
    consumer_key: str = Field(min_length=1)
    consumer_secret: SecretStr
    shortcode: str
    passkey: SecretStr
    callback_url: str = Field(min_length=1)
    initiator_name: str = Field(min_length=1)
    security_credential: SecretStr
    currencies: list[str] = Field(min_length=1)
    regions: list[str] = Field(min_length=1)
    access_token: SecretStr | None = None

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return _http_url(value, path_allowed=False)

    @field_validator("callback_url")
    @classmethod
    def _callback_url(cls, value: str) -> str:
        return _http_url(value, path_allowed=True)

    @field_validator("shortcode")
    @classmethod
    def _digits(cls, value: str) -> str:
        if not _SHORTCODE.fullmatch(value):
            raise ValueError("must be a paybill number of 5 to 7 digits")
        return value

    @field_validator("consumer_secret", "passkey", "security_credential", "access_token")
    @classmethod
    def _not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("currencies")
    @classmethod
    def _kes_only(cls, value: list[str]) -> list[str]:
        if set(value) != {WALLET_CURRENCY}:
            raise ValueError(f"M-Pesa (Daraja) charges in {WALLET_CURRENCY} only")
        return value

    @field_validator("regions")
    @classmethod
    def _iso_regions(cls, value: list[str]) -> list[str]:
        bad = [code for code in value if not _REGION.fullmatch(code)]
        if bad:
            raise ValueError(f"not ISO 3166 alpha-2 codes: {bad}")
        return value


@dataclass(frozen=True, slots=True)
class MpesaSettings:
    """Validated settings. Its ``repr`` shows no secret (they are :class:`SecretStr`)."""

    base_url: httpx.URL
    consumer_key: str
    consumer_secret: SecretStr
    shortcode: str
    passkey: SecretStr
    callback_url: str
    initiator_name: str
    security_credential: SecretStr
    currencies: frozenset[str]
    regions: frozenset[str]
    access_token: SecretStr | None


def load_settings(name: str, settings: Mapping[str, Any]) -> MpesaSettings:
    """Validate ``settings``; raise :class:`ConnectorConfigError` naming each bad setting."""
    try:
        parsed = _Settings.model_validate(dict(settings))
    except ValidationError as exc:
        problems = "; ".join(
            f"setting {'.'.join(str(part) for part in error['loc'])!r}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        )
        # ``from None``: the chained ValidationError adds nothing we did not say, and nothing
        # of the inputs (secrets) may travel further.
        raise ConnectorConfigError(f"connector {name!r}: {problems}", connector=name) from None
    return MpesaSettings(
        base_url=httpx.URL(parsed.base_url),
        consumer_key=parsed.consumer_key,
        consumer_secret=parsed.consumer_secret,
        shortcode=parsed.shortcode,
        passkey=parsed.passkey,
        callback_url=parsed.callback_url,
        initiator_name=parsed.initiator_name,
        security_credential=parsed.security_credential,
        currencies=frozenset(parsed.currencies),
        regions=frozenset(parsed.regions),
        access_token=parsed.access_token,
    )
