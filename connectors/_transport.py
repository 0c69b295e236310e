"""The one place where httpx's exceptions become ours.

Connectors never catch httpx errors: they build requests and parse responses. The core sends
through :func:`exchange`, which tells apart a request that never left (safe to retry
anywhere) from one that may have reached the wallet (its outcome is unknown).

:class:`AiohttpTransport` lets an ``httpx.AsyncClient`` send over aiohttp, whose pool costs
far less CPU per request than httpcore's at a gateway's concurrency (encode/httpx#3215). It
raises httpx's exceptions, drawing the same line: only a failure to connect says the request
never left.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import httpx

from connectors._errors import WalletTimeout, WalletUnreachable

__all__ = ["AiohttpTransport", "exchange"]


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


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport over an aiohttp session, for the wallet clients.

    ``limit`` bounds the connections (all kept alive for ``keepalive`` seconds); httpx's
    timeouts on each request become aiohttp's: ``pool`` for getting a connection (waiting
    for a free one included), ``connect`` for opening one, ``read`` between bytes of the
    answer. The session is made on the first request, inside the event loop.
    """

    def __init__(self, *, limit: int = 64, keepalive: float = 4.0) -> None:
        self._limit = limit
        self._keepalive = keepalive
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._limit, limit_per_host=0, keepalive_timeout=self._keepalive
                ),
                # httpx decodes the body, follows redirects and keeps cookies itself.
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=None),
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        limits: dict[str, Any] = request.extensions.get("timeout", {})
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=limits.get("pool"),
            sock_connect=limits.get("connect"),
            sock_read=limits.get("read"),
        )
        try:
            async with self._open().request(
                request.method,
                str(request.url),
                headers=request.headers.multi_items(),
                data=await request.aread(),
                allow_redirects=False,
                timeout=timeout,
            ) as answer:
                content = await answer.read()
        # Before a connection was had, nothing was written: the request never left.
        except aiohttp.ConnectionTimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc), request=request) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except aiohttp.InvalidURL as exc:
            raise httpx.UnsupportedProtocol(str(exc), request=request) from exc
        # Anything later may have reached the wallet.
        except aiohttp.SocketTimeoutError as exc:
            raise httpx.ReadTimeout(str(exc), request=request) from exc
        except aiohttp.ClientError as exc:
            raise httpx.ReadError(f"{type(exc).__name__}: {exc}", request=request) from exc
        return httpx.Response(
            answer.status,
            headers=answer.raw_headers,
            content=content,
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
