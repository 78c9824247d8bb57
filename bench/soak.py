"""Soak: the whole pipeline at ten times a real day's filing rate, with clients, for 30 minutes.

ingest replays the recorded feed (`--source replay`) at `--speed` 10: the filings come spaced
by the gaps between their EDGAR acceptance times divided by ten, so the stream runs at ten
times the rate EDGAR published them (the recorded feed holds 3,313 filings over 25.5 hours;
the real day of the corpus's daily index, 2020-03-18, 4,080). analyze fetches documents from the
EDGAR emulator at its default share, the gateway streams to `--clients` WebSocket clients from
`latest` (a third durable, acknowledging every record) and feeds its filings store.

Every `--sample-s` it reads, for every process (the services, their child processes, the Kafka
node and the registry), the resident memory and the open file descriptors from /proc. At the
end it prints each one's first and last value and the slope per hour (least squares over the
samples after the first five minutes, the warm-up), and the clients' delivery latency
(detected by ingest -> received by the client) p50/p99 per five minutes. A leak is a slope that
stays positive run after run; a few MB/h on a JVM is its heap settling.

Not in CI (it runs for half an hour): `.venv/bin/python -m bench.soak [--minutes 30]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import statistics
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

from bench._setup import CORPUS, local_topics, print_header
from services.common.settings import load_settings
from services.emulator.server import run_emulator
from services.infra import local
from services.infra.settings import InfraSettings
from tests.support.cli import edgar_environment, environment_for
from tests.support.gateway import GatewayProcess
from tests.support.infra import provision
from tests.support.processes import ServiceProcess, free_port

_WARM_UP_S = 300.0
_WINDOW_S = 300.0  # latency is reported per five minutes
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass(slots=True)
class Sample:
    at_s: float  # since the start
    rss_mb: float
    fds: int


@dataclass(slots=True)
class Latencies:
    started: float
    by_window: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    delivered: int = 0

    def add(self, latency_ms: float) -> None:
        self.by_window[int((time.monotonic() - self.started) // _WINDOW_S)].append(latency_ms)
        self.delivered += 1


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as children:
                for child in children.read().split():
                    found.append(int(child))
                    found.extend(_children(int(child)))
    return found


def _read(pid: int) -> tuple[float, int] | None:
    """(RSS in MB, open file descriptors) of a process, None once it is gone."""
    try:
        with open(f"/proc/{pid}/statm") as statm:
            rss_pages = int(statm.read().split()[1])
        return rss_pages * _PAGE_KB / 1024, len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, ValueError):
        return None


def _slope_per_hour(samples: list[Sample], value: str) -> float:
    settled = [s for s in samples if s.at_s >= _WARM_UP_S] or samples
    if len(settled) < 2:
        return 0.0
    xs = [s.at_s / 3600 for s in settled]
    ys = [float(getattr(s, value)) for s in settled]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


async def _client(url: str, durable: bool, latencies: Latencies, stop: asyncio.Event) -> None:
    """One WebSocket client from `latest`, reconnecting from its cursor if dropped."""
    client_id = f"soak-{uuid.uuid4().hex[:8]}" if durable else None
    cursor: str | None = None
    while not stop.is_set():
        query = f"from={cursor or 'latest'}" + (f"&client_id={client_id}" if client_id else "")
        try:
            async with connect(f"{url}?{query}", max_size=16 * 1024 * 1024) as ws:
                cursor = await _receive(ws, durable, latencies, stop, cursor)
        except (OSError, ConnectionError, TimeoutError) as exc:
            print(f"   client reconnecting after {type(exc).__name__}: {exc}")
            await asyncio.sleep(1)
        except Exception as exc:
            print(f"   client reconnecting after {type(exc).__name__}: {exc}")
            await asyncio.sleep(1)


async def _receive(
    ws: ClientConnection,
    durable: bool,
    latencies: Latencies,
    stop: asyncio.Event,
    cursor: str | None,
) -> str | None:
    while not stop.is_set():
        try:
            message = await asyncio.wait_for(ws.recv(), timeout=1.0)
        except TimeoutError:
            continue
        frame = json.loads(message)
        if frame["type"] != "filing":
            continue
        detected = dt.datetime.fromisoformat(frame["data"]["filing"]["detected_at"])
        latencies.add((dt.datetime.now(dt.UTC) - detected).total_seconds() * 1000)
        cursor = frame["cursor"]
        if durable:
            await ws.send(json.dumps({"type": "ack", "cursor": cursor}))
    return cursor


async def _soak(
    processes: dict[str, int],
    ws_url: str,
    clients: int,
    seconds: float,
    sample_s: float,
) -> tuple[dict[str, list[Sample]], Latencies]:
    stop = asyncio.Event()
    latencies = Latencies(started=time.monotonic())
    tasks = [
        asyncio.create_task(_client(ws_url, n % 3 == 0, latencies, stop)) for n in range(clients)
    ]
    samples: dict[str, list[Sample]] = defaultdict(list)
    started = time.monotonic()
    next_report = started + _WINDOW_S
    while (now := time.monotonic()) - started < seconds:
        watched = dict(processes)
        for name, pid in processes.items():
            for number, child in enumerate(_children(pid)):
                watched.setdefault(f"{name}/child-{number}", child)
        for name, pid in watched.items():
            reading = _read(pid)
            if reading is not None:
                samples[name].append(Sample(now - started, *reading))
        if now >= next_report:
            print(f"   {int((now - started) // 60)} min: {latencies.delivered:,} deliveries")
            next_report += _WINDOW_S
        await asyncio.sleep(sample_s)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return samples, latencies


def _report(samples: dict[str, list[Sample]], latencies: Latencies, clients: int) -> None:
    header = f"{'RSS MB first/last':>18} {'MB/h':>8} {'fds first/last':>15} {'fds/h':>7}"
    print(f"   {'process':<24} {header}")
    for name, series in sorted(samples.items()):
        first, last = series[0], series[-1]
        print(
            f"   {name:<24} {first.rss_mb:>8.0f} /{last.rss_mb:>8.0f} "
            f"{_slope_per_hour(series, 'rss_mb'):>8.1f} {first.fds:>7} /{last.fds:>6} "
            f"{_slope_per_hour(series, 'fds'):>7.1f}"
        )
    print(f"   delivery latency (detected -> client), {clients} clients, per five minutes:")
    for window, values in sorted(latencies.by_window.items()):
        ordered = sorted(values)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        print(
            f"     {window * 5:>3}-{window * 5 + 5:<3} min: {len(ordered):>8,} deliveries, "
            f"p50 {statistics.median(ordered):,.0f} ms, p99 {p99:,.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--speed", type=float, default=10, help="times the recorded rate")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--sample-s", type=float, default=10)
    parser.add_argument("log_dir", nargs="?", type=Path, default=Path("bench/results/soak"))
    args = parser.parse_args()
    print_header(
        f"soak: the pipeline at {args.speed:g}x the recorded rate for {args.minutes:g} min",
        ".venv/bin/python -m bench.soak [--minutes 30] [--clients 100]",
    )
    print(f"   load average at start: {os.getloadavg()}")
    settings = local_topics()
    infra = load_settings(InfraSettings)
    asyncio.run(provision(settings))
    with run_emulator(CORPUS) as emulator:
        env = environment_for(settings, **edgar_environment(emulator))
        ingest = ServiceProcess(
            "soak-ingest",
            ["ingest", "--source", "replay", "--corpus", str(CORPUS), "--speed", str(args.speed)],
            env | {"INGEST_HEALTH_PORT": str(free_port())},
            args.log_dir,
        )
        analyze = ServiceProcess(
            "soak-analyze",
            ["analyze"],
            env
            | {
                "ANALYZE_HEALTH_PORT": str(free_port()),
                "ANALYZE_GROUP_ID": f"soak-{settings.topic_raw}",
                "ANALYZE_INSTANCE_ID": "soak-0",
            },
            args.log_dir,
        )
        with (
            GatewayProcess(settings, args.log_dir, name="soak-gateway") as gateway,
            ingest,
            analyze,
        ):
            processes = {"ingest": ingest.pid, "analyze": analyze.pid, "gateway": gateway.pid}
            for node in local.kafka_nodes(infra):
                pid = node.process.running_pid()
                if pid is not None:
                    processes[f"kafka-{node.node_id}"] = pid
            registry = local.registry_node(infra).running_pid()
            if registry is not None:
                processes["registry"] = registry
            samples, latencies = asyncio.run(
                _soak(processes, gateway.ws_url, args.clients, args.minutes * 60, args.sample_s)
            )
            if not ingest.running():
                print("   note: ingest's replay ended before the soak did (its exit is expected)")
    print(f"   load average at end: {os.getloadavg()}")
    _report(samples, latencies, args.clients)


if __name__ == "__main__":
    main()
