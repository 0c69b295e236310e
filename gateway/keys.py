"""Key files for a local hub: the hub's, each acquirer's and each simulated wallet's.

Written at first use into the state directory (never into the repository), private keys
with mode 0600. Production keys are made and exchanged out of band; this is for the demo,
the tests and trying the gateway on one machine.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from connectors import generate_rsa_key_pair

__all__ = ["ensure_key_pairs", "key_names"]


def key_names(acquirers: Iterable[str], wallets: Iterable[str]) -> list[str]:
    """The key pairs a local hub needs, by file stem."""
    return ["hub", *(f"acquirer-{a}" for a in acquirers), *(f"wallet-{w}" for w in wallets)]


def ensure_key_pairs(folder: Path, names: Iterable[str]) -> list[str]:
    """Create ``<name>.pem`` and ``<name>.pub.pem`` for each name that lacks them.

    Returns the names created.
    """
    folder.mkdir(parents=True, exist_ok=True)
    created: list[str] = []
    for name in names:
        private_path, public_path = folder / f"{name}.pem", folder / f"{name}.pub.pem"
        if private_path.exists() and public_path.exists():
            continue
        private, public = generate_rsa_key_pair()
        descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(private)
        public_path.write_bytes(public)
        created.append(name)
    return created
