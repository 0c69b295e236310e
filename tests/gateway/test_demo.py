"""``causeway demo`` tells its whole story successfully, on the embedded default."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from rich.console import Console

from gateway.demo import prepare_demo, run_demo

pytestmark = pytest.mark.anyio

CONFIG = Path(__file__).parents[2] / "config" / "causeway.toml"


async def test_the_demo_runs_every_step(tmp_path: Path, state_dir: Path) -> None:
    shutil.copytree(state_dir / "keys", tmp_path / "keys")  # spares generating nine keys
    out = io.StringIO()
    console = Console(file=out, width=100)
    setup = prepare_demo(CONFIG, tmp_path, console)

    ok = await run_demo(setup, console)

    text = out.getvalue()
    assert ok, text
    assert "USER_BALANCE_NOT_ENOUGH" in text
    assert "KRW" in text
    assert "PHP" in text
    assert "Every step ended as expected." in text
    assert (tmp_path / "demo.db").exists()
    assert (tmp_path / "order-qr.png").read_bytes().startswith(b"\x89PNG")
    assert "EMVCo payload 0002010102122" in text.replace("\n", "")
    assert "yes, signed" in text  # the QR payment's merchant notification arrived
