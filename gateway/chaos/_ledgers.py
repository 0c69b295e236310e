"""Each wallet's own ledger (``GET /_sim/ledger``) in the hub's ids, as the audit reads it.

The Alipay+, SNAP BI and WeChat Pay simulators write the hub's ids as they were sent, under
their protocol's names, which :meth:`gateway.audit.WalletEntry.from_json` reads. Two
protocols never carry an id of ours as it is:

- M-Pesa knows a push by its ``AccountReference``, twelve characters of a digest of the
  hub's ``wallet_request_id`` (the connector's ``account_reference``), and a reversal by
  its ``Occasion``, the hub's refund id;
- Mojaloop knows a transfer by its ``homeTransactionId`` (the hub's ``wallet_request_id``,
  or its refund id), and a refund names its payment by the payment's ``transferId``.

:func:`in_hub_ids` adds the hub's ids to each of their entries, under the names the audit
reads (``payment_request_id``, ``refund_request_id``), beside what the wallet wrote. An
entry naming no payment of the gateway keeps the wallet's own name for it, for the audit
to report as stray money.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, assert_never

# The digest M-Pesa is sent in place of our id: the auditor must compute the very same,
# and the connector's own function is the one definition of it.
from connectors.mpesa._translate import account_reference
from gateway.chaos._wallets import Kind

__all__ = ["in_hub_ids"]


def in_hub_ids(
    kind: Kind, ledger: Iterable[Mapping[str, Any]], wallet_keys: Iterable[str]
) -> list[dict[str, Any]]:
    """The entries of a ``kind`` wallet's ledger, each with the hub's ids added where the
    wallet names them its own way; ``wallet_keys`` are the hub's ``wallet_request_id``
    of every payment it knows."""
    entries = [dict(entry) for entry in ledger]
    match kind:
        case "alipayplus" | "snapbi" | "wechatpay":
            return entries
        case "mpesa":
            by_reference = {account_reference(key): key for key in wallet_keys}
            return [
                entry
                | {
                    "payment_request_id": by_reference.get(
                        entry["account_reference"], entry["account_reference"]
                    ),
                    "refund_request_id": entry.get("occasion"),
                }
                for entry in entries
            ]
        case "mojaloop":
            paid = {
                e["transfer_id"]: e["home_transaction_id"] for e in entries if e["kind"] == "pay"
            }
            return [
                entry
                | (
                    {"payment_request_id": entry["home_transaction_id"], "refund_request_id": None}
                    if entry["kind"] == "pay"
                    else {
                        "payment_request_id": paid.get(
                            entry["original_transfer_id"], entry["original_transfer_id"]
                        ),
                        "refund_request_id": entry["home_transaction_id"],
                    }
                )
                for entry in entries
            ]
        case unreachable:
            assert_never(unreachable)
