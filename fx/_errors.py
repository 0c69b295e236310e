"""What can go wrong with money, rates and quotes.

```
FXError                 root: an amount, a currency, a rate or a quote is invalid
├── UnknownCurrency     a code is not an ISO 4217 currency usable for payments
├── RateUnavailable     a rate source has no rate for a currency pair
└── CurrencyMismatch    two amounts (or an amount and a quote) are in different currencies
```

``FXError`` is a ``ValueError``: every one of these means a value was wrong, so code that
already treats bad input as ``ValueError`` keeps working. Malformed configuration (a rate
file, a spread table, a stored quote) raises ``FXError`` itself, with a message naming the
offending entry.
"""

from __future__ import annotations

__all__ = ["CurrencyMismatch", "FXError", "RateUnavailable", "UnknownCurrency"]


class FXError(ValueError):
    """Raised when an amount, currency, rate, spread or quote is invalid or unusable."""


class UnknownCurrency(FXError):
    """Raised when a code is not an ISO 4217 currency with minor units (e.g. ``"usd"``, ``"XAU"``).

    ``currency`` is the code exactly as it was given.
    """

    def __init__(self, currency: str, reason: str = "not an ISO 4217 currency code") -> None:
        super().__init__(f"unknown currency {currency!r}: {reason}")
        self.currency = currency


class RateUnavailable(FXError):
    """Raised when a rate source cannot price ``base``/``quote``."""

    def __init__(self, base: str, quote: str, detail: str = "") -> None:
        message = f"no rate available for {base}/{quote}"
        super().__init__(f"{message}: {detail}" if detail else message)
        self.base = base
        self.quote = quote


class CurrencyMismatch(FXError):
    """Raised when an operation needs one currency but is given two (``left`` and ``right``)."""

    def __init__(self, left: str, right: str, detail: str = "") -> None:
        message = f"currency mismatch: {left} and {right}"
        super().__init__(f"{message} ({detail})" if detail else message)
        self.left = left
        self.right = right
