"""Time for the bundled connectors: the default clock, and reading a wallet's timestamps."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["aware_time", "utc_now"]


def utc_now() -> datetime:
    """The default clock a connector stamps its requests with."""
    return datetime.now(UTC)


def aware_time(value: str | None) -> datetime | None:
    """A wallet's ISO 8601 timestamp, or ``None`` if absent, unparseable or without an
    offset: a wallet's time is informational, and a malformed one must not turn a charge,
    a refund or a commit into an error."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
