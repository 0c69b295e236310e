"""The conformance kit: every registered connector passes it, and it catches bad ones.

``TestEveryConnector`` runs the standard scenarios once per registered kind whose package
ships ``simulator.conformance_target`` (a bundled kind whose package does not import is
left out here and fails ``test_registry`` instead). The other tests check the kit itself:
that a scenario fails for a connector breaking the rule it checks (Alipay+'s, or for the
refund lookups KakaoPay's, with one thing wrong), and that a sandbox target (no simulator)
runs what it can and skips the rest.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors import (
    Outcome,
    PaymentResult,
    PayRequest,
    RefundLookup,
    RefundPresence,
    RefundRequest,
    WalletProtocolError,
)
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
from connectors.kakaopay import KakaoPayConnector
from connectors.kakaopay import simulator as kakaopay

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


# --- the refund lookups (KakaoPay's connector, with one thing wrong) -----------------------


class CredulousKakaoPay(KakaoPayConnector):
    """Finds every refund it is asked about (by the wallet's id when there is one): the hub
    would book refunds whose money never moved."""

    def parse_inquire_refund(
        self, request: RefundRequest, response: httpx.Response
    ) -> RefundLookup:
        try:
            lookup = super().parse_inquire_refund(request, response)
        except WalletProtocolError:
            return RefundLookup.found(wallet_refund_id=None)
        if lookup.presence is RefundPresence.FOUND:
            return lookup
        return RefundLookup.found(wallet_refund_id=None)


class ForgetfulKakaoPay(KakaoPayConnector):
    """Finds no refund: the hub would send every refund of unknown outcome again."""

    def parse_inquire_refund(
        self, request: RefundRequest, response: httpx.Response
    ) -> RefundLookup:
        return RefundLookup.absent("no refund is ever there")


class PaymentWideKakaoPay(KakaoPayConnector):
    """Takes any cancel of the payment for the refund asked about: "the payment has a
    refund" read as "the wallet made this one"."""

    def parse_inquire_refund(
        self, request: RefundRequest, response: httpx.Response
    ) -> RefundLookup:
        lookup = super().parse_inquire_refund(request, response)
        if lookup.presence is not RefundPresence.ABSENT:
            return lookup
        actions = response.json()["payment_action_details"]
        cancels = [action for action in actions if action["payment_action_type"] == "CANCEL"]
        if cancels:
            return RefundLookup.found(wallet_refund_id=cancels[0]["aid"])
        return lookup


class StatusBlindKakaoPay(KakaoPayConnector):
    """Reads "no cancel with this payload" as absent whatever the payment's status: a list
    from a payment in a status it does not know is taken for the whole list."""

    def parse_inquire_refund(
        self, request: RefundRequest, response: httpx.Response
    ) -> RefundLookup:
        lookup = super().parse_inquire_refund(request, response)
        if lookup.presence is RefundPresence.UNKNOWN and response.status_code == 200:
            return RefundLookup.absent("no cancel carries this payload")
        return lookup


def kakaopay_target(factory: type[KakaoPayConnector]) -> ConformanceTarget:
    """A simulated KakaoPay, and a connector for it made by ``factory``."""
    cid, secret_key = "CWVARIANT1", "DEV" + "5A" * 16
    payer, poor_payer = "281002" + "0" * 11 + "7", "281002" + "0" * 11 + "8"
    wallet = kakaopay.SimulatedWallet(
        cid=cid,
        secret_key=secret_key,
        accounts=[
            kakaopay.SimulatedAccount("KP-0001", payer, 2_000_000, "Kim Min-jun"),
            kakaopay.SimulatedAccount("KP-0002", poor_payer, 5_000, "Lee Seo-yeon"),
        ],
    )
    settings = {
        "cid": cid,
        "secret_key": secret_key,
        "approval_url": "https://hub.causeway.test/kakaopay/return",
        "currencies": ["KRW"],
        "regions": ["KR"],
    }
    return ConformanceTarget(
        name="kakaopay-variant",
        connect=lambda url: factory("variant", settings | {"base_url": url}),
        simulator=kakaopay.create_simulator(wallet),
        wallet_currency="KRW",
        payment_currency="JPY",
        payer=payer,
        poor_payer=poor_payer,
        pay_to_amount=11_016,
        payment_amount=1_200,
        secrets=(secret_key,),
    )


LOOKUP_SCENARIOS = (
    "test_a_refund_the_wallet_made_is_found",
    "test_a_refund_never_sent_is_absent",
    "test_a_lookup_tells_one_refund_from_another",
    "test_a_refund_lookup_it_cannot_read_is_unknown",
    "test_a_refund_lookup_with_an_unknown_status_is_not_absent",
)

#: What each refund-lookup scenario reports against each wrong connector, as
#: ``(connector, scenario): the start of its failure``; every pair not listed passes.
LOOKUP_FAILURES: Mapping[tuple[type[KakaoPayConnector], str], str] = {
    (CredulousKakaoPay, "test_a_refund_never_sent_is_absent"): (
        "a refund never sent, of a payment with no refund, was looked up as FOUND"
    ),
    (CredulousKakaoPay, "test_a_lookup_tells_one_refund_from_another"): (
        "a refund never sent, of a payment another refund of the same amount was made of, "
        "was looked up as FOUND"
    ),
    (CredulousKakaoPay, "test_a_refund_lookup_it_cannot_read_is_unknown"): (
        "an answer with an empty body was read as FOUND"
    ),
    (CredulousKakaoPay, "test_a_refund_lookup_with_an_unknown_status_is_not_absent"): (
        "with an unknown status, a refund never sent was looked up as FOUND"
    ),
    (ForgetfulKakaoPay, "test_a_refund_the_wallet_made_is_found"): (
        "a refund, which the wallet made, was looked up as ABSENT"
    ),
    (ForgetfulKakaoPay, "test_a_lookup_tells_one_refund_from_another"): (
        "the first refund, which the wallet made, was looked up as ABSENT"
    ),
    (ForgetfulKakaoPay, "test_a_refund_lookup_it_cannot_read_is_unknown"): (
        "a refund, which the wallet made, was looked up as ABSENT"
    ),
    (ForgetfulKakaoPay, "test_a_refund_lookup_with_an_unknown_status_is_not_absent"): (
        "with an unknown status, a refund the wallet made was looked up as ABSENT"
    ),
    (PaymentWideKakaoPay, "test_a_lookup_tells_one_refund_from_another"): (
        "a refund never sent, of a payment another refund of the same amount was made of, "
        "was looked up as FOUND"
    ),
    (StatusBlindKakaoPay, "test_a_refund_lookup_with_an_unknown_status_is_not_absent"): (
        "with an unknown status, a refund never sent was looked up as ABSENT"
    ),
}


@pytest.mark.anyio
@pytest.mark.parametrize("scenario", LOOKUP_SCENARIOS)
@pytest.mark.parametrize(
    "factory",
    [
        KakaoPayConnector,
        CredulousKakaoPay,
        ForgetfulKakaoPay,
        PaymentWideKakaoPay,
        StatusBlindKakaoPay,
    ],
    ids=lambda factory: factory.__name__,
)
async def test_each_refund_lookup_scenario_fails_the_connector_breaking_its_rule(
    factory: type[KakaoPayConnector], scenario: str
) -> None:
    failure = LOOKUP_FAILURES.get((factory, scenario))
    async with open_wallet(kakaopay_target(factory)) as wallet:
        run = getattr(SUITE, scenario)(wallet)
        if failure is None:
            await run
        else:
            with pytest.raises(AssertionError, match=re.escape(failure)):
                await run


def test_every_refund_lookup_scenario_catches_a_wrong_connector() -> None:
    # The lookup scenarios are those that need a RefundInquiry: a new one must join the
    # table above, with a connector it fails.
    needing = {
        name
        for name, scenario in vars(ConformanceSuite).items()
        if name.startswith("test_") and "needs_refund_inquiry(" in inspect.getsource(scenario)
    }
    assert needing == set(LOOKUP_SCENARIOS)
    assert {scenario for _, scenario in LOOKUP_FAILURES} == needing


@pytest.mark.anyio
@pytest.mark.parametrize("scenario", LOOKUP_SCENARIOS)
async def test_the_refund_lookups_are_skipped_for_a_connector_that_cannot_look_up(
    make_target: MakeTarget, scenario: str
) -> None:
    async with open_wallet(make_target(AlipayPlusConnector)) as wallet:
        with pytest.raises(pytest.skip.Exception, match="not a RefundInquiry"):
            await getattr(SUITE, scenario)(wallet)
        assert not wallet.exchanged, "a scenario that does not apply sent something"
