"""Which wallet a payment is for: the wallet directory and the payment-code prefix table."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["CodeTable", "Wallet"]


@dataclass(frozen=True, slots=True)
class Wallet:
    """A home wallet travellers pay with.

    ``method_types`` are the ``paymentMethod.paymentMethodType`` values that name it
    (``"GCASH"``); ``code_prefixes`` the leading digits of the payment codes it issues.
    """

    psp_id: str
    name: str
    currency: str
    region: str
    method_types: frozenset[str]
    code_prefixes: tuple[str, ...]


class CodeTable:
    """Identifies a wallet from a payment code by its longest matching prefix.

    >>> gcash = Wallet("GCASH", "GCash", "PHP", "PH", frozenset({"GCASH"}), ("2816",))
    >>> CodeTable([gcash]).identify("281612345678901234") is gcash
    True
    """

    def __init__(self, wallets: Iterable[Wallet]) -> None:
        entries: dict[str, Wallet] = {}
        for wallet in wallets:
            for prefix in wallet.code_prefixes:
                if not prefix.isdigit():
                    raise ValueError(
                        f"wallet {wallet.psp_id}: code prefix {prefix!r} is not digits"
                    )
                other = entries.get(prefix)
                if other is not None and other is not wallet:
                    raise ValueError(
                        f"code prefix {prefix!r} is claimed by both "
                        f"{other.psp_id} and {wallet.psp_id}"
                    )
                entries[prefix] = wallet
        # Longest first, so "28161" wins over "2816".
        self._entries = sorted(entries.items(), key=lambda item: -len(item[0]))

    def identify(self, code: str) -> Wallet | None:
        for prefix, wallet in self._entries:
            if code.startswith(prefix):
                return wallet
        return None
