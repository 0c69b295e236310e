"""Shared fixtures for the fx tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    """Run ``@pytest.mark.anyio`` tests on asyncio, the loop the gateway runs on."""
    return "asyncio"
