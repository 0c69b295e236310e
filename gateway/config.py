"""Typed configuration: one TOML file (``config/causeway.toml``) plus the environment.

Loaded once at start-up by :func:`load_settings`. Paths in ``*_file`` settings are relative
to the configuration file's folder, and ``{state}`` in them stands for the state directory
(keys, the embedded database). Keys are read into ``SecretStr`` and never reach a log line
or a ``repr``.

The environment overrides what differs between machines: ``CAUSEWAY_CONFIG``,
``CAUSEWAY_STATE_DIR``, ``CAUSEWAY_DATABASE_URL`` and ``CAUSEWAY_REDIS_URL``.
"""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fx import is_currency
from gateway.errors import ConfigError

__all__ = [
    "PAYMENTS_IN_FLIGHT",
    "AcquirerConfig",
    "Environment",
    "FXConfig",
    "HubConfig",
    "NotificationsConfig",
    "ParticipantTerms",
    "RouteConfig",
    "ServerConfig",
    "Settings",
    "SettlementCompany",
    "SettlementConfig",
    "StorageConfig",
    "WalletConfig",
    "load_settings",
    "zone_of",
]

DEFAULT_CONFIG = Path("config/causeway.toml")

#: Pays one process takes at once by default (``[hub] payments_in_flight``). A pay holds a
#: ledger connection only for its statements, not across the wallet call, so a few times the
#: pool (16) keeps it busy; more in flight would only queue for it, and for the CPU.
PAYMENTS_IN_FLIGHT = 64


class Environment(BaseSettings):
    """What the environment may override."""

    model_config = SettingsConfigDict(env_prefix="CAUSEWAY_")

    config: Path = DEFAULT_CONFIG
    state_dir: Path = Path(".causeway")
    database_url: str | None = None
    redis_url: str | None = None


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _currency(value: str) -> str:
    if not is_currency(value):
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return value


class HubConfig(_Section):
    """Causeway's own key (its answers to acquirers are signed with it) and its limits."""

    private_key: SecretStr
    key_version: str = "1"
    request_time_skew_seconds: int = Field(300, gt=0)
    wallet_timeout_seconds: float = Field(10.0, gt=0)
    order_ttl_seconds: int = Field(900, gt=0)
    #: A payment still unresolved this long after it was made is cancelled at the wallet.
    recovery_deadline_seconds: int = Field(300, gt=0)
    #: How long after a request was sent a wallet may still act on it; unset: thirty
    #: wallet timeouts, a minute at least (``gateway.engine.LATE_ARRIVAL_CALL_DEADLINES``).
    #: A wallet's "no such payment" or "no such refund" counts only after this.
    late_arrival_seconds: float | None = Field(None, gt=0)
    lock_ttl_seconds: float = Field(30.0, gt=0)
    lock_wait_seconds: float = Field(10.0, ge=0)
    #: Pays one process takes at once; one more is answered ``REQUEST_TRAFFIC_EXCEED_LIMIT``
    #: at once, before anything is stored or sent.
    payments_in_flight: int = Field(PAYMENTS_IN_FLIGHT, gt=0)


class ServerConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)


class NotificationsConfig(_Section):
    """How merchant notifications are retried (the default schedule is 16 attempts over
    about 18 hours; see :data:`gateway.notifications.SCHEDULE`)."""

    poll_seconds: float = Field(1.0, gt=0)
    schedule_seconds: list[float] | None = None
    #: How long a claimed notification is this instance's to send. One claimed by an
    #: instance that then died is sent by another after this long.
    lease_seconds: float = Field(60.0, gt=0)


class StorageConfig(_Section):
    """The ledger's database, and Redis for what instances share (empty: in-process)."""

    database_url: str
    redis_url: str | None = None
    redis_prefix: str = "causeway:"


class FXConfig(_Section):
    rates_file: Path
    default_spread_bps: int = Field(100, ge=0, lt=10_000)
    spreads_bps: dict[str, int] = Field(default_factory=dict)
    quote_ttl_seconds: int = Field(600, gt=0)


class AcquirerConfig(_Section):
    """A merchant's acquirer (ACQP) allowed to call the acquiring API."""

    client_id: str
    name: str
    public_key: str
    settlement_currency: str
    region: str

    _check_currency = field_validator("settlement_currency")(_currency)


class WalletConfig(_Section):
    """A home wallet (MPP) travellers pay with."""

    psp_id: str
    name: str
    currency: str
    region: str
    method_types: list[str]
    code_prefixes: list[str]

    _check_currency = field_validator("currency")(_currency)


class RouteConfig(_Section):
    """One way to reach a wallet: a connector kind and its settings."""

    name: str
    wallet: str
    kind: str
    priority: int = 1
    settings: dict[str, Any] = Field(repr=False)


class ParticipantTerms(_Section):
    """One acquirer's or wallet's settlement terms; what is left out takes the defaults.

    ``interchange_bps`` is what a wallet receives from the acquirer on each transaction
    (meaningless for an acquirer); ``service_fee_bps`` is what the participant pays the hub.
    """

    id: str
    interchange_bps: int | None = Field(None, ge=0, lt=10_000)
    service_fee_bps: int | None = Field(None, ge=0, lt=10_000)
    cycle_days: int | None = Field(None, ge=0, le=30)


class SettlementCompany(_Section):
    """A company that is several participants at once (an acquirer and a wallet, say): it
    makes or receives one transfer per currency for all of them."""

    id: str
    members: list[str]


def _zone(value: str) -> str:
    zone_of(value)
    return value


def zone_of(name: str) -> tzinfo:
    """``"+08:00"`` → a fixed offset; anything else is an IANA zone name."""
    if name[:1] in "+-" and len(name) == 6 and name[3] == ":":
        sign = -1 if name[0] == "-" else 1
        try:
            delta = timedelta(hours=int(name[1:3]), minutes=int(name[4:6]))
        except ValueError:
            raise ValueError(f"{name!r} is not a UTC offset like +08:00") from None
        return timezone(sign * delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is neither a UTC offset like +08:00 nor a zone name") from None


def _country(value: str) -> str:
    import holidays

    if value not in holidays.list_supported_countries():
        raise ValueError(f"{value!r} is not a country the holidays library knows")
    return value


class SettlementConfig(_Section):
    """Clearing and settlement: batches are calendar days in ``zone`` (Alipay+ clears in
    UTC+8); value dates are ``cycle_days`` working days later on ``calendar``'s holidays."""

    zone: str = "+08:00"
    cycle_days: int = Field(2, ge=0, le=30)
    calendar: str = "SG"
    interchange_bps: int = Field(0, ge=0, lt=10_000)
    service_fee_bps: int = Field(0, ge=0, lt=10_000)
    participants: list[ParticipantTerms] = Field(default_factory=list)
    companies: list[SettlementCompany] = Field(default_factory=list)
    output_dir: Path | None = None  # default: <state>/settlement

    _check_zone = field_validator("zone")(_zone)
    _check_calendar = field_validator("calendar")(_country)

    @property
    def tz(self) -> tzinfo:
        return zone_of(self.zone)

    def terms(self, participant: str) -> ParticipantTerms:
        for terms in self.participants:
            if terms.id == participant:
                return terms
        return ParticipantTerms(id=participant)

    def company(self, participant: str) -> str:
        """The company that settles for ``participant`` (itself unless configured)."""
        for company in self.companies:
            if participant in company.members:
                return company.id
        return participant

    def zone_label(self, moment: datetime) -> str:
        offset = self.tz.utcoffset(moment) or timedelta()
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class Settings(_Section):
    """Everything the gateway needs to start."""

    hub: HubConfig
    server: ServerConfig = ServerConfig()
    notifications: NotificationsConfig = NotificationsConfig()
    storage: StorageConfig
    fx: FXConfig
    acquirers: list[AcquirerConfig]
    wallets: list[WalletConfig]
    routes: list[RouteConfig]
    settlement: SettlementConfig = SettlementConfig()
    state_dir: Path


def _is_secret(name: str) -> bool:
    return "private" in name or "secret" in name


def _resolve_files(table: dict[str, Any], base: Path, state: Path) -> dict[str, Any]:
    """Replace every ``name_file = "path"`` with ``name = <file contents>``."""
    resolved: dict[str, Any] = {}
    for key, value in table.items():
        if key.endswith("_file") and isinstance(value, str) and key != "rates_file":
            path = base / value.replace("{state}", str(state))
            try:
                text = path.read_text()
            except OSError as exc:
                raise ConfigError(f"{key}: cannot read {path}: {exc.strerror}") from exc
            name = key.removesuffix("_file")
            # Private keys stay wrapped all the way to the code that signs with them.
            resolved[name] = SecretStr(text) if _is_secret(name) else text
        elif isinstance(value, dict):
            resolved[key] = _resolve_files(value, base, state)
        elif isinstance(value, list):
            resolved[key] = [
                _resolve_files(item, base, state) if isinstance(item, dict) else item
                for item in value
            ]
        else:
            resolved[key] = value
    return resolved


def load_settings(environment: Environment | None = None) -> Settings:
    """Read the configuration file named by the environment; raise :class:`ConfigError`
    naming the setting that is wrong."""
    env = environment or Environment()
    path = env.config
    try:
        raw = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read the configuration {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    base = path.parent
    state = env.state_dir if env.state_dir.is_absolute() else Path.cwd() / env.state_dir
    data = _resolve_files(raw, base, state)
    storage = dict(data.get("storage", {}))
    storage["database_url"] = env.database_url or str(storage.get("database_url", "")).replace(
        "{state}", str(state)
    )
    if env.redis_url is not None:
        storage["redis_url"] = env.redis_url
    storage["redis_url"] = storage.get("redis_url") or None
    data["storage"] = storage
    if "fx" in data and "rates_file" in data["fx"]:
        data["fx"] = {**data["fx"], "rates_file": base / data["fx"]["rates_file"]}
    wallets = {w.get("psp_id"): w for w in data.get("wallets", [])}
    for route in data.get("routes", []):
        wallet = wallets.get(route.get("wallet"), {})
        route_settings = route.setdefault("settings", {})
        route_settings.setdefault("currencies", [wallet.get("currency")])
        route_settings.setdefault("regions", [wallet.get("region")])
    data["state_dir"] = state
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']}") from exc
    _check_references(settings)
    return settings


def _check_references(settings: Settings) -> None:
    hub = settings.hub
    # A lock must outlive the longest wallet call made under it (a pay, then at most one
    # cancel), or a second request could act on the same payment meanwhile.
    if hub.lock_ttl_seconds <= 2 * hub.wallet_timeout_seconds + 5:
        raise ConfigError(
            "hub.lock_ttl_seconds must exceed twice hub.wallet_timeout_seconds plus 5 s"
        )
    # A delivery must end (it is cut off at the wallets' timeout) before its lease does,
    # or another instance could send the same notification at the same time.
    if settings.notifications.lease_seconds <= hub.wallet_timeout_seconds:
        raise ConfigError(
            "notifications.lease_seconds must exceed hub.wallet_timeout_seconds, "
            "the longest a delivery takes"
        )
    psp_ids = {wallet.psp_id for wallet in settings.wallets}
    for route in settings.routes:
        if route.wallet not in psp_ids:
            raise ConfigError(f"route {route.name!r} names unknown wallet {route.wallet!r}")
    names = [route.name for route in settings.routes]
    if len(names) != len(set(names)):
        raise ConfigError("route names must be unique")
    clients = [acquirer.client_id for acquirer in settings.acquirers]
    if len(clients) != len(set(clients)):
        raise ConfigError("acquirer client ids must be unique")
    known = set(clients) | psp_ids
    settlement = settings.settlement
    for terms in settlement.participants:
        if terms.id not in known:
            raise ConfigError(f"settlement.participants: unknown participant {terms.id!r}")
    seen: set[str] = set()
    for company in settlement.companies:
        for member in company.members:
            if member not in known:
                raise ConfigError(f"settlement.companies: {company.id!r} names {member!r}")
            if member in seen:
                raise ConfigError(f"settlement.companies: {member!r} is in two companies")
            seen.add(member)
