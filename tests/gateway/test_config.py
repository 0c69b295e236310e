from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import Environment, load_settings
from gateway.errors import ConfigError

CONFIG = Path(__file__).parents[2] / "config" / "causeway.toml"


def test_the_default_configuration_loads(state_dir: Path) -> None:
    settings = load_settings(Environment(config=CONFIG, state_dir=state_dir))

    assert {w.psp_id for w in settings.wallets} == {
        "GCASH",
        "KAKAOPAY",
        "TRUEMONEY",
        "TNG",
        "ALIPAYHK",
        "DANA",
    }
    assert settings.storage.database_url.startswith("sqlite+aiosqlite:///")
    assert str(state_dir) in settings.storage.database_url
    assert settings.storage.redis_url is None
    kakao = next(r for r in settings.routes if r.wallet == "KAKAOPAY")
    assert kakao.settings["currencies"] == ["KRW"]
    assert "BEGIN PUBLIC KEY" in kakao.settings["wallet_public_key"]


def test_private_keys_never_reach_a_repr(state_dir: Path) -> None:
    settings = load_settings(Environment(config=CONFIG, state_dir=state_dir))

    text = repr(settings) + str(settings) + repr(settings.routes[0])
    assert "PRIVATE KEY" not in text
    assert "PRIVATE KEY" in settings.hub.private_key.get_secret_value()


def test_the_environment_overrides_the_storage(state_dir: Path) -> None:
    env = Environment(
        config=CONFIG,
        state_dir=state_dir,
        database_url="postgresql+asyncpg://postgres@db/causeway",
        redis_url="redis://cache:6379/0",
    )
    settings = load_settings(env)
    assert settings.storage.database_url == "postgresql+asyncpg://postgres@db/causeway"
    assert settings.storage.redis_url == "redis://cache:6379/0"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "causeway.toml"
    path.write_text(CONFIG.read_text().replace("fx.toml", str(CONFIG.parent / "fx.toml")) + text)
    return path


def test_a_missing_key_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"private_key_file: cannot read .*hub\.pem"):
        load_settings(Environment(config=CONFIG, state_dir=tmp_path / "empty"))


def test_an_invalid_setting_is_named(tmp_path: Path, state_dir: Path) -> None:
    path = _write(
        tmp_path,
        '\n[[wallets]]\npsp_id = "X"\nname = "X"\ncurrency = "EURO"\n'
        'region = "XX"\nmethod_types = []\ncode_prefixes = []\n',
    )
    with pytest.raises(ConfigError, match=r"wallets\.6\.currency: .*'EURO' is not an ISO 4217"):
        load_settings(Environment(config=path, state_dir=state_dir))


def test_a_route_to_an_unknown_wallet_is_named(tmp_path: Path, state_dir: Path) -> None:
    path = _write(
        tmp_path,
        '\n[[routes]]\nname = "ghost"\nwallet = "NOPE"\nkind = "alipayplus"\n[routes.settings]\n',
    )
    with pytest.raises(ConfigError, match="route 'ghost' names unknown wallet 'NOPE'"):
        load_settings(Environment(config=path, state_dir=state_dir))


def test_malformed_toml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[hub\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(Environment(config=path, state_dir=tmp_path))


def test_a_notification_lease_shorter_than_a_delivery_is_refused(
    tmp_path: Path, state_dir: Path
) -> None:
    path = _write(tmp_path, "\n[notifications]\nlease_seconds = 5\n")
    with pytest.raises(ConfigError, match=r"notifications\.lease_seconds must exceed"):
        load_settings(Environment(config=path, state_dir=state_dir))
