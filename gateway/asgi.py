"""The gateway as a zero-argument ASGI app factory, for process managers.

``uvicorn --factory gateway.asgi:app --workers 4`` starts N gateway processes sharing one
port; each reads the configuration from the environment (``CAUSEWAY_CONFIG``,
``CAUSEWAY_STATE_DIR``, ``CAUSEWAY_DATABASE_URL``, ``CAUSEWAY_REDIS_URL``; see
:mod:`gateway.config`) when uvicorn calls the factory, never at import. Workers starting
together on PostgreSQL take turns at the migrations (an advisory lock), so the later ones
find the schema at its head; running ``causeway migrate`` first keeps a long upgrade out
of the workers' start-up.
"""

from __future__ import annotations

from starlette.applications import Starlette

from gateway.api import create_app
from gateway.config import load_settings

__all__ = ["app"]


def app() -> Starlette:
    """The acquiring API, configured from the environment."""
    return create_app(load_settings())
