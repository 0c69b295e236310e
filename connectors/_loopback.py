"""An ASGI app served by uvicorn on 127.0.0.1, in the running event loop.

The conformance kit serves simulators this way so that connectors are exercised over real
HTTP (connection handling, timeouts, a response that arrives after the caller gave up),
which ``httpx.ASGITransport`` does not reproduce. ``connectors`` may not import the gateway,
whose ``gateway.local.LocalServer`` does the same for the demo.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.types import ASGIApp

__all__ = ["serve_on_loopback"]

#: How long stopping waits for requests still being answered: a simulator told to be slow
#: keeps answering a request its caller already abandoned.
_GRACE_SECONDS = 3


@asynccontextmanager
async def serve_on_loopback(app: ASGIApp) -> AsyncIterator[str]:
    """Serve ``app`` on a free loopback port until the block ends; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Accepted connections inherit it. Without it every answer stalls ~40 ms: uvicorn
    # writes the headers and the body separately, and Nagle holds the body back until the
    # client's delayed ACK of the headers.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app,
        # The process's logging is its owner's: uvicorn's default would reconfigure it.
        log_config=None,
        log_level="warning",
        access_log=False,
        ws="none",
        timeout_graceful_shutdown=_GRACE_SECONDS,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # re-raises the start-up error
                raise RuntimeError("the simulator's server stopped during start-up")
            await asyncio.sleep(0.005)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()
