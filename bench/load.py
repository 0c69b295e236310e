"""The load generator: ``python -m bench.load PLAN OUT``, one process per phase.

It signs every payment of the phase before the clock starts (on every core, in worker
processes), prints ``START``, sends them open loop (at a fixed rate, latency measured from
each payment's *scheduled* time so a stalled server cannot hide its queue) or closed loop
(a fixed number of clients sending back to back, to saturation), prints ``END`` and writes
the phase's result as JSON. It uses aiohttp: httpx's pool costs too much CPU at these
rates to leave the client out of the measurement (encode/httpx#3215).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import uvloop

from bench import stage as stages
from bench.stats import summarise
from connectors import RsaSigner, RsaVerifier, signed_content

__all__ = ["Plan", "pay_body"]

_PATH = "/aps/api/v1/payments/pay"
#: Answers whose signature the load generator checks (the first ones): enough to prove the
#: gateway signs correctly without spending the client's CPU on every answer.
_VERIFIED_ANSWERS = 50
#: The gateway's answer to a pay beyond what it takes at once; nothing was stored or sent.
_REFUSED = "U:REQUEST_TRAFFIC_EXCEED_LIMIT"
#: How long a closed-loop client waits after a refusal before its next payment, as an
#: acquirer told to try again would (it would retry the same request id; ours sends the next).
_REFUSED_BACKOFF = 0.05


@dataclass(frozen=True, slots=True)
class Plan:
    """One phase: who is loaded, how, for how long."""

    target: str  # "gateway" or "floor"
    url: str
    mode: str  # "open" or "closed"
    rate: float  # payments per second offered (open loop)
    concurrency: int  # clients (closed loop) or the in-flight cap (open loop)
    duration: float  # seconds
    count: int  # payments signed beforehand: the most the phase can send
    prefix: str  # makes every paymentRequestId of the run unique
    timeout: float = 10.0


def pay_body(request_id: str, code: str) -> dict[str, Any]:
    """A user-presented-code payment of THB 10.00 at a Bangkok merchant."""
    amount = {"currency": "THB", "value": "1000"}
    return {
        "paymentRequestId": request_id,
        "paymentAmount": amount,
        "order": {
            "referenceOrderId": f"ORD-{request_id}",
            "orderDescription": "Bench purchase",
            "orderAmount": amount,
            "merchant": {
                "referenceMerchantId": "TH-BENCH-0001",
                "merchantMCC": "5812",
                "merchantName": "Bench Cafe, Bangkok",
                "merchantAddress": {"region": "TH"},
                "store": {"referenceStoreId": "TH-BENCH-0001-01", "storeName": "Bench Cafe"},
            },
        },
        "paymentMethod": {"paymentMethodType": "CONNECT_WALLET", "paymentMethodId": code},
        "paymentFactor": {"isInStorePayment": "true", "inStorePaymentScenario": "PaymentCode"},
    }


Signed = tuple[bytes, dict[str, str]]


def _sign_range(
    key_file: str, prefix: str, codes: tuple[str, ...], start: int, stop: int
) -> list[Signed]:
    signer = RsaSigner(Path(key_file).read_bytes())
    signed: list[Signed] = []
    for i in range(start, stop):
        body = json.dumps(
            pay_body(f"{prefix}{i:08d}", codes[i % len(codes)]), separators=(",", ":")
        ).encode()
        moment = datetime.now(UTC).isoformat(timespec="seconds")
        content = signed_content("POST", _PATH, stages.ACQUIRER, moment, body)
        headers = {
            "Content-Type": "application/json; charset=UTF-8",
            "Client-Id": stages.ACQUIRER,
            "Request-Time": moment,
            "Signature": signer.header(content),
        }
        signed.append((body, headers))
    return signed


def presign(stage: stages.Stage, plan: Plan) -> list[Signed]:
    """Every payment of the phase, signed, using every core."""
    key = str(stage.keys / f"acquirer-{stages.ACQUIRER}.pem")
    workers = os.cpu_count() or 1
    step = -(-plan.count // workers)
    with ProcessPoolExecutor(workers) as pool:
        parts = [
            pool.submit(
                _sign_range, key, plan.prefix, stage.payment_codes, lo, min(lo + step, plan.count)
            )
            for lo in range(0, plan.count, step)
        ]
        return [request for part in parts for request in part.result()]


class Recorder:
    """Outcomes and latencies of one phase."""

    def __init__(self, verifier: RsaVerifier) -> None:
        self.outcomes: Counter[str] = Counter()
        self.latencies_ms: list[float] = []
        self.refused_ms: list[float] = []
        self.completions: list[float] = []  # loop time of each success
        self.bad_signatures = 0
        self._verifier = verifier
        self._verified = 0

    def record(self, status: int, raw: bytes, headers: Any, began: float, done: float) -> str:
        """Count one answer; its outcome (``S``, ``U:<resultCode>``, ``http:<status>``…)."""
        if status != 200:
            self.outcomes[f"http:{status}"] += 1
            return f"http:{status}"
        if self._verified < _VERIFIED_ANSWERS:
            self._verified += 1
            content = signed_content(
                "POST",
                _PATH,
                headers.get("client-id", ""),
                headers.get("response-time", ""),
                raw,
            )
            if not self._verifier.verify(content, headers.get("signature", "")):
                self.bad_signatures += 1
        result = json.loads(raw)["result"]
        outcome = (
            "S"
            if result["resultStatus"] == "S"
            else f"{result['resultStatus']}:{result['resultCode']}"
        )
        self.outcomes[outcome] += 1
        if outcome == "S":
            self.latencies_ms.append((done - began) * 1000)
            self.completions.append(done)
        elif outcome == _REFUSED:
            self.refused_ms.append((done - began) * 1000)
        return outcome


async def _send(
    session: aiohttp.ClientSession, plan: Plan, request: Signed, began: float, recorder: Recorder
) -> str:
    loop = asyncio.get_running_loop()
    body, headers = request
    try:
        async with session.post(plan.url + _PATH, data=body, headers=headers) as response:
            raw = await response.read()
            return recorder.record(response.status, raw, response.headers, began, loop.time())
    except TimeoutError:
        outcome = "error:timeout"
    except aiohttp.ClientError as exc:
        outcome = f"error:{type(exc).__name__}"
    recorder.outcomes[outcome] += 1
    return outcome


async def _open_loop(
    session: aiohttp.ClientSession, plan: Plan, requests: list[Signed], recorder: Recorder
) -> float:
    loop = asyncio.get_running_loop()
    total = min(len(requests), int(plan.rate * plan.duration))
    in_flight: set[asyncio.Task[str]] = set()
    start = loop.time()
    for i in range(total):
        due = start + i / plan.rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(in_flight) >= plan.concurrency:
            # The server is this far behind: count the payment as refused, not queued,
            # so the loop's own memory stays bounded.
            recorder.outcomes["error:client-backlog"] += 1
            continue
        task = asyncio.create_task(_send(session, plan, requests[i], due, recorder))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        await asyncio.wait(in_flight, timeout=plan.timeout + 1)
    return start


async def _closed_loop(
    session: aiohttp.ClientSession, plan: Plan, requests: list[Signed], recorder: Recorder
) -> float:
    loop = asyncio.get_running_loop()
    start = loop.time()
    end = start + plan.duration
    queue = iter(requests)

    async def client() -> None:
        while loop.time() < end:
            request = next(queue, None)
            if request is None:
                recorder.outcomes["error:presigned-exhausted"] += 1
                return
            if await _send(session, plan, request, loop.time(), recorder) == _REFUSED:
                await asyncio.sleep(_REFUSED_BACKOFF)

    await asyncio.wait_for(
        asyncio.gather(*(client() for _ in range(plan.concurrency))),
        timeout=plan.duration + plan.timeout + 1,
    )
    return start


async def run(stage: stages.Stage, plan: Plan, requests: list[Signed]) -> dict[str, Any]:
    recorder = Recorder(RsaVerifier((stage.keys / "hub.pub.pem").read_bytes()))
    connector = aiohttp.TCPConnector(limit=plan.concurrency, limit_per_host=0)
    timeout = aiohttp.ClientTimeout(total=plan.timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        print("START", flush=True)
        wall = time.time()
        if plan.mode == "open":
            start = await _open_loop(session, plan, requests, recorder)
        else:
            start = await _closed_loop(session, plan, requests, recorder)
        last = recorder.completions[-1] if recorder.completions else start + plan.duration
        elapsed = max(last - start, 1e-9)
        print("END", flush=True)
    seconds = Counter(int(t - start) for t in recorder.completions)
    per_second = [seconds.get(s, 0) for s in range(int(plan.duration))]
    ok = recorder.outcomes["S"]
    return {
        "plan": asdict(plan),
        "started_at": datetime.fromtimestamp(wall, UTC).isoformat(timespec="seconds"),
        "elapsed_seconds": round(elapsed, 3),
        "sent": sum(recorder.outcomes.values()),
        "succeeded": ok,
        "payments_per_second": round(ok / elapsed, 1),
        "outcomes": dict(recorder.outcomes),
        "refused": recorder.outcomes[_REFUSED],
        "errors": sum(
            n for outcome, n in recorder.outcomes.items() if outcome not in ("S", _REFUSED)
        ),
        "bad_signatures": recorder.bad_signatures,
        "latency_ms": summarise(recorder.latencies_ms).to_json(),
        "refused_latency_ms": summarise(recorder.refused_ms).to_json(),
        "per_second": per_second,
    }


def main(argv: list[str]) -> int:
    plan = Plan(**json.loads(Path(argv[0]).read_text()))
    stage = stages.load()
    requests = presign(stage, plan)
    result = uvloop.run(run(stage, plan, requests))
    Path(argv[1]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
