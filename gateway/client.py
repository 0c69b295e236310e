"""A signing client for the acquiring API: what an acquirer's integration does.

The demo, the tests and the benchmark use it; it is also a short, complete example of the
wire protocol for anyone integrating::

    client = AcquirerClient(http, "http://127.0.0.1:8080", "SIAM_ACQ", signer, hub_verifier)
    answer = await client.call("pay", {...})
    answer["result"]["resultStatus"]  # "S", "F" or "U"
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx

from connectors import RsaSigner, RsaVerifier, signed_content

__all__ = ["AcquirerClient", "BadResponseSignature"]

API_PREFIX = "/aps/api/v1/payments/"


class BadResponseSignature(Exception):
    """Raised when the gateway's answer is not signed by the hub's key."""


class AcquirerClient:
    """Signs requests to the acquiring API and verifies the signed answers."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        client_id: str,
        signer: RsaSigner,
        hub_verifier: RsaVerifier,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._signer = signer
        self._hub = hub_verifier

    def build(self, api: str, document: dict[str, Any]) -> httpx.Request:
        """A signed request for ``api`` (``"pay"``, ``"refund"``...)."""
        path = API_PREFIX + api
        body = json.dumps(document, separators=(",", ":")).encode()
        request_time = datetime.now(UTC).isoformat(timespec="seconds")
        content = signed_content("POST", path, self.client_id, request_time, body)
        return self._http.build_request(
            "POST",
            self._base_url + path,
            content=body,
            headers={
                "Content-Type": "application/json; charset=UTF-8",
                "Client-Id": self.client_id,
                "Request-Time": request_time,
                "Signature": self._signer.header(content),
            },
        )

    async def call(self, api: str, document: dict[str, Any]) -> dict[str, Any]:
        """Send a signed request and return the verified answer's JSON."""
        request = self.build(api, document)
        response = await self._http.send(request)
        return self.verify(request, response)

    def verify(self, request: httpx.Request, response: httpx.Response) -> dict[str, Any]:
        content = signed_content(
            "POST",
            request.url.path,
            response.headers.get("client-id", ""),
            response.headers.get("response-time", ""),
            response.content,
        )
        if not self._hub.verify(content, response.headers.get("signature", "")):
            raise BadResponseSignature(f"{request.url.path}: the answer is not signed by the hub")
        document: dict[str, Any] = response.json()
        return document
