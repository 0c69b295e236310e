"""The wallet simulator the run pays into, as a uvicorn factory (``bench.wallet:app``).

It is the bundled Alipay+ simulator with accounts rich enough that no payment of the run
is declined for balance or limits: every decline the report shows is the gateway's.
"""

from __future__ import annotations

from starlette.applications import Starlette

from bench import stage as stages
from connectors.alipayplus.simulator import SimulatedAccount, SimulatedWallet, create_simulator

__all__ = ["app"]

#: Enough for any run: 10^15 won per account.
RICH = 10**15


def app() -> Starlette:
    stage = stages.load()
    wallet = SimulatedWallet(
        psp_id=stages.WALLET,
        currency="KRW",
        client_id=stages.WALLET,
        private_key=(stage.keys / f"wallet-{stages.WALLET}.pem").read_bytes(),
        hub_public_key=(stage.keys / "hub.pub.pem").read_bytes(),
        accounts=[
            SimulatedAccount(f"BENCH-{i:03d}", code, RICH, f"Traveller {i}")
            for i, code in enumerate(stage.payment_codes, 1)
        ],
        single_payment_limit=None,
    )
    return create_simulator(wallet)
