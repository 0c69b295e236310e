"""The Alipay+ connector's public modules: ``__all__`` sorted and naming all they define.

The SDK facade ``connectors`` itself is covered by ``tests/test_exported_members.py``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest


def defined_here(module: ModuleType) -> set[str]:
    """Public names whose object is defined in ``module`` itself (not imported into it)."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, ModuleType)
        and getattr(value, "__module__", None) == module.__name__
    }


@pytest.mark.parametrize("name", ["connectors.alipayplus", "connectors.alipayplus.simulator"])
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    exported: list[str] = module.__all__
    assert exported == sorted(exported)
    assert all(hasattr(module, member) for member in exported)
    assert defined_here(module) == set(exported)
