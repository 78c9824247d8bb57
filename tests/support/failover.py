"""Gateways behind HAProxy, one of them killed mid-stream: the scenario of the failover test
(tests/integration/test_gateway_failover.py) and of `python -m bench.failover`.

Three `sec-digester gateway` processes (each its own port and filings store, each feeding it,
as replicas with SQLite stores do) behind HAProxy with the deployment's configuration
(deploy/haproxy/haproxy.cfg). Clients, asyncio WebSockets in this process, connect through it;
a third of them are durable (`client_id`, acknowledging each record once handled, resuming
with `from=committed`), the others resume from the cursor of the last frame they had. Records
are put on the analyzed topic in batches; halfway, one gateway is killed with SIGKILL. Every
client reconnects through the balancer, and the time from its connection dropping to the first
frame (the welcome) on the new one is its reconnect time.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, WebSocketException

from services.common.settings import CommonSettings
from tests.support.gateway import AnalysesPublisher, GatewayProcess, running_gateways
from tests.support.haproxy import SERVERS, HaproxyProcess
from tests.support.records import sample_analysis

# Reconnecting: at once (spread over the first 50 ms), then doubling up to 2 s, with full
# jitter: the clients of a dead gateway must not come back in one wave each time.
_FIRST_RETRY_S = 0.05
_MAX_RETRY_S = 2.0


@dataclass
class FailoverClient:
    index: int
    base_url: str
    durable: bool
    expected: int
    cursor: str | None = None  # after the last frame received
    acked: str | None = None  # the last cursor acknowledged (durable)
    handled: list[str] = field(default_factory=list)  # accessions, first time each
    offsets: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    redelivered: int = 0
    connections: int = 0
    reconnect_s: list[float] = field(default_factory=list)
    first_connect_s: float | None = None  # from the first attempt to the first welcome
    dropped_at: list[float] = field(default_factory=list)  # when each connection was lost
    welcomed: asyncio.Event = field(default_factory=asyncio.Event)
    state: str = "new"
    trace: list[str] = field(default_factory=list)

    @property
    def client_id(self) -> str:
        return f"failover-{self.index}"

    def _url(self) -> str:
        if self.durable:  # from=committed (the default with a client_id)
            return f"{self.base_url}?client_id={self.client_id}"
        return f"{self.base_url}?from={self.cursor or 'latest'}"

    async def run(self) -> None:
        seen: set[str] = set()
        dropped_at: float | None = None
        attempt = 0
        began = time.monotonic()
        while len(seen) < self.expected:
            try:
                async with connect(self._url(), compression=None, open_timeout=20) as ws:
                    welcome = orjson.loads(await ws.recv())
                    if self.first_connect_s is None:
                        self.first_connect_s = time.monotonic() - began
                    elif dropped_at is not None:
                        self.reconnect_s.append(time.monotonic() - dropped_at)
                    dropped_at = None
                    attempt = 0
                    self.connections += 1
                    assert welcome["type"] == "welcome", welcome
                    self.state = "recv"
                    self.cursor = welcome["from"]
                    self.trace.append(f"welcome {self.cursor}")
                    if self.durable:  # as the client library does: the start is handled
                        await ws.send(f'{{"type":"ack","cursor":"{self.cursor}"}}')
                    self.welcomed.set()
                    async for message in ws:
                        frame = orjson.loads(message)
                        if frame["type"] == "filing":
                            self.trace.append(f"{frame['partition']}:{frame['offset']}")
                        else:
                            self.trace.append(f"{frame['type']} {frame.get('cursor')}")
                        if frame["type"] == "filing":
                            accession = frame["data"]["filing"]["accession_number"]
                            if accession in seen:
                                self.redelivered += 1
                            else:
                                seen.add(accession)
                                self.handled.append(accession)
                                self.offsets[frame["partition"]].append(frame["offset"])
                        if "cursor" in frame:
                            self.cursor = frame["cursor"]
                            if self.durable and frame["type"] == "filing":
                                self.state = "send"
                                await ws.send(f'{{"type":"ack","cursor":"{self.cursor}"}}')
                                self.acked = self.cursor
                                self.state = "recv"
                        if len(seen) == self.expected:
                            break
            except (OSError, TimeoutError, InvalidHandshake, WebSocketException) as exc:
                self.state = f"lost: {exc!r}"
                if dropped_at is None:
                    dropped_at = time.monotonic()
                    self.dropped_at.append(dropped_at)
                await asyncio.sleep(
                    random.uniform(0, min(_MAX_RETRY_S, _FIRST_RETRY_S * 2**attempt))
                )
                attempt += 1


@dataclass
class FailoverResult:
    clients: list[FailoverClient]
    accessions: list[str]  # every record published, in order
    killed: str  # the gateway killed
    killed_at: float  # when (time.monotonic())
    stream_s: float  # from the first batch to the last client done
    load: tuple[float, float, float]  # /proc/loadavg when the clients were done
    # How late this process's event loop woke up, every 50 ms of the stream: the clients share
    # it, so a reconnect time includes this much of waiting for the loop.
    loop_lag_s: list[float]

    def reconnects(self, durable: bool | None = None) -> list[float]:
        """Reconnect times in seconds, shortest first: of every client, or durable or not."""
        return sorted(
            s for c in self.clients if durable in (None, c.durable) for s in c.reconnect_s
        )

    def first_connects(self) -> list[float]:
        """Each client's first connection (all opened at once), the reference: what a wave of
        connections through the balancer costs with every gateway up."""
        return sorted(c.first_connect_s for c in self.clients if c.first_connect_s is not None)

    def summary(self) -> str:
        def ms(times: Sequence[float], fraction: float) -> str:
            return f"{_at(times, fraction) * 1000:.0f} ms"

        times, durable, cursor = self.reconnects(), self.reconnects(True), self.reconnects(False)
        noticed = sorted(t - self.killed_at for c in self.clients for t in c.dropped_at)
        first = self.first_connects()
        lags = sorted(self.loop_lag_s)
        return (
            f"{len(self.clients)} clients ({sum(c.durable for c in self.clients)} durable) "
            f"through HAProxy to {SERVERS} gateways, {len(self.accessions)} records, "
            f"{self.killed} killed (SIGKILL) mid-stream: {len(times)} reconnects, reconnect time "
            f"p50 {ms(times, 0.5)}, p99 {ms(times, 0.99)}, max {ms(times, 1)} (durable p50 "
            f"{ms(durable, 0.5)}, p99 {ms(durable, 0.99)}; from a cursor p50 {ms(cursor, 0.5)}, "
            f"p99 {ms(cursor, 0.99)}); drops noticed p50 {ms(noticed, 0.5)}, p99 "
            f"{ms(noticed, 0.99)} after the kill; reference, the first connection of every "
            f"client, all at once: p50 {ms(first, 0.5)}, p99 {ms(first, 0.99)}; redelivered to "
            f"durable clients "
            f"{sum(c.redelivered for c in self.clients)}; stream {self.stream_s:.1f} s; the "
            f"clients' event loop late by p50 {ms(lags, 0.5)}, p99 {ms(lags, 0.99)}; load "
            f"average {self.load[0]:.2f} {self.load[1]:.2f} {self.load[2]:.2f}"
        )


def _at(ordered: Sequence[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


class LoopLag:
    """How late the event loop wakes a task that sleeps 50 ms at a time."""

    _STEP_S = 0.05

    def __init__(self) -> None:
        self.late_s: list[float] = []

    async def run(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(self._STEP_S)
            self.late_s.append(max(0.0, time.monotonic() - before - self._STEP_S))


def _load() -> tuple[float, float, float]:
    one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    return float(one), float(five), float(fifteen)


async def run_failover(
    settings: CommonSettings,
    log_dir: Path,
    *,
    clients: int = 1000,
    batches: int = 8,
    batch_size: int = 5,
    batch_interval_s: float = 0.25,
    timeout_s: float = 60,
) -> FailoverResult:
    """Start the gateways and HAProxy, stream, kill one gateway after half the batches, and
    return once every client has every record (or fail after `timeout_s`)."""
    gateways = [GatewayProcess(settings, log_dir, name=f"gateway{n}") for n in range(1, 4)]
    with running_gateways(*gateways):
        servers = [f"127.0.0.1:{gateway.port}" for gateway in gateways]
        with HaproxyProcess(servers, log_dir) as haproxy:
            return await _stream(
                settings,
                gateways,
                haproxy,
                clients=clients,
                batches=batches,
                batch_size=batch_size,
                batch_interval_s=batch_interval_s,
                timeout_s=timeout_s,
            )


async def _stream(
    settings: CommonSettings,
    gateways: Sequence[GatewayProcess],
    haproxy: HaproxyProcess,
    *,
    clients: int,
    batches: int,
    batch_size: int,
    batch_interval_s: float,
    timeout_s: float,
) -> FailoverResult:
    records = [sample_analysis(n) for n in range(1, batches * batch_size + 1)]
    accessions = [r["filing"]["accession_number"] for r in records]
    fleet = [
        FailoverClient(n, haproxy.ws_url, durable=n % 3 == 0, expected=len(records))
        for n in range(clients)
    ]
    tasks = [asyncio.create_task(client.run()) for client in fleet]
    lag = LoopLag()
    tasks.append(asyncio.create_task(lag.run()))
    try:
        async with asyncio.timeout(timeout_s):
            await asyncio.gather(*(client.welcomed.wait() for client in fleet))
        started = time.monotonic()
        killed = gateways[0]
        try:
            async with asyncio.timeout(timeout_s):
                async with AnalysesPublisher(settings) as publisher:
                    for batch in range(batches):
                        if batch == batches // 2:
                            killed_at = time.monotonic()
                            killed.kill()
                        await publisher.publish(
                            records[batch * batch_size : (batch + 1) * batch_size]
                        )
                        await asyncio.sleep(batch_interval_s)
                await asyncio.gather(*tasks[:-1])
        except TimeoutError:
            behind = [c for c in fleet if len(c.handled) < len(records)]
            raise AssertionError(
                f"{len(behind)} clients without every record after {timeout_s:.0f} s, e.g. "
                + "; ".join(
                    f"{c.client_id} (durable {c.durable}): {len(c.handled)} records, "
                    f"{c.connections} connections, cursor {c.cursor}, {c.state}"
                    for c in behind[:5]
                )
                + f" trace of {behind[0].client_id}: {' '.join(behind[0].trace)}"
            ) from None
        return FailoverResult(
            fleet,
            accessions,
            killed.name,
            killed_at,
            time.monotonic() - started,
            _load(),
            lag.late_s,
        )
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
