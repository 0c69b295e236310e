"""The chaos run's wallets: one simulator each, of the protocol its route speaks.

Each :class:`StageWallet` is a wallet the hub routes to like any other: a ``[[wallets]]``
entry whose code prefix its travellers' payment codes start with, and a ``[[routes]]``
entry of its protocol (a connector kind). Its simulator runs in the driver's event loop
with its own books. What the run may ask of a simulator beyond paying (random faults, a
traveller scanning an order code) is read off the control calls it serves
(:func:`control_calls`), not off its name.

An M-Pesa or Mojaloop traveller's payment code is their phone number (MSISDN), which is
what those protocols charge. Their wallets cannot cancel: the merchant's cancels of their
payments are played all the same, and must be refused.
"""

from __future__ import annotations

import base64
import secrets
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal, assert_never

from starlette.applications import Starlette
from starlette.routing import Route

from connectors.alipayplus import simulator as alipayplus_sim
from connectors.mojaloop import simulator as mojaloop_sim
from connectors.mpesa import simulator as mpesa_sim
from connectors.snapbi import simulator as snapbi_sim
from connectors.wechatpay import simulator as wechatpay_sim
from fx import Direction, Quoter, StaticRates

__all__ = [
    "RATES",
    "SPREAD_BPS",
    "STAGE_RATES",
    "WALLETS",
    "Kind",
    "StageWallet",
    "Traveller",
    "control_calls",
    "route_settings",
    "stage_simulator",
    "travellers",
    "write_rates",
]

Kind = Literal["alipayplus", "snapbi", "wechatpay", "mpesa", "mojaloop"]

#: The hub's rate table (``config/fx.toml``), which the run's own adds to (``STAGE_RATES``,
#: :func:`write_rates`), and its margin (the gateway's ``[fx]``): the WeChat Pay simulator
#: converts at the very price the hub quotes, so that a charge can be audited to the fen.
RATES = Path(__file__).resolve().parents[2] / "config" / "fx.toml"
#: Mids the stage needs beyond the hub's table: the Mojaloop wallet holds Tanzanian
#: shillings. Static demo data, like the table it adds to.
STAGE_RATES = {"USD/TZS": "2650.00"}
SPREAD_BPS = 150
_MERCHANT_CURRENCY = "THB"  # what the merchant prices in


@dataclass(frozen=True, slots=True)
class StageWallet:
    """One wallet of the run: the connector kind its route speaks, its currency and
    region, and the prefix its travellers' payment codes start with (codes of
    ``code_length`` digits)."""

    psp_id: str
    kind: Kind
    currency: str
    region: str
    prefix: str
    route: str
    code_length: int = 18


WALLETS: tuple[StageWallet, ...] = (
    StageWallet("KAKAOPAY", "alipayplus", "KRW", "KR", "281002", "kakaopay-aps"),
    StageWallet("GCASH", "alipayplus", "PHP", "PH", "281001", "gcash-aps"),
    # A SNAP customer token stands for the payment code; it starts with DANA's prefix.
    StageWallet("DANA", "snapbi", "IDR", "ID", "281006", "dana-snap"),
    # WeChat payment codes are 18 digits starting 10 to 14 (mainland users).
    StageWallet("WECHATPAY", "wechatpay", "CNY", "CN", "134001", "wechatpay-v2"),
    # The phone number is the code: Safaricom's are 2547XXXXXXXX.
    StageWallet("MPESA", "mpesa", "KES", "KE", "2547", "mpesa-daraja", code_length=12),
    # A Tanzanian wallet in a Mojaloop scheme, reached through its SDK scheme adapter.
    StageWallet("TZWALLET", "mojaloop", "TZS", "TZ", "2557", "tzwallet-mojaloop", code_length=12),
)

_RICH = 10**12  # minor units: a traveller who never runs out
_POOR = 1_000
#: WeChat Pay asks for the payer's password above this (fen): about half of the run's
#: WeChat payments answer USERPAYING first and succeed or fail a second later.
_WECHAT_PASSWORD_FREE = 50_000
#: Every this many of a SNAP wallet's travellers approves in the app, a second later.
_SNAP_APPROVER_EVERY = 4
_SLOW_TRAVELLER_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Traveller:
    wallet: str  # its psp id
    customer_id: str
    payment_code: str = field(repr=False)  # a bearer credential
    poor: bool = False


def travellers(per_wallet: int = 8) -> list[Traveller]:
    """Each wallet's travellers: ``per_wallet`` rich ones and one whose balance is tiny
    (every payment of theirs is declined)."""
    found = []
    for wallet in WALLETS:
        digits = wallet.code_length - len(wallet.prefix)
        for i in range(per_wallet + 1):
            poor = i == per_wallet
            code = f"{wallet.prefix}{900 + i:0{digits}d}"
            found.append(Traveller(wallet.psp_id, f"{wallet.psp_id}-{i:03d}", code, poor))
    return found


def write_rates(run_dir: Path) -> Path:
    """The run's rate table (in ``run_dir``): the hub's (:data:`RATES`) and the stage's
    own mids (:data:`STAGE_RATES`), which the hub's gives none of."""
    with RATES.open("rb") as file:
        table = tomllib.load(file)
    rates = table["rates"] | STAGE_RATES
    lines = [f'{key} = "{table[key]}"' for key in ("source", "as_of", "pivot") if key in table]
    lines += ["", "[rates]", *(f'"{pair}" = "{mid}"' for pair, mid in sorted(rates.items()))]
    path = run_dir / "fx.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def control_calls(app: Starlette) -> frozenset[str]:
    """The control calls a simulator serves (``scan`` for ``POST /_sim/scan``, ...): what
    the run can ask of it besides the wallet's own API."""
    return frozenset(
        route.path.removeprefix("/_sim/")
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith("/_sim/")
    )


def _secret(run_dir: Path, wallet: StageWallet, name: str, make: str) -> Path:
    """The file holding one of ``wallet``'s credentials for this run (made once, readable
    by its owner only): the gateway reads it through ``<name>_file``, the simulator here."""
    folder = run_dir / "secrets"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / f"{wallet.route}-{name}"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(make)
    return path


def _snapbi_secrets(run_dir: Path, wallet: StageWallet) -> tuple[Path, Path]:
    return (
        _secret(run_dir, wallet, "client-secret", secrets.token_urlsafe(32)),
        _secret(run_dir, wallet, "access-token", secrets.token_urlsafe(32)),
    )


def _wechatpay_key(run_dir: Path, wallet: StageWallet) -> Path:
    return _secret(run_dir, wallet, "api-key", secrets.token_hex(16))  # 32 letters/digits


def _mpesa_secrets(run_dir: Path, wallet: StageWallet) -> dict[str, Path]:
    """The Daraja app's secret, the paybill's passkey, the reversal operator's credential
    (as Safaricom's certificate would have encrypted it) and a token issued for good."""
    return {
        "consumer_secret": _secret(run_dir, wallet, "consumer-secret", secrets.token_urlsafe(24)),
        "passkey": _secret(run_dir, wallet, "passkey", secrets.token_hex(32)),
        "security_credential": _secret(
            run_dir,
            wallet,
            "security-credential",
            base64.b64encode(secrets.token_bytes(256)).decode(),
        ),
        "access_token": _secret(run_dir, wallet, "access-token", secrets.token_urlsafe(21)),
    }


def _mojaloop_token(run_dir: Path, wallet: StageWallet) -> Path:
    return _secret(run_dir, wallet, "bearer-token", secrets.token_urlsafe(32))


_SNAP_PARTNER, _SNAP_CHANNEL, _SNAP_MERCHANT = "CAUSEWAY-HUB", "95221", "216620000000000001"
_WECHAT_APPID, _WECHAT_MCH_ID = "wx2421b1c4370ec43b", "1900000109"
_MPESA_SHORTCODE, _MPESA_KEY, _MPESA_INITIATOR = "600584", "causeway-chaos", "causeway_api"
#: M-Pesa POSTs a result this long after it is made (to the hub's callback URL).
_MPESA_CALLBACK_SECONDS = 0.5
#: The scheme account collecting for the hub's merchants, which refunds are paid from.
_MOJALOOP_DFSP, _MOJALOOP_PAYEE = "tzwallet", "255700900900"
_MOJALOOP_EXPONENT = 2  # TZS


def route_settings(wallet: StageWallet, run_dir: Path, base_url: str, hub_url: str) -> str:
    """``wallet``'s ``[routes.settings]`` lines for the gateway's configuration (TOML);
    ``hub_url`` is where the gateway serves, for a wallet that calls it back."""
    lines: dict[str, str | int] = {"base_url": base_url}
    match wallet.kind:
        case "alipayplus":
            lines |= {
                "client_id": "CAUSEWAY",
                "psp_id": wallet.psp_id,
                "private_key_file": "{state}/keys/hub.pem",
                "wallet_public_key_file": f"{{state}}/keys/wallet-{wallet.psp_id}.pub.pem",
            }
        case "snapbi":
            secret, token = _snapbi_secrets(run_dir, wallet)
            lines |= {
                "partner_id": _SNAP_PARTNER,
                "client_secret_file": str(secret),
                "access_token_file": str(token),
                "channel_id": _SNAP_CHANNEL,
                "merchant_id": _SNAP_MERCHANT,
            }
        case "wechatpay":
            lines |= {
                "appid": _WECHAT_APPID,
                "mch_id": _WECHAT_MCH_ID,
                "api_key_file": str(_wechatpay_key(run_dir, wallet)),
            }
        case "mpesa":
            lines |= {
                "consumer_key": _MPESA_KEY,
                "shortcode": _MPESA_SHORTCODE,
                "callback_url": f"{hub_url}/wallets/{wallet.route}/notify",
                "initiator_name": _MPESA_INITIATOR,
            }
            lines |= {
                f"{name}_file": str(path) for name, path in _mpesa_secrets(run_dir, wallet).items()
            }
        case "mojaloop":
            lines |= {
                "dfsp_id": _MOJALOOP_DFSP,
                "payee_id_type": "MSISDN",
                "payee_id_value": _MOJALOOP_PAYEE,
                "currency_exponent": _MOJALOOP_EXPONENT,
                "bearer_token_file": str(_mojaloop_token(run_dir, wallet)),
            }
        case unreachable:
            assert_never(unreachable)
    return "".join(f"{key} = {_toml(value)}\n" for key, value in lines.items())


def _toml(value: str | int) -> str:
    # The values here are plain: no quote or backslash to escape.
    return str(value) if isinstance(value, int) else f'"{value}"'


async def _hub_price(rates: Path, currency: str) -> Decimal:
    """What the hub charges a traveller in ``currency`` per unit of the merchant's."""
    quoter = Quoter(
        StaticRates.from_file(rates),
        spreads_bps={},
        default_spread_bps=SPREAD_BPS,
        ttl=timedelta(minutes=10),
    )
    quote = await quoter.quote(_MERCHANT_CURRENCY, currency, Direction.COLLECT)
    return quote.price


async def stage_simulator(
    wallet: StageWallet, state_dir: Path, run_dir: Path, people: list[Traveller], rates: Path
) -> Starlette:
    """``wallet``'s simulator, with its travellers (of ``people``) as its accounts;
    ``rates`` is the hub's rate table, at whose price a converting wallet charges."""
    mine = [t for t in people if t.wallet == wallet.psp_id]
    match wallet.kind:
        case "alipayplus":
            keys = state_dir / "keys"
            return alipayplus_sim.create_simulator(
                alipayplus_sim.SimulatedWallet(
                    psp_id=wallet.psp_id,
                    currency=wallet.currency,
                    client_id=wallet.psp_id,
                    private_key=(keys / f"wallet-{wallet.psp_id}.pem").read_bytes(),
                    hub_public_key=(keys / "hub.pub.pem").read_bytes(),
                    accounts=[
                        alipayplus_sim.SimulatedAccount(
                            t.customer_id, t.payment_code, _balance(t), t.customer_id
                        )
                        for t in mine
                    ],
                )
            )
        case "snapbi":
            secret, token = _snapbi_secrets(run_dir, wallet)
            return snapbi_sim.create_simulator(
                snapbi_sim.SimulatedWallet(
                    partner_id=_SNAP_PARTNER,
                    client_secret=secret.read_text(),
                    access_token=token.read_text(),
                    merchant_id=_SNAP_MERCHANT,
                    currency=wallet.currency,
                    approval_seconds=_SLOW_TRAVELLER_SECONDS,
                    accounts=[
                        snapbi_sim.SimulatedAccount(
                            t.customer_id,
                            t.payment_code,
                            _balance(t),
                            t.customer_id,
                            approves_in_app=not t.poor and n % _SNAP_APPROVER_EVERY == 1,
                        )
                        for n, t in enumerate(mine)
                    ],
                )
            )
        case "wechatpay":
            return wechatpay_sim.create_simulator(
                wechatpay_sim.SimulatedWallet(
                    appid=_WECHAT_APPID,
                    mch_id=_WECHAT_MCH_ID,
                    api_key=_wechatpay_key(run_dir, wallet).read_text(),
                    rates={_MERCHANT_CURRENCY: await _hub_price(rates, wallet.currency)},
                    password_free_limit=_WECHAT_PASSWORD_FREE,
                    password_seconds=_SLOW_TRAVELLER_SECONDS,
                    accounts=[
                        wechatpay_sim.SimulatedAccount(
                            t.customer_id, t.payment_code, _balance(t), t.customer_id
                        )
                        for t in mine
                    ],
                )
            )
        case "mpesa":
            credentials = {
                name: path.read_text() for name, path in _mpesa_secrets(run_dir, wallet).items()
            }
            return mpesa_sim.create_simulator(
                mpesa_sim.SimulatedWallet(
                    shortcode=_MPESA_SHORTCODE,
                    passkey=credentials["passkey"],
                    consumer_key=_MPESA_KEY,
                    consumer_secret=credentials["consumer_secret"],
                    initiator_name=_MPESA_INITIATOR,
                    security_credential=credentials["security_credential"],
                    accounts=[
                        mpesa_sim.SimulatedAccount(t.payment_code, _balance(t), t.customer_id)
                        for t in mine
                    ],
                    single_payment_limit=None,
                    access_token=credentials["access_token"],
                    callback_seconds=_MPESA_CALLBACK_SECONDS,
                )
            )
        case "mojaloop":
            merchants = mojaloop_sim.SimulatedAccount(_MOJALOOP_PAYEE, "Causeway merchants", 0)
            return mojaloop_sim.create_simulator(
                mojaloop_sim.SimulatedWallet(
                    dfsp_id=_MOJALOOP_DFSP,
                    currency=wallet.currency,
                    currency_exponent=_MOJALOOP_EXPONENT,
                    accounts=[
                        *(
                            mojaloop_sim.SimulatedAccount(
                                t.payment_code, t.customer_id, _balance(t)
                            )
                            for t in mine
                        ),
                        merchants,
                    ],
                    bearer_token=_mojaloop_token(run_dir, wallet).read_text(),
                )
            )
        case unreachable:
            assert_never(unreachable)


def _balance(traveller: Traveller) -> int:
    return _POOR if traveller.poor else _RICH
