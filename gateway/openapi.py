"""The acquiring API as an OpenAPI 3.1 document.

Request schemas are generated from the pydantic models in :mod:`gateway.wire`, so the
document and the validation cannot drift; answers are described here by hand, after
:mod:`gateway.render`. The gateway serves the document at ``GET /aps/api/v1/openapi.json``,
``causeway openapi`` prints it, and ``docs/openapi.json`` is a copy a test keeps current.

Example::

    document = openapi_document()
    document["paths"]["/aps/api/v1/payments/pay"]["post"]["operationId"]  # "pay"
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import Response

from gateway import wire
from gateway.client import API_PREFIX
from gateway.config import HubConfig
from gateway.results import ResultCode
from gateway.states import PaymentStatus

__all__ = ["OPENAPI_PATH", "openapi_document", "openapi_json", "serve_openapi"]

#: Where the gateway serves the document.
OPENAPI_PATH = "/aps/api/v1/openapi.json"

_REF = "#/components/schemas/{model}"


def _string(description: str | None = None, **constraints: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", **constraints}
    if description:
        schema["description"] = description
    return schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(model=name)}


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    # Answers are closed: a member the document does not list is a bug in the gateway.
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


def _result_codes() -> str:
    rows = "\n".join(f"| `{c.name}` | {c.status.value} | {c.message} |" for c in ResultCode)
    return (
        "`S` success, `F` a final failure of the call, `U` an unknown outcome "
        "(inquire, or call again with the same request id).\n\n"
        "| resultCode | status | meaning |\n|---|---|---|\n" + rows
    )


def _answer_schemas() -> dict[str, Any]:
    amount = _ref("Amount")
    quote = _ref("Quote")
    payment = {
        "acquirerId": _string(),
        "pspId": _string("The wallet (Mobile Payment Provider)."),
        "walletBrandName": _string(),
        "paymentRequestId": _string(),
        "paymentId": _string("The hub's id of the payment."),
        "paymentAmount": amount,
        "payToAmount": {**amount, "description": "What the wallet charges, in its currency."},
        "paymentQuote": quote,
        "settlementAmount": amount,
        "settlementQuote": quote,
        "customerId": _string(),
        "paymentTime": _string("When the payment succeeded (ISO 8601)."),
    }
    order_code = _object(
        {
            "codeDetails": {
                "type": "array",
                "items": _object(
                    {
                        "codeValueType": _string(enum=["ORDER_CODE"]),
                        "displayType": _string(enum=["TEXT"]),
                        "codeValue": _string("An EMVCo merchant-presented QR payload."),
                    },
                    ("codeValueType", "displayType", "codeValue"),
                ),
            },
            "expireTime": _string(),
        },
        ("codeDetails", "expireTime"),
    )
    return {
        "Result": _object(
            {
                "resultCode": _string(_result_codes(), enum=[c.name for c in ResultCode]),
                "resultStatus": _string(enum=["S", "F", "U"]),
                "resultMessage": _string(maxLength=256),
            },
            ("resultCode", "resultStatus", "resultMessage"),
        ),
        "Amount": _object(
            {
                "currency": _string("ISO 4217 alphabetic code.", pattern="^[A-Z]{3}$"),
                "value": _string("Integer minor units.", pattern="^(0|[1-9][0-9]*)$"),
            },
            ("currency", "value"),
        ),
        "Quote": _object(
            {
                "quoteId": _string(),
                "quoteCurrencyPair": _string(pattern="^[A-Z]{3}/[A-Z]{3}$"),
                "quotePrice": _string("A decimal number."),
                "quoteStartTime": _string(),
                "quoteExpiryTime": _string(),
                "baseCurrency": _string(pattern="^[A-Z]{3}$"),
            },
            (
                "quoteId",
                "quoteCurrencyPair",
                "quotePrice",
                "quoteStartTime",
                "quoteExpiryTime",
                "baseCurrency",
            ),
        ),
        "PayResponse": _object(
            {
                "result": _ref("Result"),
                **payment,
                "paymentExpiryTime": _string("When an order made by this pay expires."),
                "paymentUrl": _string("The wallet's cashier page (cashier payments)."),
                "orderCodeForm": order_code,
            },
            ("result",),
        ),
        "InquiryPaymentResponse": _object(
            {
                "result": {**_ref("Result"), "description": "The result of the inquiry."},
                "paymentResult": {**_ref("Result"), "description": "The payment's own result."},
                "paymentStatus": _string(
                    enum=[*(s.value for s in PaymentStatus), "WAITING", "CLOSED"]
                ),
                **payment,
                "refundedAmount": amount,
            },
            ("result",),
        ),
        "CancelPaymentResponse": _object(
            {
                "result": _ref("Result"),
                "acquirerId": _string(),
                "pspId": _string(),
                "paymentId": _string(),
                "paymentRequestId": _string(),
            },
            ("result",),
        ),
        "RefundResponse": _object(
            {
                "result": _ref("Result"),
                "acquirerId": _string(),
                "pspId": _string(),
                "paymentId": _string(),
                "refundRequestId": _string(),
                "refundId": _string(),
                "refundAmount": amount,
                "refundFromAmount": {**amount, "description": "In the wallet's currency."},
                "settlementAmount": amount,
                "settlementQuote": quote,
                "refundTime": _string(),
            },
            ("result",),
        ),
        "ConsultPaymentResponse": _object(
            {
                "result": _ref("Result"),
                "paymentOptions": {
                    "type": "array",
                    "items": _object(
                        {
                            "paymentMethodType": _string(),
                            "paymentMethodCategory": _string(enum=["WALLET"]),
                            "walletName": _string(),
                            "walletRegion": _string(),
                            "walletCurrency": _string(),
                            "enabled": _string(enum=["true", "false"]),
                            "disableReason": _string(),
                        },
                        ("paymentMethodType", "enabled"),
                    ),
                },
            },
            ("result",),
        ),
    }


def _request_schemas(models: list[type[BaseModel]]) -> dict[str, Any]:
    _, top = models_json_schema([(m, "validation") for m in models], ref_template=_REF)
    schemas: dict[str, Any] = top["$defs"]
    for schema in schemas.values():
        for member in schema.get("properties", {}).values():
            # pydantic titles each member after its own name, which says nothing.
            member.pop("title", None)
    return schemas


_EXAMPLE_AMOUNT = {"currency": "THB", "value": "125000"}
_MERCHANT = {
    "referenceMerchantId": "TH-BKK-0042",
    "merchantMCC": "5812",
    "merchantName": "Baan Somtum",
    "merchantAddress": {"region": "TH", "city": "Bangkok"},
}


def _pay_example(request_id: str, scenario: str, code: str | None) -> dict[str, Any]:
    method: dict[str, str] = {"paymentMethodType": "CONNECT_WALLET"}
    if code is not None:
        method["paymentMethodId"] = code
    return {
        "paymentRequestId": request_id,
        "paymentAmount": _EXAMPLE_AMOUNT,
        "order": {
            "referenceOrderId": f"ORD-{request_id}",
            "orderDescription": "Two bowls of khao soi",
            "orderAmount": _EXAMPLE_AMOUNT,
            "merchant": _MERCHANT,
        },
        "paymentMethod": method,
        "paymentFactor": {"isInStorePayment": "true", "inStorePaymentScenario": scenario},
    }


# (api, request model, answer schema, summary, examples)
_OPERATIONS: list[tuple[str, type[BaseModel], str, str, dict[str, Any]]] = [
    (
        "pay",
        wire.PayRequest,
        "PayResponse",
        "Pay with a user-presented code, or make an order (QR or cashier) to be paid.",
        {
            "userPresentedCode": _pay_example("pay-example-1", "PaymentCode", "281002000000000013"),
            "orderCode": _pay_example("pay-example-2", "OrderCode", None),
        },
    ),
    (
        "inquiryPayment",
        wire.InquiryPaymentRequest,
        "InquiryPaymentResponse",
        "Report a payment by paymentRequestId or paymentId.",
        {"byRequestId": {"paymentRequestId": "pay-example-1"}},
    ),
    (
        "cancelPayment",
        wire.CancelPaymentRequest,
        "CancelPaymentResponse",
        "Cancel a payment (reversing a charge), or close a request id not yet paid.",
        {"byRequestId": {"paymentRequestId": "pay-example-1"}},
    ),
    (
        "refund",
        wire.RefundRequest,
        "RefundResponse",
        "Refund all or part of a succeeded payment; refundRequestId is idempotent.",
        {
            "partial": {
                "paymentRequestId": "pay-example-1",
                "refundRequestId": "refund-example-1",
                "refundAmount": {"currency": "THB", "value": "5000"},
            }
        },
    ),
    (
        "consultPayment",
        wire.ConsultPaymentRequest,
        "ConsultPaymentResponse",
        "List the wallets that can take a payment.",
        {"anyAmount": {"paymentAmount": {"currency": "THB", "value": "0"}}},
    ),
]

_SIGNING = (
    "`algorithm=RSA256,keyVersion=<n>,signature=<url-encoded base64>`: SHA256withRSA over "
    '`"POST <path>\\n<Client-Id>.<Request-Time>.<raw body>"`, with the acquirer\'s key.'
)


_DEFAULT_SKEW = HubConfig.model_fields["request_time_skew_seconds"].default


def _parameters() -> dict[str, Any]:
    return {
        "ClientId": {
            "name": "Client-Id",
            "in": "header",
            "required": True,
            "description": "The acquirer's client id, as configured at the hub.",
            "schema": _string(minLength=1, maxLength=64),
        },
        "RequestTime": {
            "name": "Request-Time",
            "in": "header",
            "required": True,
            "description": (
                "ISO 8601 with an offset, or epoch milliseconds; refused when further than "
                f"the configured skew ({_DEFAULT_SKEW} s by default) from the gateway's clock."
            ),
            "schema": _string(minLength=1, maxLength=64),
        },
    }


def _answer_headers() -> dict[str, Any]:
    return {
        "client-id": {"required": True, "schema": _string()},
        "response-time": {"required": True, "schema": _string()},
        "signature": {
            "required": True,
            "description": "The hub's signature over the answer, as the request's.",
            "schema": _string(),
        },
    }


def _operation(
    api: str, model: type[BaseModel], answer: str, summary: str, examples: dict[str, Any]
) -> dict[str, Any]:
    return {
        "operationId": api,
        "summary": summary,
        "parameters": [_ref_parameter("ClientId"), _ref_parameter("RequestTime")],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": _ref(model.__name__),
                    "examples": {name: {"value": value} for name, value in examples.items()},
                }
            },
        },
        "responses": {
            "200": {
                "description": (
                    "Every answer, successful or not, is HTTP 200 with a result, signed."
                ),
                "headers": {
                    name: {"$ref": f"#/components/headers/{name}"} for name in _answer_headers()
                },
                "content": {"application/json": {"schema": _ref(answer)}},
            }
        },
    }


def _ref_parameter(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def openapi_document() -> dict[str, Any]:
    """The acquiring API's OpenAPI 3.1 document."""
    schemas = _request_schemas([model for _, model, *_ in _OPERATIONS])
    schemas.update(_answer_schemas())
    # A tree of its own: the parts shared between calls (examples, pydantic's extras) must
    # not change when a caller edits the document it got.
    return copy.deepcopy(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "Causeway acquiring API",
                "version": "1",
                "description": (
                    "Alipay+-compatible acquiring API. Every scalar on the wire is a JSON string; "
                    "an amount is integer minor units. A body is UTF-8 JSON (a `Content-Type`, "
                    f"when sent, is `application/json`) of at most {wire.MAX_BODY_BYTES} bytes; "
                    "unknown members are ignored. Bad input is answered `PARAM_ILLEGAL` naming the "
                    "field, and nothing is recorded for it.\n\n" + _result_codes()
                ),
            },
            "paths": {
                API_PREFIX + api: {"post": _operation(api, model, answer, summary, examples)}
                for api, model, answer, summary, examples in _OPERATIONS
            },
            "components": {
                "schemas": dict(sorted(schemas.items())),
                "parameters": _parameters(),
                "headers": _answer_headers(),
                "securitySchemes": {
                    "Signature": {
                        "type": "apiKey",
                        "in": "header",
                        "name": "Signature",
                        "description": _SIGNING,
                    }
                },
            },
            "security": [{"Signature": []}],
        }
    )


@cache
def openapi_json() -> str:
    """The document as the gateway serves it and ``docs/openapi.json`` holds it."""
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


async def serve_openapi(request: Request) -> Response:
    """``GET /aps/api/v1/openapi.json``."""
    return Response(openapi_json(), media_type="application/json")
