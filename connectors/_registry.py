"""Where connectors are found: the bundled ones, then the ``causeway.connectors`` entry points.

A third-party connector is a package with an entry point in the ``causeway.connectors``
group; installing it and naming its ``kind`` in a route of the configuration is all it takes.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any, cast

from connectors._contract import Connector, ConnectorFactory
from connectors._errors import ConnectorLoadError

__all__ = ["BUNDLED", "build_connector", "find_factory"]

ENTRY_POINT_GROUP = "causeway.connectors"

#: Bundled connectors by kind, as "module:attribute" so that importing the registry
#: imports no connector.
BUNDLED: Mapping[str, str] = {
    "alipayplus": "connectors.alipayplus:AlipayPlusConnector",
}


def _load(target: str, kind: str) -> ConnectorFactory:
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
        return cast(ConnectorFactory, getattr(module, attribute))
    except (ImportError, AttributeError) as exc:
        raise ConnectorLoadError(
            f"connector kind {kind!r} ({target}) could not be loaded: {exc}", connector=kind
        ) from exc


def find_factory(kind: str) -> ConnectorFactory:
    """Return the factory for ``kind``: bundled first, then installed entry points."""
    if kind in BUNDLED:
        return _load(BUNDLED[kind], kind)
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name == kind:
            try:
                return cast(ConnectorFactory, entry_point.load())
            except Exception as exc:  # a broken plug-in must not take the gateway down
                raise ConnectorLoadError(
                    f"connector kind {kind!r} failed to load from {entry_point.value}: {exc}",
                    connector=kind,
                ) from exc
    raise ConnectorLoadError(
        f"no connector of kind {kind!r}: not bundled, and no package declares it in the "
        f"{ENTRY_POINT_GROUP!r} entry-point group",
        connector=kind,
    )


def build_connector(kind: str, name: str, settings: Mapping[str, Any]) -> Connector:
    """Make the connector ``name`` of ``kind`` from its settings."""
    return find_factory(kind)(name, settings)
