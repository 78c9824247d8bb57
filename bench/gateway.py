"""Gateway benchmarks: WebSocket fan-out, replay, and memory per connection.

The gateway runs as its own process (`sec-digester gateway`); the WebSocket clients run in
another, a Node process with the `ws` package (bench/ws_clients/clients.js), so that the client
side is not the bottleneck. Each record carries its publish time (wall clock, microseconds, in
`analyzer.note`); the Node clients compute receive time - publish time.

1. memory: gateway RSS with 0, then 1,000 and 3,000 idle `from=latest` connections.
2. fan-out: N clients (`/stream?from=latest`) wait for `caught_up`, then records are published
   transactionally (as analyze does) at 10 records/s; latency from just before the produce
   call to the client's receive, p50/p99/max, at 1, 100, 1,000, 3,000 and 10,000 clients, and
   1,000 clients at 100 records/s (EDGAR's bursts at 06:00 and 17:30 ET; at most 10
   transactions/s, as analyze commits under load). Beside it: a plain confluent-kafka consumer
   in this process timing the same records (Kafka's share: transaction commit and fetch), and a
   Node `ws` server doing nothing else but broadcasting the same frames at the same pace (the
   machine's limit, no Kafka), measured by the same client processes; then the gateway/Node
   p99 ratio and the share delivered for each load. Then a burst of records at once (one
   transaction) to 1,000 clients: deliveries/s, gateway and reference. Then the heavy loads
   again on a gateway of 2 worker processes (`--workers 2`, one port, SO_REUSEPORT).
3. replay: 100,000 records more on the topic, then one client `from=earliest` until
   `caught_up` (records/s): from the running gateway, whose ring holds the records it has read
   (GATEWAY_TAIL_BUFFER is set large enough); from a gateway started afterwards, which fills
   its ring at start-up; and from one with a ring of 100, which reads and decodes them from
   Kafka; beside Debian's kcat reading the same topic to its end (the values, one per line,
   to /dev/null) twice, before and after the gateway, and plain confluent-kafka consumers. The
   ratio: the gateway from Kafka against the faster kcat run (goal >= 0.3x).

4. fairness: a gateway with two API keys, at its defaults (but for room for key B's clients,
   and no filings store to feed), over a topic whose history is five times its ring. Key B's
   200 Node clients (`from=latest`) are timed as in part 2 at 10 records/s, unloaded and, in
   turn, while key A replays from `earliest` over and over with as many concurrent replays as
   its limit allows (GATEWAY_MAX_REPLAYS_PER_KEY), each restarted as it finishes: five rounds,
   then unloaded once more. Reported: key B's p99 in each phase, the median loaded / median
   unloaded (goal <= 1.5x) and each loaded phase against the unloaded ones either side, with
   key A's replays meanwhile and plain consumers' latency (Kafka's share). The gateway's
   GATEWAY_REPLAY_RECORDS_PER_S_PER_KEY is its default unless the bench's environment sets
   one (0: unpaced, to see what pacing buys).

Usage: python -m bench.gateway [--quick] [--only replay] [log dir]   (needs node and npm;
`npm ci` is run in bench/ws_clients when its node_modules is missing; the replay needs `kcat`
on PATH: apt-get install kcat). `--only replay`: just part 3, from Kafka (a gateway with a ring
of 100, kcat and the plain consumers) on a topic of its own; `--only fairness`: just part 4.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import queue
import resource
import shutil
import statistics
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from uuid import uuid4

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from bench._setup import local_topics, print_header
from services.common.avro import AvroCodec
from services.common.kafka import KafkaProducer, producer_config
from services.common.positions import format_cursor
from services.common.record_json import record_json
from services.common.registry import open_registry, subject_for
from services.common.schemas import SchemaName
from services.common.settings import TopicSettings
from services.gateway.settings import GatewaySettings
from services.gateway.stream.fanout import filing_frame
from tests.support.gateway import GatewayProcess
from tests.support.infra import provision
from tests.support.records import sample_analysis

NODE_DIR = Path(__file__).resolve().parent / "ws_clients"
COMMAND = "make bench-gateway  (or: .venv/bin/python -m bench.gateway)"
RATE = 10  # records/s during the latency runs, unless a load says otherwise
# Analyze commits a transaction per batch; under load it batches rather than commit more often.
TRANSACTIONS_PER_S = 10
WORKERS = 2  # the gateway of the workers part (`--workers`)
FAIRNESS_CLIENTS = 200  # key B's live clients in the fairness part
FAIRNESS_ROUNDS = 5  # unloaded and loaded phases in turn, then unloaded once more
# The history key A replays: five times the ring a gateway keeps by default, so that most of
# each replay is read from Kafka.
FAIRNESS_HISTORY = 5 * GatewaySettings().gateway_tail_buffer
LIVE_KEY, REPLAY_KEY = "bench-live-key", "bench-replay-key"


@dataclass(frozen=True)
class Load:
    clients: int
    rate: int  # records/s

    def __str__(self) -> str:
        return f"{self.clients:,} clients x {self.rate} rec/s"


@dataclass(frozen=True)
class Plan:
    idle_steps: tuple[int, ...]
    loads: tuple[Load, ...]  # on the gateway
    reference_loads: tuple[Load, ...]  # also on the Node `ws` server
    worker_loads: tuple[Load, ...]  # also on a gateway of 2 workers
    seconds: float
    burst_clients: int
    burst_records: int
    replay_records: int


_HEAVY = (Load(10_000, RATE), Load(1000, 100))
FULL = Plan(
    (1000, 3000),
    (Load(1, RATE), Load(100, RATE), Load(1000, RATE), Load(3000, RATE), *_HEAVY),
    (Load(1000, RATE), Load(3000, RATE), *_HEAVY),
    _HEAVY,
    20,
    1000,
    500,
    100_000,
)
QUICK = Plan(
    (1000,),
    (Load(1, RATE), Load(1000, RATE), *_HEAVY),
    (Load(1000, RATE), *_HEAVY),
    _HEAVY,
    8,
    1000,
    200,
    20_000,
)


# -- processes -------------------------------------------------------------------------------
def raise_fd_limit(needed: int) -> int:
    """Soft limit up to `needed` (at most the hard limit); the children inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def ensure_node_harness() -> str:
    """`npm ci` the pinned `ws` if needed; the versions of node and ws, for the header."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise SystemExit("bench.gateway needs node and npm on PATH (the clients are Node `ws`)")
    ws_package = NODE_DIR / "node_modules" / "ws" / "package.json"
    if not ws_package.exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR, check=True
        )
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True)
    ws_version = json.loads(ws_package.read_text())["version"]
    return f"Node {node.stdout.strip()}, ws {ws_version}"


class Node:
    """A Node script of bench/ws_clients speaking JSON lines on stdout, commands on stdin."""

    def __init__(self, log_dir: Path, script: str, *args: str) -> None:
        self._name = f"{script} {' '.join(args)}"
        self._log = (log_dir / "ws-clients.log").open("ab")
        self._process = subprocess.Popen(
            ["node", str(NODE_DIR / script), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            bufsize=1,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def read(self, timeout_s: float) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout_s)
        except queue.Empty:
            raise SystemExit(f"node {self._name}: no report within {timeout_s:.0f} s") from None
        if line is None:
            raise SystemExit(f"node {self._name} exited ({self._process.wait()}); see its log")
        message: dict[str, Any] = json.loads(line)
        if message.get("event") == "error":
            raise SystemExit(f"node {self._name}: {message['message']}")
        return message

    def send(self, line: str) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(line + "\n")
        self._process.stdin.flush()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.send("exit")
            assert self._process.stdin is not None
            self._process.stdin.close()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._log.close()


def pid_listening_on(port: int) -> int:
    """The process holding the listening TCP socket on 127.0.0.1:`port` (from /proc)."""
    return pids_listening_on(port)[0]


def pids_listening_on(port: int) -> list[int]:
    """The processes holding a listening TCP socket on `port` (several: SO_REUSEPORT)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for row in Path(table).read_text().splitlines()[1:]:
                fields = row.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    pids = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        pids.add(int(proc.name))
    if not pids:
        raise SystemExit(f"no process listens on port {port}")
    return sorted(pids)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise SystemExit(f"no VmRSS for pid {pid}")


class CpuMeter:
    """CPU use of processes between `start()` and `percent()` (100 = one core)."""

    def __init__(self, *pids: int) -> None:
        self._pids = pids
        self._ticks = os.sysconf("SC_CLK_TCK")
        self.start()

    def _cpu_s(self) -> float:
        ticks = 0
        for pid in self._pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime + stime
        return ticks / self._ticks

    def start(self) -> None:
        self._since, self._cpu = time.monotonic(), self._cpu_s()

    def seconds(self) -> float:
        """CPU seconds used since `start()`."""
        return self._cpu_s() - self._cpu

    def percent(self) -> float:
        return 100 * (self._cpu_s() - self._cpu) / (time.monotonic() - self._since)


# -- records ---------------------------------------------------------------------------------
class Publisher:
    """FilingAnalysis records on the analyzed topic, transactionally as analyze writes them,
    each stamped `bench:<phase>:<publish time, us>` just before it is produced."""

    def __init__(self, settings: TopicSettings) -> None:
        self._settings = settings
        self._stack = contextlib.AsyncExitStack()
        self._sequence = int(time.time()) % 100_000 * 5  # accession numbers differ per run

    async def __aenter__(self) -> Self:
        topic = self._settings.topic_analyzed
        registry = await self._stack.enter_async_context(open_registry(self._settings))
        self._codec = await AvroCodec(
            registry, subject_for(topic), SchemaName.FILING_ANALYSIS
        ).open()
        config = producer_config(
            self._settings, client_id="bench-publisher", transactional_id=f"bench-{topic}"
        )
        self._producer = await self._stack.enter_async_context(KafkaProducer(config))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    def record(self, phase: str) -> dict[str, Any]:
        self._sequence += 1
        record = sample_analysis(self._sequence % 1_000_000)
        record["analyzer"]["note"] = f"bench:{phase}:{time.time_ns() // 1000}"
        return record

    async def publish(self, records: Sequence[dict[str, Any]]) -> None:
        await self._producer.begin_transaction()
        for record in records:
            key = record["filing"]["accession_number"].encode()
            value = self._codec.encode(record)
            self._producer.enqueue(self._settings.topic_analyzed, key=key, value=value)
        await self._producer.commit_transaction()

    async def steady(self, phase: str, seconds: float, rate: int) -> int:
        """`rate` records/s, one transaction each up to TRANSACTIONS_PER_S (analyze commits
        about that often when the feed is quiet), then several records per transaction."""
        count, start = round(rate * seconds), time.monotonic()
        for first in range(0, count, _per_transaction(rate)):
            await asyncio.sleep(max(0.0, start + first / rate - time.monotonic()))
            n = min(_per_transaction(rate), count - first)
            await self.publish([self.record(phase) for _ in range(n)])
        return count

    async def many(self, phase: str, count: int, per_transaction: int = 5000) -> None:
        for first in range(0, count, per_transaction):
            n = min(per_transaction, count - first)
            await self.publish([self.record(phase) for _ in range(n)])


def _per_transaction(rate: int) -> int:
    return max(1, rate // TRANSACTIONS_PER_S)


def publish_steady(settings: TopicSettings, phase: str, seconds: float, rate: int) -> int:
    async def run() -> int:
        async with Publisher(settings) as publisher:
            return await publisher.steady(phase, seconds, rate)

    return asyncio.run(run())


def publish_many(settings: TopicSettings, phase: str, count: int) -> None:
    async def run() -> None:
        async with Publisher(settings) as publisher:
            await publisher.many(phase, count)

    asyncio.run(run())


def _stamp(value: bytes) -> tuple[str, int] | None:
    """(phase, publish time in us) from the `bench:<phase>:<us>` string inside a record."""
    at = value.find(b"bench:")
    if at < 0:
        return None
    digits = value.find(b":", at + 6)
    end = digits + 1
    while end < len(value) and 48 <= value[end] <= 57:
        end += 1
    return value[at + 6 : digits].decode(), int(value[digits + 1 : end])


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class KafkaProbe(threading.Thread):
    """A plain confluent-kafka consumer (read_committed) timing the published records as they
    reach it: Kafka's own share of the latency. `batch` = consume(n, timeout) instead of
    poll(), the way the gateway's tail reads."""

    def __init__(self, settings: TopicSettings, batch: tuple[int, float] | None = None) -> None:
        super().__init__(daemon=True)
        topic = settings.topic_analyzed
        self._consumer = Consumer(
            {
                "bootstrap.servers": settings.kafka_bootstrap_servers,
                "group.id": f"probe-{uuid4()}",
                "isolation.level": "read_committed",
                "enable.auto.commit": False,
            }
        )
        partitions = self._consumer.list_topics(topic, timeout=30).topics[topic].partitions
        starts = []
        for p in partitions:
            _, high = self._consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
            starts.append(TopicPartition(topic, p, high))
        self._consumer.assign(starts)
        self._batch = batch
        self._done = threading.Event()
        self.latencies_ms: dict[str, list[float]] = defaultdict(list)

    def run(self) -> None:
        try:
            while not self._done.is_set():
                if self._batch is None:
                    message = self._consumer.poll(0.1)
                    messages = [] if message is None else [message]
                else:
                    messages = self._consumer.consume(*self._batch)
                now_us = time.time_ns() // 1000
                for message in messages:
                    value = message.value()
                    if message.error() is None and value and (stamp := _stamp(value)):
                        self.latencies_ms[stamp[0]].append((now_us - stamp[1]) / 1000)
        finally:
            self._consumer.close()

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=10)

    def summary(self, phase: str) -> str:
        values = self.latencies_ms.get(phase, [])
        return f"{_percentile(values, 0.5):6.1f} {_percentile(values, 0.99):6.1f}"


# -- 1. memory -------------------------------------------------------------------------------
def bench_memory(gateway: GatewayProcess, pid: int, plan: Plan, log_dir: Path) -> None:
    url = f"{gateway.ws_url}?from=latest"
    with Node(log_dir, "clients.js", "idle", url, "10") as warm_up:
        warm_up.read(60)  # the first connections load code the idle ones then share
    time.sleep(2)
    measured = [(0, rss_kb(pid))]
    with Node(log_dir, "clients.js", "idle", url, ",".join(map(str, plan.idle_steps))) as node:
        for step in plan.idle_steps:
            opened = node.read(180)
            assert opened["clients"] == step, opened
            time.sleep(2)
            measured.append((step, rss_kb(pid)))
            node.send("next")
    print("   memory per idle WebSocket connection (`from=latest`, caught up), gateway VmRSS:")
    print("     " + " | ".join(f"{n:,} clients: {kb / 1024:,.1f} MB" for n, kb in measured))
    base = measured[0][1]
    per_connection = [
        f"{(kb - base) / n:,.1f} KB/connection (0 -> {n:,})" for n, kb in measured[1:]
    ]
    if len(measured) > 2:
        (n1, kb1), (n2, kb2) = measured[-2:]
        per_connection.append(f"{(kb2 - kb1) / (n2 - n1):,.1f} KB/connection ({n1:,} -> {n2:,})")
    print("     " + "; ".join(per_connection) + "   (goal <= 50 KB)")


# -- 2. fan-out ------------------------------------------------------------------------------
@dataclass
class FanoutResult:
    server: str
    load: Load
    report: dict[str, Any]
    server_cpu: float
    server_cpu_s: float

    @property
    def cpu_us(self) -> float:
        """Server CPU per delivery: what the load costs, whatever else the machine runs."""
        count: int = self.report["count"]
        return 1e6 * self.server_cpu_s / max(1, count)

    @property
    def delivered(self) -> float:
        """The share of the expected deliveries that arrived before the window closed."""
        r = self.report
        expected: int = r["clients"] * r["expected_per_client"]
        return float(r["count"]) / expected


def _line(result: FanoutResult, probes: Sequence[KafkaProbe], phase: str) -> str:
    r = result.report
    missing = r["clients"] * r["expected_per_client"] - r["count"]
    flags = f"  MISSING {missing}" if missing else ""
    if r["closed_early"]:
        flags += f"  CLOSED {r['closed_early']} {r['close_codes']}"
    kafka = "  ".join(p.summary(phase) for p in probes) if probes else " " * 27
    return (
        f"     {result.server:<16} {result.load!s:>24} {r['count']:>10,} {r['p50_ms']:7.1f} "
        f"{r['p99_ms']:7.1f} {r['p999_ms']:7.1f} {r['max_ms']:7.1f}   {kafka}  "
        f"{result.server_cpu:5.0f}% {r['cpu_percent']:5.0f}%{flags}"
    )


def _wait_s(load: Load, plan: Plan) -> int:
    """How long after the last publish the clients may still receive (the window)."""
    return 15 + round(load.clients * load.rate * plan.seconds / 100_000)


def _measure(
    server: str,
    node: Node,
    cpu: CpuMeter,
    load: Load,
    plan: Plan,
    phase: str,
    publish: Callable[[str, float, int], int],
) -> FanoutResult:
    cpu.start()
    node.send("mark")
    sent = publish(phase, plan.seconds, load.rate)
    node.send(f"wait {phase} {sent} {_wait_s(load, plan)}")
    report = node.read(_wait_s(load, plan) + 60)
    return FanoutResult(server, load, report, cpu.percent(), cpu.seconds())


def _by_clients(loads: Sequence[Load]) -> dict[int, list[Load]]:
    """The loads by number of clients: one set of connections serves every rate."""
    grouped: dict[int, list[Load]] = defaultdict(list)
    for load in loads:
        grouped[load.clients].append(load)
    return grouped


def fanout_gateway(
    settings: TopicSettings,
    gateway: GatewayProcess,
    cpu: CpuMeter,
    clients: int,
    loads: Sequence[Load],
    plan: Plan,
    log_dir: Path,
    name: str = "gateway",
) -> tuple[list[FanoutResult], list[str]]:
    results, bursts = [], []

    def publish(phase: str, seconds: float, rate: int) -> int:
        return publish_steady(settings, phase, seconds, rate)

    url = f"{gateway.ws_url}?from=latest"
    with Node(log_dir, "clients.js", "fanout", url, str(clients)) as node:
        node.read(_connect_s(clients))
        for load in loads:
            phase = f"{name[0]}{uuid4().hex[:6]}"
            results.append(_measure(name, node, cpu, load, plan, phase, publish))
        if clients == plan.burst_clients and name == "gateway":
            burst = f"gb{clients}"
            cpu.start()
            node.send("mark")
            publish_many(settings, burst, plan.burst_records)
            node.send(f"wait {burst} {plan.burst_records} 120")
            bursts.append(_burst_line(name, node.read(180), cpu.percent()))
    return results, bursts


def _connect_s(clients: int) -> float:
    return 120 + clients / 50


def _burst_line(server: str, r: dict[str, Any], server_cpu: float) -> str:
    span = r["first_publish_to_last_receive_s"]
    return (
        f"     {server:<16} {r['clients']:>6,} clients x {r['expected_per_client']:,} records: "
        f"{r['count']:,} deliveries, {r['count'] / span:,.0f}/s from the first publish to the "
        f"last receive ({span:.2f} s; {r['count'] / r['first_to_last_receive_s']:,.0f}/s first "
        f"to last receive), p50 {r['p50_ms']:.0f} ms p99 {r['p99_ms']:.0f} ms; "
        f"CPU server {server_cpu:.0f}% clients {r['cpu_percent']:.0f}%"
        + (f"  CLOSED {r['closed_early']} {r['close_codes']}" if r["closed_early"] else "")
    )


def _reference_frame(sequence: int, phase: str) -> str:
    """A `filing` frame like the gateway's, stamped now."""
    record = sample_analysis(sequence)
    record["analyzer"]["note"] = f"bench:{phase}:{time.time_ns() // 1000}"
    cursor = format_cursor({0: sequence + 1, 1: 0, 2: 0})
    return filing_frame(cursor, 0, sequence, record_json(record)).decode()


def fanout_reference(
    clients: int, loads: Sequence[Load], plan: Plan, log_dir: Path
) -> tuple[list[FanoutResult], list[str]]:
    results, bursts = [], []
    with Node(log_dir, "server.js") as server:

        def publish(phase: str, seconds: float, rate: int) -> int:
            """The gateway's pace: the same records, in the same groups per transaction."""
            count, start = round(rate * seconds), time.monotonic()
            for first in range(0, count, _per_transaction(rate)):
                time.sleep(max(0.0, start + first / rate - time.monotonic()))
                for n in range(first, min(first + _per_transaction(rate), count)):
                    server.send(_reference_frame(n, phase))
            return count

        port = server.read(30)["port"]
        url = f"ws://127.0.0.1:{port}/stream"
        cpu = CpuMeter(pid_listening_on(port))
        with Node(log_dir, "clients.js", "fanout", url, str(clients)) as node:
            node.read(_connect_s(clients))
            for load in loads:
                phase = f"r{uuid4().hex[:6]}"
                results.append(_measure("node ws server", node, cpu, load, plan, phase, publish))
            if clients == plan.burst_clients:
                burst = f"rb{clients}"
                cpu.start()
                node.send("mark")
                for n in range(plan.burst_records):
                    server.send(_reference_frame(n, burst))
                node.send(f"wait {burst} {plan.burst_records} 120")
                bursts.append(_burst_line("node ws server", node.read(180), cpu.percent()))
    return results, bursts


def _header(plan: Plan) -> None:
    print(
        f"   fan-out latency, {plan.seconds:.0f} s per load, ms from just before the produce call "
        f"(own transaction each, at most {TRANSACTIONS_PER_S} transactions/s) to the Node "
        "client's receive:"
    )
    print(
        f"     {'server':<16} {'load':>24} {'deliveries':>10} {'p50':>7} {'p99':>7} "
        f"{'p99.9':>7} {'max':>7}   Kafka p50/p99: poll()  consume(1000,0.2s)"
        "  CPU server clients",
        flush=True,
    )


def bench_fanout(
    settings: TopicSettings, gateway: GatewayProcess, pid: int, plan: Plan, log_dir: Path
) -> list[FanoutResult]:
    _header(plan)
    probes = [KafkaProbe(settings), KafkaProbe(settings, batch=(1000, 0.2))]
    for probe in probes:
        probe.start()
    cpu = CpuMeter(pid)
    bursts, results = [], []
    references = _by_clients(plan.reference_loads)
    try:
        for clients, loads in _by_clients(plan.loads).items():
            ours, burst = fanout_gateway(settings, gateway, cpu, clients, loads, plan, log_dir)
            for result in ours:
                print(_line(result, probes, result.report["phase"]), flush=True)
            results += ours
            bursts += burst
            if clients in references:
                theirs, burst = fanout_reference(clients, references[clients], plan, log_dir)
                for result in theirs:
                    print(_line(result, (), ""), flush=True)
                results += theirs
                bursts += burst
    finally:
        for probe in probes:
            probe.stop()
    print(
        "     (Kafka columns: a plain confluent-kafka consumer in the bench process timing the "
        "same records; the node ws server gets the frames on stdin, no Kafka)"
    )
    _ratios(results, plan.reference_loads)
    print(f"   burst: {plan.burst_records} records at once (one transaction) to every client:")
    for line in bursts:
        print(line)
    return results


def _ratios(results: Sequence[FanoutResult], loads: Sequence[Load]) -> None:
    print(
        "   gateway p99 / Node `ws` server p99, same run, same client process (goal <= 1.5x); "
        "server CPU per delivery (the gateway's Kafka consumer included):"
    )
    for load in loads:
        reference = next(r for r in results if r.server == "node ws server" and r.load == load)
        for ours in (r for r in results if r.server != "node ws server" and r.load == load):
            ratio = ours.report["p99_ms"] / reference.report["p99_ms"]
            print(
                f"     {ours.server:<16} {load!s:>24}: p99 {ours.report['p99_ms']:7.1f} ms vs "
                f"{reference.report['p99_ms']:7.1f} ms = {ratio:5.2f}x; delivered "
                f"{100 * ours.delivered:.2f}% (Node {100 * reference.delivered:.2f}%); server "
                f"CPU per delivery {ours.cpu_us:.2f} us vs {reference.cpu_us:.2f} us"
                + ("" if ratio <= 1.5 else "  OVER")
            )


def bench_workers(
    settings: TopicSettings,
    gateway: GatewayProcess,
    plan: Plan,
    log_dir: Path,
    earlier: Sequence[FanoutResult],
) -> None:
    """The heavy loads again on a gateway of WORKERS workers; beside the 1-worker figures."""
    # /readyz answers once one worker is ready: wait for the other to listen too.
    deadline = time.monotonic() + 120
    while len(pids := pids_listening_on(gateway.port)) < WORKERS:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(pids)} of {WORKERS} gateway workers listen")
        time.sleep(0.5)
    print(f"   gateway --workers {WORKERS} (pids {pids}, one port), the heavy loads:")
    _header(plan)
    cpu = CpuMeter(*pids)
    results = list(earlier)
    for clients, loads in _by_clients(plan.worker_loads).items():
        ours, _ = fanout_gateway(
            settings, gateway, cpu, clients, loads, plan, log_dir, name=f"gateway x{WORKERS}"
        )
        for result in ours:
            print(_line(result, (), ""), flush=True)
        results += ours
    _ratios(results, plan.worker_loads)


# -- 3. replay -------------------------------------------------------------------------------
async def _consume_all(settings: TopicSettings, how: str) -> tuple[int, float]:
    """Every committed record of the analyzed topic with a plain consumer: (records, s).

    Reads what the client has fetched without waiting for full batches (consume(n, 0)), and
    waits only when nothing is there: a batch call with a timeout would wait out the timeout
    on the last, partial batch."""
    topic = settings.topic_analyzed
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap_servers,
            "group.id": f"ref-{uuid4()}",
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
            "enable.auto.commit": False,
        }
    )
    count = 0
    async with open_registry(settings) as client:
        codec = await AvroCodec(client, subject_for(topic), SchemaName.FILING_ANALYSIS).open()
        with SchemaRegistryClient({"url": settings.schema_registry_url}) as registry:
            deserializer = AvroDeserializer(registry)
            context = SerializationContext(topic, MessageField.VALUE)
            try:
                partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
                start = time.perf_counter()
                consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
                at_end: set[int] = set()
                while len(at_end) < len(partitions):
                    for message in consumer.consume(1000, 0) or consumer.consume(1, 0.1):
                        error, partition = message.error(), message.partition()
                        offset = message.offset()
                        assert partition is not None
                        assert offset is not None
                        if error is not None:
                            assert error.code() == KafkaError._PARTITION_EOF, error.str()
                            at_end.add(partition)
                            continue
                        count += 1
                        if how == "avro":
                            deserializer(message.value(), context)
                        elif how == "gateway-work":
                            record = await codec.decode(message.value())
                            cursor = format_cursor({partition: offset + 1})
                            filing_frame(cursor, partition, offset, record_json(record))
                elapsed = time.perf_counter() - start
            finally:
                consumer.close()
    return count, elapsed


def _tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of a process and of its children now running (the
    gateway's replay workers), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, pending = 0.0, [pid]
    while pending:
        process = pending.pop()
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{process}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
    return total


def _replay(gateway: GatewayProcess, pid: int, log_dir: Path, label: str) -> tuple[float, float]:
    """One Node client from=earliest until caught_up: its records/s, and the CPU time the
    gateway (with its worker processes) spent per record, in microseconds."""
    cpu = CpuMeter(pid)
    tree_cpu_s = _tree_cpu_s(pid)
    with Node(log_dir, "clients.js", "replay", f"{gateway.ws_url}?from=earliest") as node:
        replayed = node.read(600)
    cpu_us = (_tree_cpu_s(pid) - tree_cpu_s) * 1e6 / max(1, replayed["filings"])
    print(
        f"     {label}: {replayed['filings']:,} records in {replayed['seconds']:.2f} s = "
        f"{replayed['records_per_s']:,.0f} records/s "
        f"({replayed['bytes'] / replayed['seconds'] / 1e6:,.1f} MB/s of frames; gateway CPU "
        f"{cpu.percent():.0f}%, RSS {rss_kb(pid) / 1024:.0f} MB; with its worker processes "
        f"{cpu_us:.1f} us CPU per record)   (goal >= 100,000 records/s)"
    )
    return float(replayed["records_per_s"]), cpu_us


def bench_replay(
    settings: TopicSettings, gateway: GatewayProcess, pid: int, plan: Plan, log_dir: Path
) -> None:
    start = time.perf_counter()
    publish_many(settings, "replay", plan.replay_records)
    published_s = time.perf_counter() - start
    # A `from=latest` client gets caught_up only once the gateway's tail has read to the end:
    # the replay below then does not compete with the tail for the gateway's CPU.
    with Node(log_dir, "clients.js", "idle", f"{gateway.ws_url}?from=latest", "1") as sync:
        sync.read(300)
    print(
        f"   replay from=earliest (the topic: {plan.replay_records:,} records published in "
        f"{published_s:.1f} s, plus the fan-out records), one Node client until caught_up:"
    )
    _replay(gateway, pid, log_dir, "the running gateway (its ring, filled by the tail)")
    ring = {"GATEWAY_TAIL_BUFFER": str(plan.replay_records + 50_000)}
    started = time.perf_counter()
    with GatewayProcess(settings, log_dir, name="gateway-bench-restarted", **ring) as restarted:
        ready_s = time.perf_counter() - started
        _replay(
            restarted,
            pid_listening_on(restarted.port),
            log_dir,
            f"a gateway started now (ring filled at start-up, ready in {ready_s:.1f} s)",
        )
    replay_from_kafka(settings, log_dir)


def _kcat(settings: TopicSettings) -> tuple[str, float, float]:
    """kcat reading every partition of the analyzed topic from the beginning to its end, each
    value written out as it is, with a newline, to /dev/null: (the command, seconds, CPU
    seconds).
    (librdkafka's default isolation level is read_committed, as the gateway's.)"""
    kcat = shutil.which("kcat")
    if kcat is None:
        raise SystemExit("the replay bench needs Debian's kcat on PATH: apt-get install kcat")
    arguments = ["-C", "-b", settings.kafka_bootstrap_servers, "-t", settings.topic_analyzed]
    arguments += ["-o", "beginning", "-e", "-q", "-f", "%s\\n"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([kcat, *arguments], stdout=subprocess.DEVNULL, check=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return "kcat " + " ".join(f"'{a}'" if "%" in a else a for a in arguments), elapsed, cpu_s


def replay_from_kafka(settings: TopicSettings, log_dir: Path) -> None:
    """The gateway replaying history older than its ring (read and decoded from Kafka) beside
    kcat reading the same topic, in the same run, kcat before and after the gateway; the ratio
    is against the faster kcat run."""
    references = []
    for how, label in (
        ("raw", "confluent-kafka Consumer, raw bytes"),
        ("avro", "confluent-kafka Consumer + AvroDeserializer"),
        ("gateway-work", "confluent-kafka Consumer + the gateway's decode and frame (no I/O)"),
    ):
        count, elapsed = asyncio.run(_consume_all(settings, how))
        references.append(
            f"     {label}: {count:,} records in {elapsed:.2f} s = {count / elapsed:,.0f}/s"
        )
    kcat_command, kcat_before_s, kcat_before_cpu_s = _kcat(settings)
    small = {"GATEWAY_TAIL_BUFFER": "100"}
    with GatewayProcess(settings, log_dir, name="gateway-bench-cold", **small) as cold:
        replayed, cpu_us = _replay(
            cold, pid_listening_on(cold.port), log_dir, "a gateway with a ring of 100 (Kafka)"
        )
    _, kcat_after_s, kcat_after_cpu_s = _kcat(settings)
    print(
        f"     kcat, before and after the gateway: {count:,} records in {kcat_before_s:.2f} s "
        f"= {count / kcat_before_s:,.0f}/s, in {kcat_after_s:.2f} s = "
        f"{count / kcat_after_s:,.0f}/s; {kcat_before_cpu_s * 1e6 / count:.1f} and "
        f"{kcat_after_cpu_s * 1e6 / count:.1f} us CPU per record   ({kcat_command} > /dev/null)"
    )
    kcat_rate = count / min(kcat_before_s, kcat_after_s)
    print(
        f"     replay from Kafka / kcat (the faster run): {replayed:,.0f} / {kcat_rate:,.0f} = "
        f"{replayed / kcat_rate:.2f}x   (goal >= 0.3x); CPU per record, kcat / gateway: "
        f"{min(kcat_before_cpu_s, kcat_after_cpu_s) * 1e6 / count / cpu_us:.2f}x"
    )
    print("\n".join(references))


def replay_only(settings: TopicSettings, plan: Plan, log_dir: Path) -> None:
    """Part 3 from Kafka alone, on a topic of `plan.replay_records` records."""
    start = time.perf_counter()
    publish_many(settings, "replay", plan.replay_records)
    print(
        f"   replay from=earliest from Kafka (topic {settings.topic_analyzed}: "
        f"{plan.replay_records:,} records in "
        f"{settings.topic_partitions} partitions, published in {time.perf_counter() - start:.1f} "
        "s), one Node client until caught_up:"
    )
    print(f"   load average at start: {_load()}", flush=True)
    replay_from_kafka(settings, log_dir)
    print(f"   load average at end: {_load()}  ({os.cpu_count()} CPUs)")


# -- 4. fairness -----------------------------------------------------------------------------
def bench_fairness(settings: TopicSettings, plan: Plan, log_dir: Path) -> None:
    """Key B's live p99 unloaded, while key A replays from earliest as much as its limit
    allows, and unloaded again; on a gateway at its defaults but for the keys, key B's room for
    its clients and no store feeder."""
    start = time.perf_counter()
    publish_many(settings, "history", FAIRNESS_HISTORY)
    published_s = time.perf_counter() - start
    replays = GatewaySettings().gateway_max_replays_per_key
    env = {
        "GATEWAY_API_KEYS": f"{LIVE_KEY},{REPLAY_KEY}",
        # Room for key B's clients (the default is 100 streams per key).
        "GATEWAY_MAX_CONNECTIONS_PER_KEY": str(FAIRNESS_CLIENTS),
        # Not feeding the filings store: it would be catching up on the history meanwhile.
        "GATEWAY_STORE_FEEDER": "false",
    }
    # A replay rate per key given to the bench is the gateway's (unset: its default; 0: none).
    rate = os.environ.get("GATEWAY_REPLAY_RECORDS_PER_S_PER_KEY")
    if rate:
        env["GATEWAY_REPLAY_RECORDS_PER_S_PER_KEY"] = rate
    with GatewayProcess(settings, log_dir, name="gateway-bench-fairness", **env) as gateway:
        pid = pid_listening_on(gateway.port)
        print(
            f"   fairness: topic {settings.topic_analyzed} with {FAIRNESS_HISTORY:,} records more "
            f"(published in {published_s:.1f} s; the gateway's ring holds the last "
            f"{GatewaySettings().gateway_tail_buffer:,}); key B: {FAIRNESS_CLIENTS} Node clients "
            f"from=latest at {RATE} records/s, {plan.seconds:.0f} s per phase; key A: {replays} "
            "concurrent replays from=earliest (its GATEWAY_MAX_REPLAYS_PER_KEY), each restarted "
            f"as it finishes; GATEWAY_REPLAY_RECORDS_PER_S_PER_KEY {rate or 'unset'}"
        )
        _header(plan)
        cpu = CpuMeter(pid)
        load = Load(FAIRNESS_CLIENTS, RATE)
        # Kafka's share, the broker's load: plain consumers timing the same records.
        probes = [KafkaProbe(settings), KafkaProbe(settings, batch=(1000, 0.2))]
        for probe in probes:
            probe.start()

        def publish(phase: str, seconds: float, rate: int) -> int:
            return publish_steady(settings, phase, seconds, rate)

        def measure(name: str, node: Node) -> FanoutResult:
            result = _measure(name, node, cpu, load, plan, f"f{uuid4().hex[:6]}", publish)
            print(_line(result, probes, result.report["phase"]), flush=True)
            return result

        live_url = f"{gateway.ws_url}?from=latest&api_key={LIVE_KEY}"
        replay_url = f"{gateway.ws_url}?from=earliest&api_key={REPLAY_KEY}"
        unloaded, loaded, replayed = [], [], []
        try:
            with Node(log_dir, "clients.js", "fanout", live_url, str(FAIRNESS_CLIENTS)) as live:
                live.read(_connect_s(FAIRNESS_CLIENTS))
                # Unloaded and loaded in turn, so that what else the machine runs meanwhile
                # weighs on both alike.
                for _ in range(FAIRNESS_ROUNDS):
                    unloaded.append(measure("B unloaded", live))
                    with Node(
                        log_dir, "clients.js", "replays", replay_url, str(replays)
                    ) as replaying:
                        replaying.read(60)
                        time.sleep(3)  # the replays under way
                        replaying.send("report")
                        before = replaying.read(30)
                        tree_cpu_s, since = _tree_cpu_s(pid), time.monotonic()
                        loaded.append(measure("B, A replaying", live))
                        tree_cpu = (_tree_cpu_s(pid) - tree_cpu_s) / (time.monotonic() - since)
                        replaying.send("report")
                        after = replaying.read(30)
                    replayed.append((before, after, tree_cpu))
                unloaded.append(measure("B unloaded", live))
        finally:
            for probe in probes:
                probe.stop()
    for before, after, tree_cpu in replayed:
        records = after["records"] - before["records"]
        print(
            f"     key A while B was measured: {after['replays_done'] - before['replays_done']} "
            f"replays finished, {records:,} records ({records / plan.seconds:,.0f}/s), "
            f"{after['refused'] - before['refused']} refused (4430), "
            f"{after['failed'] - before['failed']} failed; the gateway's CPU with its replay "
            f"workers {100 * tree_cpu:.0f}% ({os.cpu_count()} CPUs)"
        )
    quiet = [r.report["p99_ms"] for r in unloaded]
    busy = [r.report["p99_ms"] for r in loaded]
    # What the gateway adds to Kafka's own p99 (the plain poll() consumer, same records, same
    # phase): the machine's other load reaches both alike.
    kafka = {
        r.report["phase"]: _percentile(probes[0].latencies_ms[r.report["phase"]], 0.99)
        for r in (*unloaded, *loaded)
    }
    added = {
        name: statistics.median(r.report["p99_ms"] - kafka[r.report["phase"]] for r in results)
        for name, results in (("unloaded", unloaded), ("loaded", loaded))
    }
    print(
        f"   key B p99 minus the plain consumer's p99 (what the gateway adds), median: unloaded "
        f"{added['unloaded']:.1f} ms, while key A replayed {added['loaded']:.1f} ms"
    )
    print(
        f"   key B p99 unloaded {' '.join(f'{v:.1f}' for v in quiet)} ms, while key A "
        f"replayed {' '.join(f'{v:.1f}' for v in busy)} ms"
    )
    ratios = [
        b / ((quiet[n] + quiet[n + 1]) / 2) for n, b in enumerate(busy)
    ]  # each against the unloaded phases either side
    median = statistics.median(busy) / statistics.median(quiet)
    print(
        f"   key B p99 loaded / unloaded: median {statistics.median(busy):.1f} / "
        f"{statistics.median(quiet):.1f} ms = {median:.2f}x; each loaded phase against the "
        f"unloaded ones either side: {' '.join(f'{r:.2f}x' for r in ratios)}   (goal <= 1.5x)"
        + ("" if median <= 1.5 else "  OVER")
    )


PARTS = ("memory", "fanout", "replay", "workers", "fairness")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer clients, shorter runs")
    parser.add_argument(
        "--only", choices=PARTS, action="append", help="run only these parts (repeatable)"
    )
    parser.add_argument("log_dir", nargs="?", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    parts = set(args.only or PARTS)
    given = "".join(f" --only {part}" for part in args.only or ())
    print_header("gateway", COMMAND + ("  --quick" if args.quick else "") + given)
    most = max(*(load.clients for load in plan.loads), *plan.idle_steps)
    fd_limit = raise_fd_limit(2 * most + 1000)
    clients = ensure_node_harness()
    settings = local_topics()
    asyncio.run(provision(settings))
    args.log_dir.mkdir(parents=True, exist_ok=True)
    if parts == {"replay"}:  # from Kafka only: no running gateway to fill a ring first
        replay_only(settings, plan, args.log_dir)
        return
    if parts == {"fairness"}:  # a gateway of its own
        bench_fairness(settings, plan, args.log_dir)
        print(f"   load average at end: {_load()}  ({os.cpu_count()} CPUs)")
        return
    # The running gateway's ring holds every record of the run, so a replay from earliest
    # is served from memory; the cold gateway of the replay bench shows the path from Kafka.
    env = {
        "GATEWAY_MAX_CONNECTIONS_PER_KEY": "1000000",
        "GATEWAY_TAIL_BUFFER": str(plan.replay_records + 50_000),
    }
    results: list[FanoutResult] = []
    with GatewayProcess(settings, args.log_dir, name="gateway-bench", **env) as gateway:
        pid = pid_listening_on(gateway.port)
        print(
            f"   gateway pid {pid} (log {gateway.log_path}), topic {settings.topic_analyzed} "
            f"({settings.topic_partitions} partitions); clients: {clients}; fd limit {fd_limit}"
        )
        print(f"   load average at start: {_load()}", flush=True)
        if "memory" in parts:
            bench_memory(gateway, pid, plan, args.log_dir)
        if "fanout" in parts or "workers" in parts:
            results = bench_fanout(settings, gateway, pid, plan, args.log_dir)
        if "replay" in parts:
            bench_replay(settings, gateway, pid, plan, args.log_dir)
    if "workers" in parts:
        workers = {"GATEWAY_MAX_CONNECTIONS_PER_KEY": "1000000", "GATEWAY_WORKERS": str(WORKERS)}
        with GatewayProcess(settings, args.log_dir, name="gateway-bench-2", **workers) as two:
            bench_workers(settings, two, plan, args.log_dir, results)
    if "fairness" in parts:
        bench_fairness(settings, plan, args.log_dir)
    print(f"   load average at end: {_load()}  ({os.cpu_count()} CPUs)")


def _load() -> str:
    return " ".join(f"{load:.1f}" for load in os.getloadavg())


if __name__ == "__main__":
    main()
