"""The Mojaloop connector's settings: validated once, when the connector is made.

The bearer token stays a :class:`~pydantic.SecretStr` all the way to the request that
carries it, so no ``repr`` of the settings or of the connector can show it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from pydantic import Field, SecretStr, StrictInt, field_validator

import connectors
from connectors import SettingsModel

__all__ = ["ConnectorSettings", "PartyIdType", "load_settings"]

#: FSPIOP ``PartyIdType``: how a party is addressed in the scheme.
PartyIdType = Literal[
    "MSISDN", "EMAIL", "PERSONAL_ID", "BUSINESS", "DEVICE", "ACCOUNT_ID", "IBAN", "ALIAS"
]


class _Settings(SettingsModel):
    dfsp_id: str = Field(min_length=1, max_length=32)  # FSPIOP FspId
    payee_id_type: PartyIdType = "MSISDN"
    payee_id_value: str = Field(min_length=1, max_length=128)  # FSPIOP PartyIdentifier
    # Strict: "2" or true would be quietly read as a number, and a wrong exponent moves
    # a hundred times the money.
    currency_exponent: StrictInt = Field(ge=0, le=4)  # FSPIOP amounts have ≤ 4 decimals
    bearer_token: SecretStr | None = None

    @field_validator("bearer_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            token = value.get_secret_value()
            # A header value cannot hold these; saying which character would echo the token.
            if not token or any(c.isspace() or not c.isprintable() for c in token):
                raise ValueError("must be non-empty printable text without spaces")
        return value


@dataclass(frozen=True, slots=True)
class ConnectorSettings:
    """Validated settings."""

    base_url: httpx.URL
    dfsp_id: str
    payee_id_type: PartyIdType
    payee_id_value: str
    currency_exponent: int
    bearer_token: SecretStr | None
    currencies: frozenset[str]
    regions: frozenset[str]


def load_settings(name: str, settings: Mapping[str, Any]) -> ConnectorSettings:
    """Validate ``settings``; raise :class:`ConnectorConfigError` naming each bad setting."""
    parsed = connectors.load_settings(_Settings, name, settings)
    return ConnectorSettings(
        base_url=httpx.URL(parsed.base_url),
        dfsp_id=parsed.dfsp_id,
        payee_id_type=parsed.payee_id_type,
        payee_id_value=parsed.payee_id_value,
        currency_exponent=parsed.currency_exponent,
        bearer_token=parsed.bearer_token,
        currencies=frozenset(parsed.currencies),
        regions=frozenset(parsed.regions),
    )
