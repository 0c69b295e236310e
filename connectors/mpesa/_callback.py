"""Callback URLs that say which operation they are about, and prove the hub made them.

Daraja signs no callback, and an STK callback names its push only by the
``CheckoutRequestID`` the push's answer gave: when that answer is lost, the hub cannot tell
which payment the callback is about, nor ask M-Pesa about it. Each request chooses its own
``CallBackURL`` (and a reversal its ``ResultURL``), though, so the connector puts our id
for the operation on the URL (``ref``) with an HMAC-SHA256 of it (``sig``), under a key
only the hub holds. A callback to that URL names its operation by our id, and one whose
``sig`` does not match did not come from a request of ours: it is refused.

The signature covers the URL, not the body: whoever holds a URL (M-Pesa, and anything
that reads the hub's access logs) can send another body to it. The hub confirms a
payment's result with a query before it records it, and the URL only ever names the one
operation it was made for.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

import httpx

__all__ = ["REF", "SIG", "Kind", "callback_key", "signed_url", "verified_ref"]

#: What a callback is about: a push (``CallBackURL``) or a reversal (``ResultURL``).
Kind = Literal["pay", "refund"]

#: The query parameters the connector adds to the configured ``callback_url``.
REF, SIG = "ref", "sig"

_SIG_HEX = 32  # 128 bits of the HMAC: enough to be unguessable, short enough for a URL


def callback_key(secret: str) -> bytes:
    """The key callback URLs are signed with, derived from ``secret`` so that it serves
    this purpose only."""
    return hmac.new(secret.encode(), b"causeway M-Pesa callback URL", hashlib.sha256).digest()


def _sig(key: bytes, kind: Kind, ref: str) -> str:
    return hmac.new(key, f"{kind}\n{ref}".encode(), hashlib.sha256).hexdigest()[:_SIG_HEX]


def signed_url(base: str, key: bytes, kind: Kind, ref: str) -> str:
    """``base`` with ``ref`` and its signature added to its query."""
    return str(httpx.URL(base).copy_merge_params({REF: ref, SIG: _sig(key, kind, ref)}))


def verified_ref(url: httpx.URL, key: bytes, kind: Kind) -> str | None:
    """The ``ref`` a callback's URL names, if its ``sig`` is ours for a ``kind`` callback;
    ``None`` if it is not (missing, altered, or made for the other kind)."""
    ref, sig = url.params.get(REF), url.params.get(SIG)
    # As bytes: compare_digest refuses str with non-ASCII characters, which a forger may send.
    if not ref or not sig or not hmac.compare_digest(sig.encode(), _sig(key, kind, ref).encode()):
        return None
    return str(ref)
