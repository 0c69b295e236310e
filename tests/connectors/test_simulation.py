"""``connectors.simulation``: the faults and the control API every simulator serves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse

from connectors.simulation import DroppedResponse, Faults, RandomFaults, control_routes

pytestmark = pytest.mark.anyio

BAD_FAULTS = [
    b'{"latency_seconds": -1}',
    b'{"latency_seconds": true}',
    b'{"latency_seconds": "1"}',
    b'{"latency_seconds": NaN}',
    b'{"latency_seconds": Infinity}',
    b'{"unknown_status": 1}',
    b'{"latency": 1}',
    b"[1]",
    b"not json",
]


class _Books:
    def __init__(self) -> None:
        self.pay_requests = 3
        self.charges = 2
        self.ledger: list[dict[str, Any]] = [{"kind": "pay", "amount": 100}]
        self.settled = 0

    def settle(self) -> None:
        self.settled += 1


def _app(books: _Books, faults: Faults, answer: Literal["in force", "set"]) -> Starlette:
    return Starlette(
        routes=control_routes(
            faults,
            stats=lambda: {"pay_requests": books.pay_requests, "charges": books.charges},
            ledger=lambda: books.ledger,
            views={"accounts": lambda: [{"id": "A-1", "balance": 5}]},
            settle=books.settle,
            answer=answer,
        )
    )


@pytest.fixture
def books() -> _Books:
    return _Books()


@pytest.fixture
def faults() -> Faults:
    return Faults()


@pytest.fixture(params=["in force", "set"])
async def client(
    request: pytest.FixtureRequest, books: _Books, faults: Faults
) -> AsyncIterator[httpx.AsyncClient]:
    app = _app(books, faults, request.param)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim.test") as client:
        yield client


async def test_the_views_are_read_after_settling(client: httpx.AsyncClient, books: _Books) -> None:
    assert (await client.get("/_sim/stats")).json() == {"pay_requests": 3, "charges": 2}
    assert (await client.get("/_sim/ledger")).json() == [{"kind": "pay", "amount": 100}]
    assert (await client.get("/_sim/accounts")).json() == [{"id": "A-1", "balance": 5}]
    assert books.settled == 3
    assert (await client.get("/_sim/callbacks")).status_code == 404


async def test_faults_answer_all_in_force_by_default(books: _Books, faults: Faults) -> None:
    app = _app(books, faults, "in force")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sim.test"
    ) as client:
        changed = await client.post("/_sim/faults", json={"latency_seconds": 0.25})
        assert changed.json() == {"latency_seconds": 0.25, "unknown_status": False}
        both = await client.post("/_sim/faults", json={"unknown_status": True})
        assert both.json() == {"latency_seconds": 0.25, "unknown_status": True}
        assert (await client.post("/_sim/faults", json={})).json() == both.json()
    assert faults == Faults(latency_seconds=0.25, unknown_status=True)


async def test_faults_can_answer_only_what_was_set(books: _Books, faults: Faults) -> None:
    app = _app(books, faults, "set")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sim.test"
    ) as client:
        changed = await client.post("/_sim/faults", json={"latency_seconds": 1})
        assert changed.json() == {"latency_seconds": 1.0}
        empty = await client.post("/_sim/faults", json={})
        assert empty.status_code == 400
        assert empty.json() == {"error": "the body must name at least one fault"}
    assert faults == Faults(latency_seconds=1.0)


@pytest.mark.parametrize("body", BAD_FAULTS)
async def test_bad_faults_are_refused_and_change_nothing(
    client: httpx.AsyncClient, faults: Faults, body: bytes
) -> None:
    faults.update({"latency_seconds": 0.5})
    refused = await client.post("/_sim/faults", content=body)
    assert refused.status_code == 400
    assert refused.json()["error"]
    assert faults == Faults(latency_seconds=0.5)


@pytest.mark.parametrize(
    ("wanted", "message"),
    [
        ([1], "expected an object"),
        ({"jitter": 1, "latency_seconds": 1}, r"unknown faults: \['jitter'\]"),
        ({"latency_seconds": -0.5}, "finite number >= 0"),
        ({"unknown_status": "yes"}, "true or false"),
    ],
)
def test_update_says_what_is_wrong(wanted: object, message: str) -> None:
    faults = Faults(unknown_status=True)
    with pytest.raises(ValueError, match=message):
        faults.update(wanted)
    assert faults == Faults(unknown_status=True)


def test_update_returns_what_it_set() -> None:
    faults = Faults()
    assert faults.update({"unknown_status": True}) == {"unknown_status": True}
    assert faults.update({"latency_seconds": 2}) == {"latency_seconds": 2.0}
    assert faults.to_json() == {"latency_seconds": 2.0, "unknown_status": True}


async def test_delay_returns_at_once_without_latency() -> None:
    await Faults().delay()  # no latency: nothing to wait for (a hang would time the test out)


# -- random faults (the chaos run's) -------------------------------------------------------


@pytest.mark.parametrize(
    ("wanted", "message"),
    [
        ({"error_rate": 1.5}, "error_rate must be a number from 0 to 1"),
        ({"drop_rate": -0.1}, "drop_rate must be a number from 0 to 1"),
        ({"reject_rate": True}, "reject_rate must be a number from 0 to 1"),
        ({"slow_rate": float("nan")}, "slow_rate must be a number from 0 to 1"),
        ({"slow_seconds": -1}, "slow_seconds must be a finite number >= 0"),
        ({"seed": 1.5}, "seed must be an integer or null"),
        ({"error_rate": 0.5, "latency_seconds": -1}, "latency_seconds"),
    ],
)
def test_random_faults_say_what_is_wrong_and_change_nothing(
    wanted: dict[str, object], message: str
) -> None:
    faults = RandomFaults(error_rate=0.25)
    with pytest.raises(ValueError, match=message):
        faults.update(wanted)
    assert faults.error_rate == 0.25
    assert faults.latency_seconds == 0.0


def test_plain_faults_know_nothing_of_random_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown faults: \['error_rate'\]"):
        Faults().update({"error_rate": 0.5})
    assert set(RandomFaults().to_json()) > set(Faults().to_json())


async def _outcomes(faults: RandomFaults, calls: int) -> list[str]:
    seen = []
    for _ in range(calls):
        if faults.refuse() is not None:
            seen.append("refused")
            continue
        answer = await faults.deliver(JSONResponse({"ok": True}))
        seen.append("dropped" if isinstance(answer, DroppedResponse) else str(answer.status_code))
    return seen


async def test_a_seed_replays_the_same_faults() -> None:
    rates = {"reject_rate": 0.3, "error_rate": 0.3, "drop_rate": 0.3, "seed": 42}
    first, second = RandomFaults(), RandomFaults()
    first.update(rates)
    second.update(rates)
    one, two = await _outcomes(first, 60), await _outcomes(second, 60)
    assert one == two
    assert {"refused", "500", "dropped", "200"} <= set(one)
    assert first.struck["reject"] == one.count("refused")
    assert first.struck["error"] == one.count("500")
    assert first.struck["drop"] == one.count("dropped")
    first.update({"seed": 42})  # setting the seed again restarts the sequence
    assert await _outcomes(first, 60) == one


async def test_without_rates_nothing_strikes() -> None:
    faults = RandomFaults(seed=3)
    assert await _outcomes(faults, 50) == ["200"] * 50
    assert sum(faults.struck.values()) == 0
