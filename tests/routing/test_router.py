from __future__ import annotations

from typing import Any

import pytest

from connectors import Capabilities, Operation
from routing import GENERIC_METHOD_TYPE, NoRoute, Route, Router, Wallet

GCASH = Wallet("GCASH", "GCash", "PHP", "PH", frozenset({"GCASH"}), ("281001",))
KAKAO = Wallet("KAKAOPAY", "KakaoPay", "KRW", "KR", frozenset({"KAKAOPAY"}), ("281002",))
DANA = Wallet("DANA", "DANA", "IDR", "ID", frozenset({"DANA"}), ("281006",))


class _Connector:
    """Just enough of a connector for routing, which only reads capabilities."""

    def __init__(self, name: str, currencies: set[str], operations: set[Operation]) -> None:
        self.name = name
        self.capabilities = Capabilities(frozenset(operations), frozenset(currencies), frozenset())

    def __getattr__(self, item: str) -> Any:
        raise AssertionError(f"routing must not call {item}")


def _route(name: str, wallet: str, currency: str, priority: int = 1, **kw: Any) -> Route:
    operations = kw.get("operations", set(Operation))
    return Route(name, wallet, _Connector(name, {currency}, operations), priority)


@pytest.fixture
def router() -> Router:
    return Router(
        [GCASH, KAKAO, DANA],
        [
            _route("gcash-b", "GCASH", "PHP", priority=2),
            _route("gcash-a", "GCASH", "PHP", priority=1),
            _route("kakao", "KAKAOPAY", "KRW", operations={Operation.INQUIRE}),
        ],
    )


def test_the_code_identifies_the_wallet(router: Router) -> None:
    assert router.identify(method_type=GENERIC_METHOD_TYPE, payment_code="281001999") is GCASH
    with pytest.raises(NoRoute, match="matches no wallet"):
        router.identify(method_type=GENERIC_METHOD_TYPE, payment_code="999")


def test_the_method_type_identifies_the_wallet_and_must_agree_with_the_code(router: Router) -> None:
    assert router.identify(method_type="DANA", payment_code=None) is DANA
    with pytest.raises(NoRoute, match="belongs to GCash, not to DANA"):
        router.identify(method_type="DANA", payment_code="281001999")
    with pytest.raises(NoRoute, match="no wallet has the payment method type"):
        router.identify(method_type="PAYPAY", payment_code=None)


def test_the_route_of_highest_priority_is_chosen(router: Router) -> None:
    assert router.select(GCASH).name == "gcash-a"


def test_a_route_must_support_the_operation(router: Router) -> None:
    with pytest.raises(NoRoute, match="no configured route reaches KakaoPay"):
        router.select(KAKAO)
    assert router.select(KAKAO, operation=Operation.INQUIRE).name == "kakao"


def test_allowed_regions_exclude_a_wallet(router: Router) -> None:
    with pytest.raises(NoRoute, match="allowedPspRegions"):
        router.select(GCASH, allowed_regions=["KR"])
    assert router.select(GCASH, allowed_regions=["PH", "KR"]).name == "gcash-a"


def test_consult_says_why_a_wallet_is_disabled(router: Router) -> None:
    options = {
        o.wallet.psp_id: o for o in router.consult(allowed_regions=["PH", "KR"], user_region=None)
    }

    assert options["GCASH"].enabled
    assert options["KAKAOPAY"].disable_reason == "NO_ROUTE"
    assert options["DANA"].disable_reason == "REGION_NOT_ALLOWED"


def test_a_route_to_an_unknown_wallet_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown wallet"):
        Router([GCASH], [_route("x", "NOPE", "PHP")])


def test_routes_are_found_by_name(router: Router) -> None:
    assert router.route_named("gcash-b").priority == 2
    with pytest.raises(NoRoute, match="no longer configured"):
        router.route_named("gone")
