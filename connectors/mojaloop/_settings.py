"""The Mojaloop connector's settings: validated once, when the connector is made.

The bearer token stays a :class:`~pydantic.SecretStr` all the way to the request that
carries it, so no ``repr`` of the settings or of the connector can show it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StrictInt,
    ValidationError,
    field_validator,
)

from connectors import ConnectorConfigError

__all__ = ["ConnectorSettings", "PartyIdType", "load_settings"]

#: FSPIOP ``PartyIdType``: how a party is addressed in the scheme.
PartyIdType = Literal[
    "MSISDN", "EMAIL", "PERSONAL_ID", "BUSINESS", "DEVICE", "ACCOUNT_ID", "IBAN", "ALIAS"
]

_CURRENCY = re.compile(r"[A-Z]{3}")
_REGION = re.compile(r"[A-Z]{2}")


class _Settings(BaseModel):
    # A misspelt optional key would otherwise silently fall back to its default.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    base_url: str = Field(min_length=1)
    dfsp_id: str = Field(min_length=1, max_length=32)  # FSPIOP FspId
    payee_id_type: PartyIdType = "MSISDN"
    payee_id_value: str = Field(min_length=1, max_length=128)  # FSPIOP PartyIdentifier
    # Strict: "2" or true would be quietly read as a number, and a wrong exponent moves
    # a hundred times the money.
    currency_exponent: StrictInt = Field(ge=0, le=4)  # FSPIOP amounts have ≤ 4 decimals
    bearer_token: SecretStr | None = None
    currencies: list[str] = Field(min_length=1)
    regions: list[str] = Field(min_length=1)

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

    @field_validator("bearer_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            token = value.get_secret_value()
            # A header value cannot hold these; saying which character would echo the token.
            if not token or any(c.isspace() or not c.isprintable() for c in token):
                raise ValueError("must be non-empty printable text without spaces")
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
    try:
        parsed = _Settings.model_validate(dict(settings))
    except ValidationError as exc:
        problems = "; ".join(
            f"setting {'.'.join(str(part) for part in error['loc'])!r}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        )
        # ``from None``: the chained ValidationError adds nothing we did not say, and
        # nothing of the inputs (the token) may travel further.
        raise ConnectorConfigError(f"connector {name!r}: {problems}", connector=name) from None
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
