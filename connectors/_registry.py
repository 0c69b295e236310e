"""Where connectors are found: the bundled ones, then the ``causeway.connectors`` entry points.

A third-party connector is a package with an entry point in the ``causeway.connectors``
group; installing it and naming its ``kind`` in a route of the configuration is all it takes::

    [project.entry-points."causeway.connectors"]
    gopay = "gopay_connector:GoPayConnector"

A bundled kind wins over an entry point of the same name, so that installing a package can
never silently replace a connector the hub ships. Every failure to find, import or build a
connector is a :class:`~connectors.ConnectorError` naming the kind and where it was looked
for: the gateway disables that one route and keeps serving the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any, cast

from connectors._contract import Connector, ConnectorFactory
from connectors._errors import ConnectorConfigError, ConnectorError, ConnectorLoadError

__all__ = ["BUNDLED", "ENTRY_POINT_GROUP", "build_connector", "find_factory", "kinds", "locate"]

ENTRY_POINT_GROUP = "causeway.connectors"

#: Bundled connectors by kind, as "module:attribute" so that importing the registry
#: imports no connector. ``pyproject.toml`` declares the same lines as entry points (a test
#: keeps the two in step), so the installed package describes itself like any plug-in.
BUNDLED: Mapping[str, str] = {
    "alipayplus": "connectors.alipayplus:AlipayPlusConnector",
    "kakaopay": "connectors.kakaopay:KakaoPayConnector",
    "mojaloop": "connectors.mojaloop:MojaloopConnector",
    "mpesa": "connectors.mpesa:MpesaConnector",
    "snapbi": "connectors.snapbi:SnapBiConnector",
    "wechatpay": "connectors.wechatpay:WeChatPayConnector",
}

#: What the connector protocol requires of an instance, read off the protocol itself, so
#: that a load error can say which members a plug-in lacks.
_MEMBERS = (
    *Connector.__annotations__,
    *(member for member in vars(Connector) if not member.startswith("_")),
)


def kinds() -> list[str]:
    """Every kind that can be named in a route: bundled and installed, sorted."""
    installed = {entry_point.name for entry_point in entry_points(group=ENTRY_POINT_GROUP)}
    return sorted(installed | set(BUNDLED))


def locate(kind: str) -> EntryPoint:
    """Where the factory for ``kind`` lives, without importing it.

    Raises :class:`ConnectorLoadError` when no package declares ``kind``, or when two
    installed packages declare it differently (which one would win is an accident of
    ``sys.path``, so neither is chosen).
    """
    if kind in BUNDLED:
        return EntryPoint(name=kind, value=BUNDLED[kind], group=ENTRY_POINT_GROUP)
    declared = {
        entry_point.value: entry_point
        for entry_point in entry_points(group=ENTRY_POINT_GROUP, name=kind)
    }
    if not declared:
        raise ConnectorLoadError(
            f"no connector of kind {kind!r}: not bundled, and no installed package declares "
            f"it in the {ENTRY_POINT_GROUP!r} entry-point group",
            connector=kind,
        )
    if len(declared) > 1:
        raise ConnectorLoadError(
            f"connector kind {kind!r} is declared by several installed packages "
            f"({', '.join(sorted(declared))}); uninstall all but one",
            connector=kind,
        )
    return next(iter(declared.values()))


def find_factory(kind: str) -> ConnectorFactory:
    """Return the factory for ``kind``: bundled first, then installed entry points."""
    entry_point = locate(kind)
    try:
        return cast(ConnectorFactory, entry_point.load())
    except Exception as exc:  # a broken plug-in must not take the gateway down
        raise ConnectorLoadError(
            f"connector kind {kind!r} could not be loaded from {entry_point.value}: "
            f"{type(exc).__name__}: {exc}",
            connector=kind,
        ) from exc


def build_connector(kind: str, name: str, settings: Mapping[str, Any]) -> Connector:
    """Make the connector ``name`` of ``kind`` from its settings.

    A factory must raise :class:`ConnectorConfigError` for bad settings; any other
    exception it raises is turned into one, naming only the exception's type, since its
    message may quote a setting (a key) and this error is logged.
    """
    factory = find_factory(kind)
    try:
        connector = factory(name, settings)
    except ConnectorError:
        raise
    except Exception as exc:
        raise ConnectorConfigError(
            f"connector {name!r} of kind {kind!r} could not be made from its settings: its "
            f"factory raised {type(exc).__name__} (a connector should raise "
            "ConnectorConfigError naming the setting)",
            connector=name,
        ) from exc
    missing = [member for member in _MEMBERS if not hasattr(connector, member)]
    if missing:
        raise ConnectorLoadError(
            f"connector kind {kind!r} made a {type(connector).__name__}, which is not a "
            f"connector: it lacks {', '.join(missing)}",
            connector=kind,
        )
    return connector
