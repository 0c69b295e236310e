"""Route selection: from a payment's method to a wallet, and from a wallet to a connector.

A route is one way to reach one wallet: a configured connector instance with a priority.
The router never sends anything; it answers "which wallet" and "which route", or says
plainly why there is none.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from connectors import Connector, Operation
from routing.wallets import CodeTable, Wallet

__all__ = ["ConsultOption", "NoRoute", "Route", "Router"]

#: The method type that means "any wallet: identify it from the payment code".
GENERIC_METHOD_TYPE = "CONNECT_WALLET"


class NoRoute(Exception):
    """Raised when no wallet or no route can take a payment; the message says why."""


@dataclass(frozen=True, slots=True)
class Route:
    """One configured way to reach a wallet."""

    name: str
    wallet: str
    connector: Connector
    priority: int = 1

    def can(self, operation: Operation) -> bool:
        """Whether the route's connector declares ``operation``."""
        return operation in self.connector.capabilities.operations


@dataclass(frozen=True, slots=True)
class ConsultOption:
    """A wallet as ``consultPayment`` reports it: usable or not, and why not."""

    wallet: Wallet
    enabled: bool
    disable_reason: str | None = None


class Router:
    """Answers which wallet a payment is for and which route reaches it."""

    def __init__(self, wallets: Iterable[Wallet], routes: Iterable[Route]) -> None:
        self._wallets = {wallet.psp_id: wallet for wallet in wallets}
        self._codes = CodeTable(self._wallets.values())
        self._by_method = {
            method: wallet for wallet in self._wallets.values() for method in wallet.method_types
        }
        self._routes: dict[str, list[Route]] = {}
        for route in routes:
            if route.wallet not in self._wallets:
                raise ValueError(f"route {route.name} names unknown wallet {route.wallet!r}")
            self._routes.setdefault(route.wallet, []).append(route)
        for candidates in self._routes.values():
            candidates.sort(key=lambda route: route.priority)

    @property
    def wallets(self) -> Collection[Wallet]:
        return self._wallets.values()

    @property
    def routes(self) -> list[Route]:
        return [route for candidates in self._routes.values() for route in candidates]

    def wallet(self, psp_id: str) -> Wallet:
        return self._wallets[psp_id]

    def identify(self, *, method_type: str, payment_code: str | None) -> Wallet:
        """The wallet a payment is for, from its method type or its payment code."""
        by_code = self._codes.identify(payment_code) if payment_code else None
        if method_type != GENERIC_METHOD_TYPE:
            named = self._by_method.get(method_type)
            if named is None:
                raise NoRoute(f"no wallet has the payment method type {method_type!r}")
            if by_code is not None and by_code is not named:
                raise NoRoute(f"the payment code belongs to {by_code.name}, not to {named.name}")
            return named
        if by_code is None:
            raise NoRoute("the payment code matches no wallet's code prefixes")
        return by_code

    def select(
        self,
        wallet: Wallet,
        *,
        operation: Operation = Operation.PAY,
        allowed_regions: Collection[str] | None = None,
    ) -> Route:
        """The best route to ``wallet`` that can perform ``operation``."""
        if allowed_regions and wallet.region not in allowed_regions:
            raise NoRoute(
                f"{wallet.name} ({wallet.region}) is not in allowedPspRegions "
                f"{sorted(allowed_regions)}"
            )
        candidates = self.candidates(wallet, operation=operation)
        if not candidates:
            raise NoRoute(f"no configured route reaches {wallet.name} for {operation}")
        return candidates[0]

    def candidates(self, wallet: Wallet, *, operation: Operation = Operation.PAY) -> list[Route]:
        """Every route to ``wallet`` able to perform ``operation``, best first (failover)."""
        return [
            route
            for route in self._routes.get(wallet.psp_id, ())
            if route.can(operation) and wallet.currency in route.connector.capabilities.currencies
        ]

    def route_named(self, name: str) -> Route:
        """The route a payment was sent through (later operations go the same way)."""
        for candidates in self._routes.values():
            for route in candidates:
                if route.name == name:
                    return route
        raise NoRoute(f"route {name!r} is no longer configured")

    def consult(
        self, *, allowed_regions: Collection[str] | None, user_region: str | None
    ) -> list[ConsultOption]:
        """Every wallet, with whether it can take a payment now and why not."""
        options: list[ConsultOption] = []
        for wallet in sorted(self._wallets.values(), key=lambda w: w.psp_id):
            reason: str | None = None
            if allowed_regions and wallet.region not in allowed_regions:
                reason = "REGION_NOT_ALLOWED"
            elif user_region and wallet.region != user_region:
                reason = "USER_REGION_MISMATCH"
            elif not any(r.can(Operation.PAY) for r in self._routes.get(wallet.psp_id, ())):
                reason = "NO_ROUTE"
            options.append(ConsultOption(wallet, reason is None, reason))
        return options
