"""The gateway as a zero-argument ASGI app factory, for process managers.

``uvicorn --factory gateway.asgi:app --workers 4`` starts N gateway processes sharing one
port; each reads the configuration from the environment (``CAUSEWAY_CONFIG``,
``CAUSEWAY_STATE_DIR``, ``CAUSEWAY_DATABASE_URL``, ``CAUSEWAY_REDIS_URL``; see
:mod:`gateway.config`) when uvicorn calls the factory, never at import. Run the migrations
once before starting several workers (``causeway migrate``): workers starting together
would otherwise race to create the schema.
"""

from __future__ import annotations

from starlette.applications import Starlette

from gateway.api import create_app
from gateway.config import load_settings

__all__ = ["app"]


def app() -> Starlette:
    """The acquiring API, configured from the environment."""
    return create_app(load_settings())
