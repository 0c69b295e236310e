"""The Example Wallet connector passes Causeway's conformance kit and is found by its kind.

Run with the package installed (``pip install -e .``), which is what registers the entry
point: ``pytest``.
"""

from __future__ import annotations

import pytest
from connectors import find_factory
from connectors.conformance import ConformanceTarget
from connectors.conformance_suite import ConformanceSuite

from example_connector import ExampleConnector
from example_connector.simulator import conformance_target as example_target


@pytest.fixture
def conformance_target() -> ConformanceTarget:
    return example_target()


class TestExampleWallet(ConformanceSuite):
    """Causeway's standard scenarios against the simulated Example Wallet."""


def test_causeway_finds_the_connector_by_its_kind() -> None:
    assert find_factory("example") is ExampleConnector
