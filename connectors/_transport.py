"""The one place where httpx's exceptions become ours.

Connectors never catch httpx errors: they build requests and parse responses. The core sends
through :func:`exchange`, which tells apart a request that never left (safe to retry
anywhere) from one that may have reached the wallet (its outcome is unknown).
"""

from __future__ import annotations

import asyncio

import httpx

from connectors._errors import WalletTimeout, WalletUnreachable

__all__ = ["exchange"]


async def exchange(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    connector: str,
    deadline: float | None = None,
) -> httpx.Response:
    """Send ``request`` and read the whole response, mapping transport failures.

    Raises :class:`WalletUnreachable` when no connection was made (the request never
    left) and :class:`WalletTimeout` for anything after that point, including the
    ``deadline`` (seconds) for the whole exchange running out: httpx's own timeouts bound
    each phase, not a response that trickles in.
    """
    try:
        async with asyncio.timeout(deadline):
            return await client.send(request)
    except TimeoutError as exc:
        raise WalletTimeout(
            f"no complete answer from {request.url.host} within {deadline} s", connector=connector
        ) from exc
    except (
        httpx.ConnectError,
        httpx.ConnectTimeout,
        httpx.PoolTimeout,
        httpx.UnsupportedProtocol,
    ) as exc:
        # No byte of the request was written: the wallet cannot have seen it.
        raise WalletUnreachable(
            f"could not connect to {request.url.host}: {type(exc).__name__}", connector=connector
        ) from exc
    except httpx.TransportError as exc:
        # Read timeouts, resets and protocol errors after the request was (perhaps) written.
        raise WalletTimeout(
            f"no complete answer from {request.url.host}: {type(exc).__name__}",
            connector=connector,
        ) from exc
