"""The M-Pesa connector's settings: validated once, when the connector is made.

Secrets (``consumer_secret``, ``passkey``, ``security_credential``, ``callback_secret`` and
a pre-fetched ``access_token``) stay :class:`~pydantic.SecretStr` for as long as the
connector lives; they are unwrapped only at the moment a request is built. The key that
signs callback URLs (``_callback``) is derived once, from ``callback_secret`` or, when that
is not set, from ``consumer_secret``; it is never shown.
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
from connectors.mpesa._callback import callback_key

__all__ = ["WALLET_CURRENCY", "MpesaSettings", "load_settings"]

_SHORTCODE = re.compile(r"[0-9]{5,7}")

#: Daraja charges Kenyan shillings only: ``Amount`` carries no currency.
WALLET_CURRENCY = "KES"


class _Settings(SettingsModel):
    consumer_key: str = Field(min_length=1)
    consumer_secret: SecretStr
    shortcode: str
    passkey: SecretStr
    callback_url: str = Field(min_length=1)
    initiator_name: str = Field(min_length=1)
    security_credential: SecretStr
    access_token: SecretStr | None = None
    callback_secret: SecretStr | None = None

    @field_validator("callback_url")
    @classmethod
    def _callback_url(cls, value: str) -> str:
        # The hub may put its own query on the callback; a fragment never reaches a server.
        if http_url(value).fragment:
            raise ValueError("must not carry a fragment")
        return value

    @field_validator("shortcode")
    @classmethod
    def _digits(cls, value: str) -> str:
        if not _SHORTCODE.fullmatch(value):
            raise ValueError("must be a paybill number of 5 to 7 digits")
        return value

    @field_validator(
        "consumer_secret", "passkey", "security_credential", "access_token", "callback_secret"
    )
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
    #: Signs the callback URLs (``_callback``); bytes, so kept out of the ``repr``.
    callback_key: bytes = field(repr=False)


def load_settings(name: str, settings: Mapping[str, Any]) -> MpesaSettings:
    """Validate ``settings``; raise :class:`ConnectorConfigError` naming each bad setting."""
    parsed = connectors.load_settings(_Settings, name, settings)
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
        callback_key=callback_key(
            (parsed.callback_secret or parsed.consumer_secret).get_secret_value()
        ),
    )
