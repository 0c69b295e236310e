from __future__ import annotations

import pytest

from routing import CodeTable, Wallet


def _wallet(psp_id: str, *prefixes: str) -> Wallet:
    return Wallet(psp_id, psp_id.title(), "PHP", "PH", frozenset({psp_id}), prefixes)


def test_the_longest_prefix_wins() -> None:
    short, long = _wallet("SHORT", "2810"), _wallet("LONG", "28101")
    table = CodeTable([short, long])

    assert table.identify("281012345") is long
    assert table.identify("281022345") is short
    assert table.identify("991012345") is None


def test_a_prefix_claimed_twice_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="claimed by both A and B"):
        CodeTable([_wallet("A", "2810"), _wallet("B", "2810")])


def test_a_prefix_must_be_digits() -> None:
    with pytest.raises(ValueError, match="not digits"):
        CodeTable([_wallet("A", "28x")])
