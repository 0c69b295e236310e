"""The conformance kit: every registered connector passes it, and it catches bad ones.

``TestEveryConnector`` runs the standard scenarios once per registered kind whose package
ships ``simulator.conformance_target`` (a bundled kind whose package does not import is
left out here and fails ``test_registry`` instead). The other tests check the kit itself:
that a scenario fails for a connector breaking the rule it checks, and that a sandbox
target (no simulator) runs what it can and skips the rest.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors import Outcome, PaymentResult, PayRequest
from connectors._loopback import serve_on_loopback
from connectors._registry import kinds
from connectors.alipayplus import AlipayPlusConnector
from connectors.alipayplus.simulator import SimulatedAccount, SimulatedWallet, create_simulator
from connectors.conformance import (
    ConformanceTarget,
    conformance_kinds,
    find_target,
    open_wallet,
)
from connectors.conformance_suite import ConformanceSuite

KINDS = conformance_kinds()


@pytest.fixture(params=KINDS)
def conformance_target(request: pytest.FixtureRequest) -> ConformanceTarget:
    kind: str = request.param
    return find_target(kind)


#: Scenarios a bundled connector is known to fail, and why, as
#: ``(kind, scenario): reason``. Each is a strict xfail: the day it passes, this table must
#: shrink. Empty: every bundled connector passes (a limit it declares, such as M-Pesa's
#: ``inquiry_by_request_id=False``, is a skip the kit decides, not a gap).
KNOWN_GAPS: Mapping[tuple[str, str], str] = {}


@pytest.fixture(autouse=True)
def _known_gaps(request: pytest.FixtureRequest) -> None:
    kind = getattr(request.node, "callspec", None)
    if kind is None or request.cls is not TestEveryConnector:
        return
    reason = KNOWN_GAPS.get((kind.params.get("conformance_target", ""), request.node.originalname))
    if reason is not None:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


class TestEveryConnector(ConformanceSuite):
    """The standard scenarios, for each registered connector with a simulator."""


def test_the_kit_finds_targets_through_the_registry() -> None:
    # Discovery goes registry kind -> connector module -> its simulator module.
    assert "alipayplus" in KINDS
    assert set(KINDS) <= set(kinds())


def test_the_plugin_is_registered_with_pytest() -> None:
    plugins = {ep.value for ep in entry_points(group="pytest11") if ep.dist is not None}
    assert "connectors.conformance_suite" in plugins


def test_the_guide_lists_every_scenario() -> None:
    guide = (Path(__file__).parents[2] / "docs" / "connectors.md").read_text()
    listed = set(re.findall(r"^\| `(test_\w+)` \|", guide, re.MULTILINE))
    scenarios = {name for name in vars(ConformanceSuite) if name.startswith("test_")}
    assert listed == scenarios


@pytest.mark.parametrize("name", ["connectors.conformance", "connectors.conformance_suite"])
def test_the_kit_exports_are_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    exported: list[str] = module.__all__
    assert exported == sorted(exported)
    assert all(hasattr(module, member) for member in exported)


# --- the kit itself ------------------------------------------------------------------------


class OptimisticConnector(AlipayPlusConnector):
    """Reads an answer it does not understand as a success: what the kit must reject."""

    def parse_pay(self, request: PayRequest, response: httpx.Response) -> PaymentResult:
        result = super().parse_pay(request, response)
        if result.outcome is Outcome.PENDING:
            return PaymentResult.succeeded(wallet_payment_id="guessed")
        return result


class TalkativeConnector(AlipayPlusConnector):
    """Shows its settings, key and all, in its repr."""

    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        super().__init__(name, settings)
        self._settings = dict(settings)

    def __repr__(self) -> str:
        return f"TalkativeConnector({self._settings})"


@pytest.fixture
def make_target(
    settings: dict[str, Any], hub_keys: tuple[bytes, bytes], wallet_keys: tuple[bytes, bytes]
) -> Callable[[type[AlipayPlusConnector]], ConformanceTarget]:
    """A target whose connector is made by the given Alipay+ connector class."""

    def make(factory: type[AlipayPlusConnector]) -> ConformanceTarget:
        wallet = SimulatedWallet(
            psp_id="KRWALLET",
            currency="KRW",
            client_id="KRWALLET",
            private_key=wallet_keys[0],
            hub_public_key=hub_keys[1],
            accounts=[SimulatedAccount("K-1", "281000000000000001", 1_000_000, "Kim")],
        )
        return ConformanceTarget(
            name="alipayplus-variant",
            connect=lambda url: factory("variant", settings | {"base_url": url}),
            simulator=create_simulator(wallet),
            wallet_currency="KRW",
            payment_currency="JPY",
            payer="281000000000000001",
            poor_payer="281000000000000002",
            pay_to_amount=11016,
            payment_amount=1200,
            secrets=(settings["private_key"],),
        )

    return make


MakeTarget = Callable[[type[AlipayPlusConnector]], ConformanceTarget]
SUITE = ConformanceSuite()


@pytest.mark.anyio
async def test_a_connector_that_reads_unknown_as_success_fails_the_kit(
    make_target: MakeTarget,
) -> None:
    async with open_wallet(make_target(OptimisticConnector)) as wallet:
        with pytest.raises(AssertionError, match="pay with an unknown status"):
            await SUITE.test_an_unknown_wallet_status_is_pending(wallet)


@pytest.mark.anyio
async def test_a_connector_showing_its_key_fails_the_kit(
    make_target: MakeTarget, caplog: pytest.LogCaptureFixture
) -> None:
    async with open_wallet(make_target(TalkativeConnector)) as wallet:
        with pytest.raises(
            AssertionError, match=r"a secret appears in repr\(connector\)"
        ) as failed:
            await SUITE.test_secrets_stay_out_of_reprs_and_logs(wallet, caplog)
    assert wallet.target.secrets[0] not in str(failed.value)


@pytest.mark.anyio
async def test_the_same_connector_as_it_should_be_passes(
    make_target: MakeTarget, caplog: pytest.LogCaptureFixture
) -> None:
    async with open_wallet(make_target(AlipayPlusConnector)) as wallet:
        await SUITE.test_an_unknown_wallet_status_is_pending(wallet)
        await SUITE.test_secrets_stay_out_of_reprs_and_logs(wallet, caplog)
    assert len(wallet.exchanged) > 6  # the secrets scenario looked at a whole payment


@pytest.mark.anyio
async def test_a_sandbox_target_skips_what_needs_the_simulator(make_target: MakeTarget) -> None:
    simulated = make_target(AlipayPlusConnector)
    assert simulated.simulator is not None
    async with serve_on_loopback(simulated.simulator) as url:
        sandbox = replace(simulated, simulator=None, base_url=url + "/")
        async with open_wallet(sandbox) as wallet:
            assert not wallet.simulated
            await SUITE.test_pay_succeeds(wallet)
            with pytest.raises(pytest.skip.Exception, match="control API"):
                await SUITE.test_a_timeout_is_resolved_by_inquiry(wallet)
            with pytest.raises(RuntimeError, match="no simulator control API"):
                await wallet.stats()


@pytest.mark.anyio
async def test_a_target_needs_a_simulator_or_a_base_url(make_target: MakeTarget) -> None:
    nowhere = replace(make_target(AlipayPlusConnector), simulator=None)
    with pytest.raises(ValueError, match="neither a simulator nor a base_url"):
        async with open_wallet(nowhere):
            pass
