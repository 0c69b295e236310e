"""``connectors.exchange``: the one place transport failures become ours."""

from __future__ import annotations

import httpx
import pytest
import respx

from connectors import WalletTimeout, WalletTransportError, WalletUnreachable, exchange

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
