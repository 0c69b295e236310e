"""How the simulated wallet checks who is calling, before its books see a request.

In SNAP's order: mandatory headers (``400xx02``), their format (``400xx01``), the partner
(``401xx00``), the B2B token (``401xx01``), the symmetric signature (``401xx00``), and last
the per-day uniqueness of ``X-EXTERNAL-ID`` (``409xx00``).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from pydantic import SecretStr
from starlette.datastructures import Headers

from connectors.snapbi._signature import JAKARTA, HmacSigner, minify
from connectors.snapbi._sim_wire import SnapError

__all__ = ["Gate"]

_MANDATORY = (
    "X-TIMESTAMP",
    "X-SIGNATURE",
    "X-PARTNER-ID",
    "X-EXTERNAL-ID",
    "CHANNEL-ID",
    "Authorization",
)


class Gate:
    """The wallet's view of one partner (the hub): its id, secret and B2B token."""

    def __init__(self, *, partner_id: str, client_secret: str, access_token: str) -> None:
        self._partner_id = partner_id
        self._signer = HmacSigner(SecretStr(client_secret))
        self._token = access_token.encode()
        # (Jakarta date, X-EXTERNAL-ID) -> digest of the message first sent with it.
        self._seen: dict[tuple[str, str], bytes] = {}

    def __repr__(self) -> str:
        return f"Gate(partner_id={self._partner_id!r})"

    def admit(self, method: str, path: str, headers: Headers, raw: bytes) -> None:
        """Raise :class:`SnapError` with the wallet's answer if the caller is not trusted."""
        for name in _MANDATORY:
            if not headers.get(name):
                raise SnapError(400, "02", f"Invalid Mandatory Field {name}")
        timestamp = headers["X-TIMESTAMP"]
        try:
            moment = datetime.fromisoformat(timestamp)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise SnapError(400, "01", "Invalid Field Format X-TIMESTAMP")
        if headers["X-PARTNER-ID"] != self._partner_id:
            raise SnapError(401, "00", "Unauthorized. Unknown Client")
        scheme, _, token = headers["Authorization"].partition(" ")
        if scheme != "Bearer" or not hmac.compare_digest(token.encode(), self._token):
            raise SnapError(401, "01", "Invalid Token (B2B)")
        if not self._signer.verify(headers["X-SIGNATURE"], method, path, token, raw, timestamp):
            raise SnapError(401, "00", "Unauthorized. Invalid Signature")

    def remember(self, path: str, headers: Headers, raw: bytes) -> None:
        """Hold ``X-EXTERNAL-ID`` for today. Reused for another message it is a conflict;
        the very same message passes, for the books to answer as the repeat it is (as DANA
        answers a consistent repeat with the original result)."""
        day = datetime.now(JAKARTA).date().isoformat()
        message = hashlib.sha256(path.encode() + b"\n" + minify(raw)).digest()
        first = self._seen.setdefault((day, headers["X-EXTERNAL-ID"]), message)
        if first != message:
            raise SnapError(409, "00", "Conflict")
