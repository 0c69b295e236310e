"""A Causeway connector for the Example Wallet, a small JSON API with a bearer key.

The whole protocol, as the wallet documents it::

    POST /v1/charges                  {"idempotency_key", "payer", "amount", "currency",
                                       "description", "merchant"}     -> {"charge": {...}}
    GET  /v1/charges/{key}                                            -> {"charge": {...}}
                                                                         404 if unknown
    POST /v1/charges/{key}/void                                       -> {"charge": {...}}
    POST /v1/refunds                  {"idempotency_key", "charge", "amount", "currency"}
                                                                      -> {"refund": {...}}

    charge: {"id", "status": "captured" | "declined" | "processing" | "voided", "reason",
             "customer"}
    refund: {"id", "status": "refunded" | "declined", "reason"}

Amounts are integer minor units; every request carries ``Authorization: Bearer <api_key>``.
A 5xx means the outcome is unknown. Settings (one route's table in the configuration)::

    base_url    "https://api.example-wallet.test"
    api_key     "ex_live_..."          secret (or api_key_file, read into a SecretStr)
    currencies  ["SGD"]                optional, default ["SGD"]
    regions     ["SG"]                 optional, default ["SG"]
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any, assert_never

import httpx
from connectors import (
    CancelRequest,
    CancelResult,
    Capabilities,
    ConnectorConfigError,
    InquireRequest,
    Operation,
    PaymentResult,
    PayRequest,
    RefundRequest,
    RefundResult,
    WalletProtocolError,
)
from pydantic import SecretStr

__all__ = ["ChargeStatus", "ExampleConnector"]


class ChargeStatus(enum.StrEnum):
    """The Example Wallet's charge statuses."""

    CAPTURED = "captured"
    DECLINED = "declined"
    PROCESSING = "processing"
    VOIDED = "voided"


#: The wallet's decline reasons, as Alipay+ result codes; any other is PROCESS_FAIL.
_DECLINES = {
    "insufficient_funds": "USER_BALANCE_NOT_ENOUGH",
    "unknown_payer": "USER_NOT_EXIST",
    "over_limit": "PAYMENT_AMOUNT_EXCEED_LIMIT",
    "unsupported_currency": "CURRENCY_NOT_SUPPORT",
    "exceeds_charge": "REFUND_AMOUNT_EXCEED",
    "not_captured": "ORDER_STATUS_INVALID",
}


def _text(settings: Mapping[str, Any], key: str, name: str) -> str:
    value = settings.get(key)
    # A secret read from a file (``api_key_file = "..."``) arrives wrapped.
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if not isinstance(value, str) or not value:
        raise ConnectorConfigError(
            f"connector {name!r}: setting {key!r} must be a non-empty string", connector=name
        )
    return value


class ExampleConnector:
    """A :class:`connectors.Connector` for the Example Wallet; also its own factory."""

    name: str
    capabilities: Capabilities

    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        self.name = name
        self._base_url = httpx.URL(_text(settings, "base_url", name).rstrip("/"))
        # Kept only inside the header it goes into; never in an attribute a repr shows.
        self._headers = {"Authorization": f"Bearer {_text(settings, 'api_key', name)}"}
        self.capabilities = Capabilities(
            operations=frozenset(Operation),
            currencies=frozenset(settings.get("currencies", ["SGD"])),
            regions=frozenset(settings.get("regions", ["SG"])),
        )

    def __repr__(self) -> str:
        return f"ExampleConnector(name={self.name!r}, base_url={str(self._base_url)!r})"

    def build_pay(self, request: PayRequest) -> httpx.Request:
        return self._post(
            "/v1/charges",
            {
                "idempotency_key": request.wallet_request_id,
                "payer": request.payment_code,
                "amount": request.pay_to_amount.value,
                "currency": request.pay_to_amount.currency,
                "description": request.order_description,
                "merchant": request.merchant.name,
            },
        )

    def parse_pay(self, request: PayRequest, response: httpx.Response) -> PaymentResult:
        return self._payment(response)

    def build_inquire(self, request: InquireRequest) -> httpx.Request:
        url = self._base_url.join(f"/v1/charges/{request.wallet_request_id}")
        return httpx.Request("GET", url, headers=self._headers)

    def parse_inquire(self, request: InquireRequest, response: httpx.Response) -> PaymentResult:
        if response.status_code == 404:
            return PaymentResult.declined("ORDER_NOT_EXIST", "no such charge")
        return self._payment(response)

    def build_cancel(self, request: CancelRequest) -> httpx.Request:
        return self._post(f"/v1/charges/{request.wallet_request_id}/void", {})

    def parse_cancel(self, request: CancelRequest, response: httpx.Response) -> CancelResult:
        charge = self._body(response, "charge")
        if charge is None:
            return CancelResult.pending(f"HTTP {response.status_code}")
        if charge.get("status") == ChargeStatus.VOIDED:
            return CancelResult.succeeded()
        return CancelResult.declined("ORDER_STATUS_INVALID", f"charge is {charge.get('status')}")

    def build_refund(self, request: RefundRequest) -> httpx.Request:
        return self._post(
            "/v1/refunds",
            {
                "idempotency_key": request.refund_request_id,
                "charge": request.wallet_request_id,
                "amount": request.refund_from_amount.value,
                "currency": request.refund_from_amount.currency,
            },
        )

    def parse_refund(self, request: RefundRequest, response: httpx.Response) -> RefundResult:
        refund = self._body(response, "refund")
        if refund is None:
            return RefundResult.pending(f"HTTP {response.status_code}")
        match refund.get("status"):
            case "refunded":
                return RefundResult.succeeded(wallet_refund_id=refund.get("id"))
            case "declined":
                reason = str(refund.get("reason"))
                return RefundResult.declined(_DECLINES.get(reason, "PROCESS_FAIL"), reason)
            case other:
                return RefundResult.pending(f"refund status {other!r}")

    def _post(self, path: str, body: Mapping[str, Any]) -> httpx.Request:
        return httpx.Request("POST", self._base_url.join(path), headers=self._headers, json=body)

    def _body(self, response: httpx.Response, key: str) -> dict[str, Any] | None:
        """The ``key`` object of a 200 answer; ``None`` for a 5xx (outcome unknown)."""
        if response.status_code >= 500:
            return None
        if response.status_code != 200:
            raise WalletProtocolError(
                f"unexpected HTTP {response.status_code}",
                connector=self.name,
                http_status=response.status_code,
            )
        try:
            value = json.loads(response.content)[key]
        except (ValueError, KeyError, TypeError) as exc:
            raise WalletProtocolError(
                f"answer without a {key!r} object", connector=self.name, http_status=200
            ) from exc
        if not isinstance(value, dict):
            raise WalletProtocolError(f"{key!r} is not an object", connector=self.name)
        return value

    def _payment(self, response: httpx.Response) -> PaymentResult:
        charge = self._body(response, "charge")
        if charge is None:
            return PaymentResult.pending(f"HTTP {response.status_code}; outcome unknown")
        try:
            status: ChargeStatus | None = ChargeStatus(str(charge.get("status")))
        except ValueError:
            status = None
        match status:
            case ChargeStatus.CAPTURED:
                return PaymentResult.succeeded(
                    wallet_payment_id=charge.get("id"), customer_id=charge.get("customer")
                )
            case ChargeStatus.DECLINED:
                reason = str(charge.get("reason"))
                code = _DECLINES.get(reason, "PROCESS_FAIL")
                return PaymentResult.declined(code, reason, wallet_code=reason)
            case ChargeStatus.VOIDED:
                return PaymentResult.declined("ORDER_IS_CLOSED", "charge voided")
            case ChargeStatus.PROCESSING | None:
                # Anything the wallet did not document is pending, never a success.
                return PaymentResult.pending(f"charge status {charge.get('status')!r}")
            case unreachable:
                assert_never(unreachable)
