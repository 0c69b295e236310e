"""The README's result-code table and the ResultCode enum say the same thing."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.results import ResultCode, ResultStatus

README = Path(__file__).parents[2] / "README.md"


def _documented() -> dict[str, str]:
    text = README.read_text()
    section = text.split("### Result codes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z_]+)` \| ([SFU]) \|", section, flags=re.MULTILINE)
    return dict(rows)


def test_every_result_code_is_documented_with_its_status() -> None:
    assert _documented() == {code.name: code.status.value for code in ResultCode}


def test_a_wallet_code_maps_to_a_failure() -> None:
    assert ResultCode.from_wallet("USER_BALANCE_NOT_ENOUGH") is ResultCode.USER_BALANCE_NOT_ENOUGH
    assert ResultCode.from_wallet("SOMETHING_NEW") is ResultCode.PROCESS_FAIL
    # A wallet cannot turn its decline into a success or an unknown by its choice of words.
    assert ResultCode.from_wallet("SUCCESS") is ResultCode.PROCESS_FAIL
    assert ResultCode.from_wallet("PAYMENT_IN_PROCESS").status is ResultStatus.FAILURE
