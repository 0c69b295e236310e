"""The stage a run is played on: keys, the gateway's configuration, a database and ports.

:func:`build` writes everything into a fresh state directory and returns the
:class:`Stage`; the processes of the run (wallet, floor, gateway, load) read it back from
the JSON file named by ``CAUSEWAY_BENCH_STAGE``. Nothing here runs at import time.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from gateway.keys import ensure_key_pairs, key_names
from gateway.local import free_port

__all__ = ["ACQUIRER", "STAGE_ENV", "WALLET", "Stage", "build", "load"]

STAGE_ENV = "CAUSEWAY_BENCH_STAGE"
ACQUIRER = "SIAM_ACQ"  # settles in THB
WALLET = "KAKAOPAY"  # charges in KRW, code prefix 281002
_CODE_PREFIX = "281002"
_RATES = Path(__file__).resolve().parent.parent / "config" / "fx.toml"


@dataclass(frozen=True, slots=True)
class Stage:
    run_id: str
    state_dir: str
    admin_dsn: str  # an existing database to CREATE/DROP the run's database from
    database: str
    redis_url: str
    wallet_port: int
    gateway_port: int
    floor_port: int
    guarded_port: int
    payment_codes: tuple[str, ...]
    floor_client: str = "aiohttp"  # or "httpx": what the floor forwards with

    @property
    def keys(self) -> Path:
        return Path(self.state_dir) / "keys"

    @property
    def dsn(self) -> str:
        """The run's database, for asyncpg."""
        return self.admin_dsn.rsplit("/", 1)[0] + "/" + self.database

    @property
    def redis_prefix(self) -> str:
        return f"causeway-bench-{self.run_id}:"

    @property
    def config_file(self) -> Path:
        return Path(self.state_dir) / "causeway.toml"

    def url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}"

    def gateway_environment(self) -> dict[str, str]:
        """What ``gateway.asgi`` reads: the configuration file and the services."""
        return {
            "CAUSEWAY_CONFIG": str(self.config_file),
            "CAUSEWAY_STATE_DIR": self.state_dir,
            "CAUSEWAY_DATABASE_URL": self.dsn.replace("postgresql://", "postgresql+asyncpg://"),
            "CAUSEWAY_REDIS_URL": self.redis_url,
        }

    def save(self) -> Path:
        path = Path(self.state_dir) / "stage.json"
        path.write_text(json.dumps(asdict(self), indent=2))
        return path


def load() -> Stage:
    """The stage of the run this process belongs to."""
    raw = json.loads(Path(os.environ[STAGE_ENV]).read_text())
    raw["payment_codes"] = tuple(raw["payment_codes"])
    return Stage(**raw)


def build(
    state_dir: Path,
    *,
    run_id: str,
    admin_dsn: str,
    redis_url: str,
    floor_client: str = "aiohttp",
    accounts: int = 16,
) -> Stage:
    """Keys, ports and the gateway's configuration for one run, in ``state_dir``."""
    ensure_key_pairs(state_dir / "keys", key_names([ACQUIRER], [WALLET]))
    stage = Stage(
        run_id=run_id,
        state_dir=str(state_dir.resolve()),
        admin_dsn=admin_dsn,
        database=f"causeway_bench_{run_id}",
        redis_url=redis_url,
        wallet_port=free_port(),
        gateway_port=free_port(),
        floor_port=free_port(),
        guarded_port=free_port(),
        payment_codes=tuple(f"{_CODE_PREFIX}{i:012d}" for i in range(1, accounts + 1)),
        floor_client=floor_client,
    )
    stage.config_file.write_text(_config(stage))
    stage.save()
    return stage


def _config(stage: Stage) -> str:
    # One acquirer, one wallet, one route: the pay path without routing choices. The skew
    # window is an hour because payments are signed before the clock starts, minutes
    # before a long run sends the last of them.
    return f"""\
[hub]
private_key_file = "{{state}}/keys/hub.pem"
request_time_skew_seconds = 3600

[storage]
database_url = "set by CAUSEWAY_DATABASE_URL"
redis_prefix = "{stage.redis_prefix}"

[fx]
rates_file = "{_RATES}"
default_spread_bps = 150

[[acquirers]]
client_id = "{ACQUIRER}"
name = "Bench Acquiring"
public_key_file = "{{state}}/keys/acquirer-{ACQUIRER}.pub.pem"
settlement_currency = "THB"
region = "TH"

[[wallets]]
psp_id = "{WALLET}"
name = "KakaoPay"
currency = "KRW"
region = "KR"
method_types = ["{WALLET}"]
code_prefixes = ["{_CODE_PREFIX}"]

[[routes]]
name = "bench-aps"
wallet = "{WALLET}"
kind = "alipayplus"
[routes.settings]
base_url = "{stage.url(stage.wallet_port)}"
client_id = "CAUSEWAY"
psp_id = "{WALLET}"
private_key_file = "{{state}}/keys/hub.pem"
wallet_public_key_file = "{{state}}/keys/wallet-{WALLET}.pub.pem"
"""
