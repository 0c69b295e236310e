from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gateway.cli import main

CONFIG = Path(__file__).parents[2] / "config" / "causeway.toml"


def test_keys_creates_only_the_missing_pairs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(CONFIG), "--state-dir", str(tmp_path), "keys"]) == 0
    assert "9 key pairs created" in capsys.readouterr().out
    private = tmp_path / "keys" / "hub.pem"
    assert private.stat().st_mode & 0o077 == 0  # private keys are for their owner only

    assert main(["--config", str(CONFIG), "--state-dir", str(tmp_path), "keys"]) == 0
    assert "0 key pairs created" in capsys.readouterr().out


def test_migrate_builds_the_embedded_ledger(
    tmp_path: Path, state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(state_dir / "keys", tmp_path / "keys")

    assert main(["--config", str(CONFIG), "--state-dir", str(tmp_path), "migrate"]) == 0

    assert (tmp_path / "causeway.db").exists()
    assert "head revision" in capsys.readouterr().out


def test_a_configuration_error_is_one_line_and_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--config", str(CONFIG), "--state-dir", str(tmp_path / "nothing"), "serve"])

    assert code == 2
    error = capsys.readouterr().err
    assert error.startswith("causeway: private_key_file: cannot read")
    assert "Traceback" not in error
