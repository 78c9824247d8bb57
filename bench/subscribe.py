"""Changing a stream's filters: a `subscribe` frame on the open WebSocket, beside the reference,
closing the socket and opening a new one with the new query parameters from the last cursor
(what the dashboard did before the frame existed).

One gateway process, 10,000 records on the topic (all in its ring), a client at the live end;
then, alternating in the same run, ROUNDS of each: the time from sending the subscribe (from
starting the new connection) until the new filter is in force and replay has reached the live
end (`subscribed` then `caught_up`; `welcome` then `caught_up`). Filters alternate between two
tickers, so each change replays nothing new: what is measured is the change itself.

Usage: python -m bench.subscribe [--rounds N] [log dir]   (the local infrastructure's settings
from the environment, as `sec-digester infra up` prints them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

from bench._setup import local_topics, print_header
from tests.support.gateway import GatewayProcess, publish_analyses
from tests.support.infra import provision
from tests.support.records import sample_analysis

_RECORDS = 10_000
_TICKERS = ("JPM", "AAPL")


async def _until(ws: ClientConnection, kind: str) -> dict[str, object]:
    while True:
        frame: dict[str, object] = json.loads(await ws.recv())
        if frame["type"] == kind:
            return frame


async def _subscribes(url: str, rounds: int) -> list[float]:
    took = []
    async with connect(f"{url}?from=latest&tickers=JPM") as ws:
        await _until(ws, "caught_up")
        for n in range(rounds):
            start = time.perf_counter()
            await ws.send(json.dumps({"type": "subscribe", "tickers": [_TICKERS[n % 2]]}))
            await _until(ws, "subscribed")
            await _until(ws, "caught_up")
            took.append(time.perf_counter() - start)
    return took


async def _reconnections(url: str, rounds: int) -> list[float]:
    took = []
    ws = await connect(f"{url}?from=latest&tickers=JPM")
    cursor = str((await _until(ws, "caught_up"))["cursor"])
    for n in range(rounds):
        start = time.perf_counter()
        await ws.close()
        ws = await connect(f"{url}?from={cursor}&tickers={_TICKERS[n % 2]}")
        await _until(ws, "welcome")
        cursor = str((await _until(ws, "caught_up"))["cursor"])
        took.append(time.perf_counter() - start)
    await ws.close()
    return took


def _summary(label: str, took: list[float]) -> str:
    ms = sorted(t * 1000 for t in took)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"   {label:<34} p50 {statistics.median(ms):7.2f} ms   p95 {p95:7.2f} ms"


async def main(rounds: int, log_dir: Path) -> None:
    print_header("changing filters: subscribe frame vs reconnecting", "python -m bench.subscribe")
    topics = local_topics()
    await provision(topics)
    records = [sample_analysis(n, ticker=("JPM", "AAPL", "MSFT")[n % 3]) for n in range(_RECORDS)]
    await publish_analyses(topics, records)
    with GatewayProcess(topics, log_dir) as gateway:
        subscribed: list[float] = []
        reconnected: list[float] = []
        for _ in range(5):  # interleaved, so drift on the shared machine hits both alike
            subscribed += await _subscribes(gateway.ws_url, rounds // 5)
            reconnected += await _reconnections(gateway.ws_url, rounds // 5)
    print(_summary("subscribe frame (open socket)", subscribed))
    print(_summary("reference: close and reconnect", reconnected))
    ratio = statistics.median(subscribed) / statistics.median(reconnected)
    print(f"   p50 ratio subscribe / reconnect: {ratio:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("log_dir", nargs="?", type=Path)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.log_dir or Path(tempfile.mkdtemp(prefix="bench-"))))
