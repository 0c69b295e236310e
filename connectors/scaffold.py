"""The skeleton of a third-party connector package (``causeway connector new NAME``).

It writes ``causeway-connector-NAME/`` with the entry-point line, a connector whose every
``build_*`` and ``parse_*`` raises :class:`NotImplementedError` saying what to write, a
simulator that already answers the kit's control API, and a test module running the
conformance kit, which fails until the connector and the simulator are written::

    causeway-connector-gopay/
        pyproject.toml                 entry point: gopay = "gopay_connector:GopayConnector"
        README.md
        src/gopay_connector/__init__.py
        src/gopay_connector/simulator.py
        src/gopay_connector/py.typed
        tests/test_gopay.py
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path
from string import Template

__all__ = ["write_connector_package"]

_NAME = re.compile(r"[a-z][a-z0-9_]*")

_PYPROJECT = Template("""\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "causeway-connector-$name"
version = "0.1.0"
description = "A Causeway connector for $name"
requires-python = ">=3.11"
dependencies = ["causeway"]

# The one line that registers the connector: a Causeway route names it as kind = "$name".
[project.entry-points."causeway.connectors"]
$name = "$package:$cls"

[tool.setuptools.package-data]
$package = ["py.typed"]

[tool.pytest.ini_options]
# So that the tests run before the package is installed (installing it is what registers
# the entry point with Causeway).
pythonpath = ["src"]
addopts = "--strict-markers"
filterwarnings = ["error"]

[tool.ruff]
line-length = 100
src = ["src"]
""")

_README = Template("""\
# causeway-connector-$name

A Causeway connector for $name, made by `causeway connector new $name`.

1. Write the wallet's protocol in `src/$package/__init__.py`: each `build_*` method builds
   one `httpx.Request`, each `parse_*` turns the wallet's answer into a result.
2. Make `src/$package/simulator.py` answer the wallet's API as the wallet does.
3. `pytest` runs Causeway's conformance kit against the simulator: every scenario fails
   until 1 and 2 are done.
4. `pip install -e .`, then name the connector in a route of Causeway's configuration:

   ```toml
   [[routes]]
   name = "$name-main"
   wallet = "..."
   kind = "$name"
   settings = { base_url = "https://...", api_key = "...", currencies = ["USD"], regions = ["US"] }
   ```

Causeway's `docs/connectors.md` explains the contract, the canonical models and the kit.
""")

_CONNECTOR = Template('''\
"""A Causeway connector for $name.

Describe the wallet's protocol here: its endpoints, how requests are authenticated, and
its statuses. Settings (one route's table in Causeway's configuration)::

    base_url    "https://api.$name.example"
    api_key     "..."                        secret (or api_key_file: read into a SecretStr)
    currencies  ["USD"]                      what the wallet charges in (ISO 4217)
    regions     ["US"]                       where its users are (ISO 3166)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from connectors import (
    CancelRequest,
    CancelResult,
    Capabilities,
    InquireRequest,
    Operation,
    PaymentResult,
    PayRequest,
    RefundRequest,
    RefundResult,
    SettingsModel,
    load_settings,
)
from pydantic import SecretStr

__all__ = ["$cls"]


def _todo(method: str, what: str) -> NotImplementedError:
    return NotImplementedError(
        f"$cls.{method} is not written yet: {what} "
        "(see docs/connectors.md in Causeway, 'Writing a connector')"
    )


class _Settings(SettingsModel):
    # base_url, currencies and regions, validated, come from SettingsModel; add the
    # wallet's own settings (and their validators) here.
    api_key: SecretStr


class $cls:
    """A :class:`connectors.Connector` for $name; also its own factory."""

    name: str
    capabilities: Capabilities

    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        self.name = name
        # Bad settings raise ConnectorConfigError naming the setting, never its value.
        config = load_settings(_Settings, name, settings)
        self._base_url = httpx.URL(config.base_url)
        self._api_key = config.api_key  # a SecretStr: unwrap it only to fill a header
        # Declare what the wallet can do: the operations its protocol has, the currencies
        # it charges in and the regions of its users.
        self.capabilities = Capabilities(
            operations=frozenset(Operation),
            currencies=frozenset(config.currencies),
            regions=frozenset(config.regions),
        )

    def __repr__(self) -> str:
        # Never the key: reprs end up in logs.
        return f"$cls(name={self.name!r}, base_url={str(self._base_url)!r})"

    def build_pay(self, request: PayRequest) -> httpx.Request:
        raise _todo(
            "build_pay",
            "build the request charging request.payment_code request.pay_to_amount, "
            "keyed by request.wallet_request_id",
        )

    def parse_pay(self, request: PayRequest, response: httpx.Response) -> PaymentResult:
        raise _todo(
            "parse_pay",
            "map the wallet's answer to PaymentResult.succeeded / declined / pending "
            "(an unknown status is pending)",
        )

    def build_inquire(self, request: InquireRequest) -> httpx.Request:
        raise _todo("build_inquire", "build the request asking for the payment's state")

    def parse_inquire(self, request: InquireRequest, response: httpx.Response) -> PaymentResult:
        raise _todo(
            "parse_inquire",
            "map the answer like parse_pay; a payment the wallet does not know is "
            "PaymentResult.declined('ORDER_NOT_EXIST', ...)",
        )

    def build_cancel(self, request: CancelRequest) -> httpx.Request:
        raise _todo(
            "build_cancel",
            "build the request cancelling (and reversing) the payment, or raise "
            "OperationNotSupported and leave CANCEL out of the capabilities",
        )

    def parse_cancel(self, request: CancelRequest, response: httpx.Response) -> CancelResult:
        raise _todo("parse_cancel", "map the answer to CancelResult.succeeded / declined / pending")

    def build_refund(self, request: RefundRequest) -> httpx.Request:
        raise _todo(
            "build_refund",
            "build the request giving back request.refund_from_amount, keyed by "
            "request.refund_request_id",
        )

    def parse_refund(self, request: RefundRequest, response: httpx.Response) -> RefundResult:
        raise _todo("parse_refund", "map the answer to RefundResult.succeeded / declined / pending")
''')

_SIMULATOR = Template('''\
"""A simulated $name wallet, for Causeway's conformance kit and for your own tests.

It already answers the control API every Causeway simulator has (``/_sim/stats``,
``/_sim/ledger``, ``/_sim/faults``; see ``connectors.conformance``), from
:func:`connectors.simulation.control_routes`. Add the wallet's own API to
:func:`create_simulator`: keep balances in :class:`SimulatedWallet`, deduplicate by the
request ids the connector sends, count every pay request in ``pay_requests`` and every
charge in ``charges``, append each movement of money to ``ledger`` as
``{"kind": "pay" | "reverse" | "refund", ...}``, ``await wallet.faults.delay()`` after
writing the books, and answer an undefined status while ``wallet.faults.unknown_status``
is set. If the wallet calls the hub back, also record each callback it would send and
answer ``GET /_sim/callbacks`` with them (pass it in ``views``; the shape is in
``connectors.conformance``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from secrets import token_hex
from typing import Any

from connectors.conformance import ConformanceTarget
from connectors.simulation import Faults, control_routes
from starlette.applications import Starlette

from $package import $cls

__all__ = ["SimulatedWallet", "conformance_target", "create_simulator"]


@dataclass
class SimulatedWallet:
    """The wallet's state: ``balances`` by payer, in minor units of ``currency``."""

    api_key: str = field(repr=False)
    currency: str
    balances: dict[str, int]
    ledger: list[dict[str, Any]] = field(default_factory=list)
    pay_requests: int = 0
    charges: int = 0
    faults: Faults = field(default_factory=Faults)


def create_simulator(wallet: SimulatedWallet) -> Starlette:
    """The wallet's API (still to be written) and the control API, over ``wallet``."""
    return Starlette(
        routes=[
            # The wallet's own routes go here.
            *control_routes(
                wallet.faults,
                stats=lambda: {"pay_requests": wallet.pay_requests, "charges": wallet.charges},
                ledger=lambda: wallet.ledger,
            ),
        ]
    )


def conformance_target() -> ConformanceTarget:
    """A fresh simulated wallet and the connector for it, for Causeway's conformance kit."""
    api_key = f"test_{token_hex(16)}"
    wallet = SimulatedWallet(
        api_key=api_key, currency="USD", balances={"PAYER-RICH": 1_000_000, "PAYER-POOR": 100}
    )
    settings = {"api_key": api_key, "currencies": ["USD"], "regions": ["US"]}
    return ConformanceTarget(
        name="$name",
        connect=lambda url: $cls("$name", settings | {"base_url": url}),
        simulator=create_simulator(wallet),
        wallet_currency="USD",
        payment_currency="EUR",
        payer="PAYER-RICH",
        poor_payer="PAYER-POOR",
        unknown_payer="PAYER-NOBODY",
        pay_to_amount=1_000,
        payment_amount=920,
        secrets=(api_key,),
    )
''')

_TEST = Template('''\
"""$name against Causeway's conformance kit: the scenarios fail until the connector and
its simulator are written."""

from __future__ import annotations

import pytest
from connectors.conformance import ConformanceTarget
from connectors.conformance_suite import ConformanceSuite

from $package.simulator import conformance_target as ${name}_target


@pytest.fixture
def conformance_target() -> ConformanceTarget:
    return ${name}_target()


class Test$camel(ConformanceSuite):
    """Causeway's standard scenarios against the simulated $name wallet."""
''')


def write_connector_package(name: str, directory: Path) -> Path:
    """Write ``directory/causeway-connector-<name>/`` and return its path.

    Raises ``ValueError`` for a name that cannot be a kind and a Python package name, and
    ``FileExistsError`` rather than write over anything.
    """
    if not _NAME.fullmatch(name) or keyword.iskeyword(name):
        raise ValueError(
            f"{name!r} cannot name a connector: use lowercase letters, digits and '_', "
            "starting with a letter (it is the kind routes name and part of a package name)"
        )
    root = directory / f"causeway-connector-{name}"
    if root.exists():
        raise FileExistsError(f"{root} already exists; nothing was written")
    camel = "".join(part.capitalize() for part in name.split("_") if part)
    names = {"name": name, "package": f"{name}_connector", "cls": f"{camel}Connector"}
    package = root / "src" / names["package"]
    files = {
        root / "pyproject.toml": _PYPROJECT.substitute(names),
        root / "README.md": _README.substitute(names),
        package / "__init__.py": _CONNECTOR.substitute(names),
        package / "simulator.py": _SIMULATOR.substitute(names),
        package / "py.typed": "",
        root / "tests" / f"test_{name}.py": _TEST.substitute(names, camel=camel),
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root
