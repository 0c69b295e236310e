"""Routing: which wallet a payment is for, and which connector route reaches it."""

from __future__ import annotations

from routing.emvco import QrError
from routing.policy import BreakerPolicy, RetriesSpent, RetryBudget, RetryPolicy, Unsendable
from routing.router import GENERIC_METHOD_TYPE, ConsultOption, NoRoute, Route, Router
from routing.wallets import CodeTable, Wallet

__all__ = [
    "GENERIC_METHOD_TYPE",
    "BreakerPolicy",
    "CodeTable",
    "ConsultOption",
    "NoRoute",
    "QrError",
    "RetriesSpent",
    "RetryBudget",
    "RetryPolicy",
    "Route",
    "Router",
    "Unsendable",
    "Wallet",
]
