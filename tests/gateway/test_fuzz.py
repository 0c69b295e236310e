"""The acquiring API fuzzed from its own OpenAPI document (schemathesis).

Every case is sent over loopback to a whole hub (gateway and simulated wallets) that runs in
a thread of its own, so the fuzzer's synchronous calls and the hub's event loop do not block
each other. Signed cases reach past authentication; mis-signed ones must not. For each case:
HTTP 200 with a signed answer of the documented shape, never ``UNKNOWN_EXCEPTION`` (what an
unexpected error becomes), a body the document calls invalid is refused, and a refused
request leaves the ledger's tables and the wallets as they were.

``CAUSEWAY_FUZZ_EXAMPLES`` sets the random examples per operation (default 60); the run is
derandomized, so CI sees the same cases every time.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import schemathesis
import sqlalchemy as sa
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from connectors import RsaSigner, RsaVerifier, signed_content
from gateway import schema
from gateway.openapi import OPENAPI_PATH, openapi_document, openapi_json
from tests.conftest import Backend
from tests.gateway.conftest import LocalHub, local_hub

DOCS = Path(__file__).parents[2] / "docs" / "openapi.json"
#: Examples per operation in `make test` (CI runs the whole suite in under 15 minutes on a
#: slow 2-core machine); set CAUSEWAY_FUZZ_EXAMPLES higher for a longer search.
EXAMPLES = int(os.environ.get("CAUSEWAY_FUZZ_EXAMPLES", "40"))
CLIENT_ID = "SIAM_ACQ"

ApiCase = schemathesis.Case[Any]

SCHEMA = schemathesis.openapi.from_dict(openapi_document())
# The coverage phase's boundary cases matter once past authentication; before it, the
# examples and random cases are enough.
UNSIGNED = schemathesis.openapi.from_dict(openapi_document())
UNSIGNED.config.phases.update(phases=["examples", "fuzzing"])

#: Refusals of the request itself: nothing may be recorded or sent for any of them.
REFUSALS = frozenset(
    {
        "PARAM_ILLEGAL",
        "MEDIA_TYPE_NOT_ACCEPTABLE",
        "METHOD_NOT_SUPPORTED",
        "INVALID_API",
        "INVALID_CLIENT",
        "INVALID_SIGNATURE",
        "REQUEST_TIME_EXCEED",
        "ACCESS_DENIED",
        "REPEAT_REQ_INCONSISTENT",
    }
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # One hub serves all of a test's examples, on purpose: state carries over, as it would.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Snapshot:
    """What a request could have changed: row counts per ledger table, wallet counters."""

    rows: dict[str, int]
    wallets: dict[str, dict[str, int]]


_COUNTS = sa.select(
    *(
        sa.select(sa.func.count()).select_from(table).scalar_subquery().label(table.name)
        for table in schema.metadata.sorted_tables
    )
)


async def _snapshot(hub: LocalHub) -> Snapshot:
    async with hub.app_hub.store.engine.connect() as connection:
        rows = dict((await connection.execute(_COUNTS)).one()._mapping)
    routes = list(hub.wallets)
    stats = await asyncio.gather(*(hub.stats(route) for route in routes))
    return Snapshot(rows, dict(zip(routes, stats, strict=True)))


#: The idempotency key of each operation that has one of its own.
_FRESH = {
    "/aps/api/v1/payments/pay": "paymentRequestId",
    "/aps/api/v1/payments/refund": "refundRequestId",
}

Sign = Callable[[Any], Any]  # requests' auth hook: takes and returns a PreparedRequest


@dataclass
class Target:
    """A running hub, driven from the test's thread."""

    portal: BlockingPortal
    hub: LocalHub
    signer: RsaSigner
    hub_verifier: RsaVerifier

    last: Snapshot | None = None
    sent: int = 0

    def fresh_ids(self, case: ApiCase) -> None:
        """Give a pay or refund case a request id of its own, so that it is processed
        rather than answered from the record of an earlier case with the same id."""
        name, body = _FRESH.get(case.operation.path), case.body
        if name is None or not isinstance(body, dict):
            return
        value = body.get(name)
        if isinstance(value, str) and 0 < len(value) <= 56:
            self.sent += 1
            case.body = {**body, name: f"{value}~{self.sent}"}

    def snapshot(self) -> Snapshot:
        return self.portal.call(_snapshot, self.hub)

    def changes(self, send: Callable[[], None]) -> tuple[Snapshot, Snapshot]:
        """The state before and after ``send()``; each after is the next before, which
        halves the look-ups (the hub's background work changes no counts meanwhile)."""
        before = self.last or self.snapshot()
        self.last = None  # if send() fails, the next example looks afresh
        send()
        self.last = self.snapshot()
        return before, self.last

    def signing(self, *, tamper: bool = False) -> Sign:
        """Sign each request as the acquirer does, over the bytes sent (``tamper``: over
        other bytes, so the signature is well-formed but wrong)."""

        def sign(request: Any) -> Any:
            body = request.body or b""
            body = body.encode() if isinstance(body, str) else body
            moment = datetime.now(UTC).isoformat(timespec="seconds")
            path = urlsplit(request.url).path
            content = signed_content("POST", path, CLIENT_ID, moment, body + b" " * tamper)
            request.headers["Client-Id"] = CLIENT_ID
            request.headers["Request-Time"] = moment
            request.headers["Signature"] = self.signer.header(content)
            return request

        return sign


def _example(api: str, name: str) -> dict[str, Any]:
    operation = openapi_document()["paths"][f"/aps/api/v1/payments/{api}"]["post"]
    example: dict[str, Any] = operation["requestBody"]["content"]["application/json"]
    return dict(example["examples"][name]["value"])


@pytest.fixture
def target(backend: Backend, state_dir: Path) -> Iterator[Target]:
    keys = state_dir / "keys"
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(local_hub(backend, state_dir)) as hub,
    ):
        # The payment the document's refund, cancel and inquiry examples name, so that
        # their cases (and the coverage phase's variations of them) reach a real payment.
        paid = portal.call(hub.siam.call, "pay", _example("pay", "userPresentedCode"))
        assert paid["result"]["resultCode"] == "SUCCESS", paid
        yield Target(
            portal,
            hub,
            RsaSigner((keys / f"acquirer-{CLIENT_ID}.pem").read_bytes()),
            RsaVerifier((keys / "hub.pub.pem").read_bytes()),
        )


def _send(target: Target, case: ApiCase, sign: Sign | None) -> dict[str, Any]:
    """Send ``case``; check the answer's shape and signature; return its body."""
    response = case.call(base_url=target.hub.url, auth=sign)
    case.validate_response(response, checks=CHECKS)
    if case.method != "POST":
        # The coverage phase probes methods the document does not have (HEAD and OPTIONS
        # among them): any answer but a server error will do, as long as it refuses.
        assert response.status_code < 500
        if response.status_code == 200 and case.method != "HEAD":
            return {"result": response.json()["result"]}
        return {"result": {"resultCode": "METHOD_NOT_SUPPORTED", "resultStatus": "F"}}
    request_path = urlsplit(str(response.request.url)).path
    content = signed_content(
        "POST",
        request_path,
        response.headers["client-id"][0],
        response.headers["response-time"][0],
        response.content,
    )
    assert target.hub_verifier.verify(content, response.headers["signature"][0])
    answer: dict[str, Any] = response.json()
    assert answer["result"]["resultCode"] != "UNKNOWN_EXCEPTION", answer
    return answer


def _body_is_invalid(case: ApiCase) -> bool:
    meta = case.meta
    if meta is None:
        return False
    body = meta.components.get(ParameterLocation.BODY)
    return body is not None and body.mode.is_negative


@SCHEMA.parametrize()
@FUZZ
def test_signed_requests_are_answered_as_documented(case: ApiCase, target: Target) -> None:
    answers: list[dict[str, Any]] = []
    target.fresh_ids(case)

    before, after = target.changes(lambda: answers.append(_send(target, case, target.signing())))

    result = answers[0]["result"]
    if _body_is_invalid(case):
        assert result["resultStatus"] == "F", f"an invalid body was accepted: {answers}"
    if result["resultCode"] in REFUSALS:
        assert after == before, f"{result} yet something changed"
    elif result["resultStatus"] == "F" and after.wallets == before.wallets:
        assert after.rows == before.rows, f"{result} before any wallet call, yet rows changed"


@UNSIGNED.parametrize()
@settings(FUZZ, max_examples=max(EXAMPLES // 2, 10))
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # refused before storage
def test_unsigned_and_missigned_requests_are_refused(case: ApiCase, target: Target) -> None:
    answers: list[dict[str, Any]] = []

    def send() -> None:
        # As generated (no signature, a Client-Id no acquirer has), then well-formed but
        # over other bytes.
        answers.append(_send(target, case, None))
        answers.append(_send(target, case, target.signing(tamper=True)))

    before, after = target.changes(send)

    assert {a["result"]["resultCode"] for a in answers} <= REFUSALS, answers
    assert after == before


def test_the_document_is_valid_openapi_and_served_by_the_gateway(target: Target) -> None:
    SCHEMA.validate()  # against the OpenAPI 3.1 meta-schema

    served = schemathesis.openapi.from_url(target.hub.url + OPENAPI_PATH)

    assert served.raw_schema == openapi_document()
    labels = set()
    for operation in served.get_all_operations():
        assert isinstance(operation, Ok), operation
        labels.add(operation.ok().label)
    assert labels == {
        f"POST /aps/api/v1/payments/{api}"
        for api in ("pay", "inquiryPayment", "cancelPayment", "refund", "consultPayment")
    }


def test_docs_openapi_json_is_the_generated_document() -> None:
    assert DOCS.read_text() == openapi_json(), (
        "docs/openapi.json is stale: run `causeway openapi --out docs/openapi.json`"
    )
    assert json.loads(DOCS.read_text())["openapi"] == "3.1.0"
