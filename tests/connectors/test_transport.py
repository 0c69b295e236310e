"""``connectors.exchange``: the one place transport failures become ours."""

from __future__ import annotations

import asyncio
import gzip

import httpx
import pytest
import respx

from connectors import WalletTimeout, WalletTransportError, WalletUnreachable, exchange
from connectors._transport import AiohttpTransport

pytestmark = pytest.mark.anyio

URL = "http://wallet.test/aps/api/v1/payments/pay"


async def send_through(side_effect: type[Exception] | httpx.Response) -> httpx.Response:
    with respx.mock(assert_all_called=True) as router:
        router.post(URL).mock(
            return_value=side_effect if isinstance(side_effect, httpx.Response) else None,
            side_effect=None if isinstance(side_effect, httpx.Response) else side_effect,
        )
        async with httpx.AsyncClient() as client:
            return await exchange(client, httpx.Request("POST", URL, content=b"{}"), connector="kr")


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
async def test_a_request_that_never_left_is_unreachable(failure: type[Exception]) -> None:
    with pytest.raises(WalletUnreachable) as caught:
        await send_through(failure)
    assert caught.value.may_have_arrived is False
    assert caught.value.connector == "kr"
    assert isinstance(caught.value.__cause__, failure)


@pytest.mark.parametrize(
    "failure",
    [httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError, httpx.RemoteProtocolError],
)
async def test_a_request_that_may_have_arrived_is_a_timeout(failure: type[Exception]) -> None:
    with pytest.raises(WalletTimeout) as caught:
        await send_through(failure)
    assert caught.value.may_have_arrived is True
    assert isinstance(caught.value, WalletTransportError)
    assert isinstance(caught.value.__cause__, failure)


async def test_an_answer_passes_through_whatever_its_status() -> None:
    response = await send_through(httpx.Response(503, content=b"busy"))
    assert response.status_code == 503
    assert response.content == b"busy"


# -- the aiohttp transport, against a real socket ------------------------------------------


class Wallet:
    """A TCP server that reads one HTTP request per connection and then does ``behaviour``:
    ``answer`` (a gzip-compressed 200), ``hang`` (never answers) or ``drop`` (closes)."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.received: list[bytes] = []
        self.arrived = asyncio.Event()
        self._closing = asyncio.Event()
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        self.received.append(head + await reader.readexactly(length))
        self.arrived.set()
        if self.behaviour == "hang":
            await self._closing.wait()
        elif self.behaviour == "answer":
            body = gzip.compress(b'{"result":"ok"}')
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Encoding: gzip\r\nSignature: algorithm=RSA256,signature=x\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        writer.close()

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/aps/api/v1/payments/pay"

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._closing.set()
        self._server.close()
        for writer in self._writers:
            writer.close()
        await asyncio.sleep(0.01)  # let the handlers finish


def aiohttp_client(*, limit: int = 4, timeout: float = 5.0, pool: float = 5.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=AiohttpTransport(limit=limit),
        timeout=httpx.Timeout(timeout, pool=pool),
    )


async def test_the_aiohttp_transport_sends_the_request_and_reads_the_answer() -> None:
    wallet = Wallet("answer")
    async with wallet as url, aiohttp_client() as client:
        request = httpx.Request("POST", url, content=b'{"a":1}', headers={"Client-Id": "HUB"})
        response = await exchange(client, request, connector="kr")

    assert response.status_code == 200
    assert response.json() == {"result": "ok"}  # decoded once, by httpx
    assert response.headers["signature"] == "algorithm=RSA256,signature=x"
    (sent,) = wallet.received
    assert sent.startswith(b"POST /aps/api/v1/payments/pay HTTP/1.1\r\n")
    assert b"\r\nClient-Id: HUB\r\n" in sent.replace(b"client-id", b"Client-Id")
    assert sent.endswith(b'\r\n\r\n{"a":1}')


async def test_the_aiohttp_transport_reports_a_refused_connection_as_unreachable() -> None:
    async with aiohttp_client() as client:
        request = httpx.Request("POST", "http://127.0.0.1:9/pay", content=b"{}")
        with pytest.raises(WalletUnreachable) as caught:
            await exchange(client, request, connector="kr")
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


@pytest.mark.parametrize(
    ("behaviour", "cause"), [("drop", httpx.ReadError), ("hang", httpx.ReadTimeout)]
)
async def test_the_aiohttp_transport_reports_a_sent_request_as_unknown(
    behaviour: str, cause: type[Exception]
) -> None:
    wallet = Wallet(behaviour)
    async with wallet as url, aiohttp_client(timeout=0.3) as client:
        with pytest.raises(WalletTimeout) as caught:
            await exchange(client, httpx.Request("POST", url, content=b"{}"), connector="kr")

    assert caught.value.may_have_arrived is True
    assert isinstance(caught.value.__cause__, cause)
    assert len(wallet.received) == 1


async def test_the_aiohttp_transport_reports_a_full_pool_as_unreachable() -> None:
    wallet = Wallet("hang")
    async with wallet as url, aiohttp_client(limit=1, timeout=5.0, pool=0.2) as client:
        first = asyncio.create_task(
            exchange(client, httpx.Request("POST", url, content=b"{}"), connector="kr")
        )
        await wallet.arrived.wait()

        with pytest.raises(WalletUnreachable) as caught:
            await exchange(client, httpx.Request("POST", url, content=b"{}"), connector="kr")

        first.cancel()
    assert isinstance(caught.value.__cause__, httpx.ConnectTimeout)
    assert len(wallet.received) == 1  # the second never left
