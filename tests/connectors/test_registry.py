"""The registry: bundled kinds, installed plug-ins, and failures that name what failed.

Plug-ins are real installed distributions on ``sys.path``: a ``.dist-info`` (or
``.egg-info``) directory whose ``entry_points.txt`` names the connector, which is what
``importlib.metadata`` reads for an installed package. The example package under
``examples/`` is installed from its own ``pyproject.toml`` and runs its own test file.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from connectors import (
    ConnectorConfigError,
    ConnectorError,
    ConnectorLoadError,
    build_connector,
    find_factory,
)
from connectors._registry import BUNDLED, ENTRY_POINT_GROUP, kinds
from connectors.alipayplus import AlipayPlusConnector
from connectors.conformance import conformance_kinds
from connectors.conformance_suite import ConformanceSuite

EXAMPLE = Path(__file__).parents[2] / "examples" / "causeway-connector-example"


@pytest.mark.parametrize("kind", sorted(BUNDLED))
def test_every_bundled_kind_loads_and_ships_a_conformance_target(kind: str) -> None:
    factory = find_factory(kind)

    assert BUNDLED[kind].endswith(f":{getattr(factory, '__name__', None)}")
    assert kind in conformance_kinds(), f"{kind}: no importable simulator.conformance_target"


def test_the_package_declares_exactly_the_bundled_kinds() -> None:
    declared = {
        ep.name: ep.value
        for ep in entry_points(group=ENTRY_POINT_GROUP)
        if ep.dist is not None and ep.dist.name == "causeway"
    }
    assert declared == dict(BUNDLED)


def test_an_unknown_kind_says_where_it_was_looked_for() -> None:
    with pytest.raises(ConnectorLoadError, match=r"'nosuchwallet'.*'causeway\.connectors'"):
        find_factory("nosuchwallet")


# --- plug-ins installed in a throwaway site directory -----------------------------------


class Site:
    """A directory on ``sys.path`` to install fake distributions into."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def install(self, dist: str, kind: str, target: str, source: str | None = None) -> None:
        """Install ``dist`` declaring ``kind = target``, with ``source`` as the module
        ``target`` names (none when ``None``)."""
        info = self.path / f"{dist}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
        (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{kind} = {target}\n")
        if source is not None:
            (self.path / f"{target.partition(':')[0]}.py").write_text(source)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.syspath_prepend(tmp_path)
    yield Site(tmp_path)
    for module in [name for name in sys.modules if name.startswith("plugin_")]:
        del sys.modules[module]


GOOD_PLUGIN = """
from connectors.alipayplus import AlipayPlusConnector as Connector
"""


@pytest.mark.parametrize(
    ("source", "complaint"),
    [
        ("raise RuntimeError('wallet SDK not configured')", "RuntimeError: wallet SDK not"),
        ("import zeep_is_not_installed", "ModuleNotFoundError"),
        ("Other = object", "AttributeError"),
    ],
    ids=["raises-on-import", "missing-dependency", "missing-attribute"],
)
def test_a_broken_plugin_is_a_load_error_naming_kind_and_entry_point(
    site: Site, source: str, complaint: str
) -> None:
    site.install("broken-wallet", "brokenpay", "plugin_broken:Connector", source)

    with pytest.raises(ConnectorLoadError) as failed:
        find_factory("brokenpay")

    message = str(failed.value)
    assert "'brokenpay'" in message
    assert "plugin_broken:Connector" in message
    assert complaint in message
    assert failed.value.connector == "brokenpay"


def test_a_broken_plugin_disables_its_route_only(site: Site, settings: dict[str, Any]) -> None:
    site.install("broken-wallet", "brokenpay", "plugin_broken:Connector", "1 / 0")
    site.install("good-wallet", "goodpay", "plugin_good:Connector", GOOD_PLUGIN)
    routes = [("kr-broken", "brokenpay"), ("kr-good", "goodpay"), ("kr-bundled", "alipayplus")]

    # What the gateway does with its routes: every ConnectorError disables one route.
    built, disabled = {}, {}
    for name, kind in routes:
        try:
            built[name] = build_connector(kind, name, settings)
        except ConnectorError as exc:
            disabled[name] = str(exc)

    assert set(built) == {"kr-good", "kr-bundled"}
    assert list(disabled) == ["kr-broken"]
    assert "ZeroDivisionError" in disabled["kr-broken"]
    assert {"brokenpay", "goodpay", "alipayplus"} <= set(kinds())


def test_two_packages_declaring_one_kind_are_refused(site: Site) -> None:
    site.install("one-wallet", "twinpay", "plugin_one:Connector", GOOD_PLUGIN)
    site.install("two-wallet", "twinpay", "plugin_two:Connector", GOOD_PLUGIN)

    with pytest.raises(ConnectorLoadError, match="several installed packages"):
        find_factory("twinpay")


def test_a_plugin_cannot_replace_a_bundled_kind(site: Site) -> None:
    site.install("shadow-wallet", "alipayplus", "plugin_shadow:Connector")

    assert find_factory("alipayplus") is AlipayPlusConnector


def test_a_factory_that_crashes_is_a_config_error_that_does_not_quote_it(site: Site) -> None:
    crashing = "def Connector(name, settings):\n    raise KeyError(settings['api_key'])\n"
    site.install("crashing-wallet", "crashpay", "plugin_crash:Connector", crashing)

    with pytest.raises(ConnectorConfigError) as failed:
        build_connector("crashpay", "sg", {"api_key": "sk_live_do_not_log"})

    assert "KeyError" in str(failed.value)
    assert "sk_live_do_not_log" not in str(failed.value)


def test_a_factory_that_makes_no_connector_is_a_load_error(site: Site) -> None:
    hollow = "class Connector:\n    def __init__(self, name, settings):\n        self.name = name\n"
    site.install("hollow-wallet", "hollowpay", "plugin_hollow:Connector", hollow)

    with pytest.raises(ConnectorLoadError, match="lacks capabilities, build_pay, parse_pay"):
        build_connector("hollowpay", "sg", {})


# --- the example package, installed from examples/ ---------------------------------------


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example package, installed as ``pip install -e`` installs a setuptools project
    without PEP 660: metadata generated by its own build backend from its own
    ``pyproject.toml``, and its ``src`` directory on ``sys.path``.

    (pip would build a wheel first, which setuptools < 70.1 can only do with the ``wheel``
    package, absent from the development environment and not fetched: tests stay offline.)
    """
    copy = tmp_path_factory.mktemp("example") / EXAMPLE.name
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()", "egg_info"],
        cwd=copy,
        check=True,
        capture_output=True,
        timeout=120,
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(copy / "src")
        yield copy
    for module in [name for name in sys.modules if name.startswith("example_connector")]:
        del sys.modules[module]


def test_an_installed_package_is_found_by_its_kind(example: Path) -> None:
    factory = find_factory("example")
    connector = build_connector(
        "example", "sg-example", {"base_url": "http://wallet.test", "api_key": "ex_live_x"}
    )

    assert factory.__module__ == "example_connector"
    assert type(connector).__qualname__ == "ExampleConnector"
    assert "example" in kinds()
    assert "example" in conformance_kinds()


def test_the_example_passes_the_kit_with_its_own_test_file(example: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "tests"],
        cwd=example,
        env={**os.environ, "PYTHONPATH": str(example / "src")},
        capture_output=True,
        text=True,
        timeout=300,
    )

    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    scenarios = [name for name in vars(ConformanceSuite) if name.startswith("test_")]
    # Every scenario ran and passed, plus the package's own test, but those about callbacks
    # and refund lookups: the example's wallet neither calls back nor looks refunds up.
    # pytest -rs groups the skips of one reason: "SKIPPED [2] file:line: reason".
    skips = re.findall(r"^SKIPPED \[(\d+)\] \S+ (.*)$", run.stdout, re.MULTILINE)
    why = {reason.split(" (")[0]: int(count) for count, reason in skips}
    assert why == {
        "the connector is not a NotificationParser": 2,
        "the connector is not a RefundInquiry": 5,
    }, skips
    skipped = sum(why.values())
    passed = len(scenarios) - skipped + 1
    assert re.fullmatch(rf"{passed} passed, {skipped} skipped in [0-9.]+s", summary), summary
