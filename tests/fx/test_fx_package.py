"""The package surface: ``fx.__all__``, the error tree, and what fx may import."""

from __future__ import annotations
import __future__

import ast
import types
from pathlib import Path

import pytest

import fx
from fx import CurrencyMismatch, FXError, RateUnavailable, UnknownCurrency

FX_SOURCE = Path(fx.__file__).parent


def isort_key(name: str) -> tuple[int, str]:
    # The order ruff (RUF022) keeps __all__ in: CONSTANTS, then Classes, then functions.
    if name.isupper():
        return 0, name
    return (1 if name[0].isupper() else 2), name


def test_all_is_sorted() -> None:
    assert fx.__all__ == sorted(fx.__all__, key=isort_key)


def test_all_is_complete() -> None:
    public = {
        name
        for name, value in vars(fx).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType | __future__._Feature)
    }
    assert set(fx.__all__) == public


def test_all_names_resolve() -> None:
    assert all(hasattr(fx, name) for name in fx.__all__)


def test_fx_imports_nothing_else_of_causeway() -> None:
    forbidden = {"gateway", "connectors", "routing"}
    imported: set[str] = set()
    for path in FX_SOURCE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
    assert "fx" in imported
    assert not imported & forbidden


@pytest.mark.parametrize("error", [UnknownCurrency, RateUnavailable, CurrencyMismatch])
def test_every_error_is_an_fx_error_and_a_value_error(error: type[Exception]) -> None:
    assert issubclass(error, FXError)
    assert issubclass(error, ValueError)


def test_errors_carry_their_context() -> None:
    unknown = UnknownCurrency("ABC")
    assert unknown.currency == "ABC"
    assert "'ABC'" in str(unknown)
    unavailable = RateUnavailable("KRW", "KES", "no route")
    assert (unavailable.base, unavailable.quote) == ("KRW", "KES")
    assert str(unavailable) == "no rate available for KRW/KES: no route"
    mismatch = CurrencyMismatch("USD", "EUR")
    assert (mismatch.left, mismatch.right) == ("USD", "EUR")
    assert "USD" in str(mismatch)
    assert "EUR" in str(mismatch)
