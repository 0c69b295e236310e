"""Each package's ``__all__`` is complete and sorted (the SDK is ``connectors.__all__``)."""

from __future__ import annotations

import importlib

import pytest


def _isort_key(name: str) -> tuple[int, str]:
    # The order ruff keeps __all__ in: CONSTANTS, then Classes, then functions.
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


@pytest.mark.parametrize("name", ["connectors", "fx", "routing"])
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)

    assert exported == sorted(exported, key=_isort_key)
    public = {
        member
        for member, value in vars(module).items()
        if not member.startswith("_") and getattr(value, "__module__", "").startswith(name)
    }
    assert public <= set(exported)
    for member in exported:
        assert hasattr(module, member), member
