"""Committing durable client positions: the gateway's pool of per-group consumers
(services/common/kafka/group_offsets.py) beside the admin client requests it replaced.

1. commit, admin client: AlterConsumerGroupOffsets, one group after another (the old path,
   which aborts the process when the coordinator's connection fails mid-request).
2. commit, pool, warm: as many groups as the pool holds, each commit on its open handle.
3. commit, pool, churn: more groups than the pool holds, so every commit opens a handle and
   closes the least recently used one (the worst case: thousands of clients acking in turn).
4. read, warm and churn: `committed()` (what `from=committed` costs at a connection).
5. what an open handle costs: threads and resident memory per pooled consumer.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import confluent_kafka
from confluent_kafka.admin import AdminClient

from bench._setup import local_topics, print_header
from services.common.kafka import GroupOffsets
from services.common.topics import create_topics

_COMMITS = 200
_POOL = 8


def _resident_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _threads() -> int:
    """Every thread of the process, librdkafka's (native) included."""
    return len(list(Path("/proc/self/task").iterdir()))


async def _timed(label: str, call: Callable[[int], Awaitable[object]]) -> None:
    took = []
    for i in range(_COMMITS):
        start = time.perf_counter()
        await call(i)
        took.append((time.perf_counter() - start) * 1000)
    p99 = statistics.quantiles(took, n=100)[98]
    print(f"   {label}: {len(took)} calls, p50 {statistics.median(took):.1f} ms, p99 {p99:.1f} ms")


async def main() -> None:
    print_header(
        "durable client positions: a pool of per-group consumers vs the admin client",
        "python -m bench.group_commits",
    )
    settings = local_topics()
    await create_topics(settings)
    topic = settings.topic_analyzed
    offsets = {0: 0, 1: 0, 2: 0}
    prefix = f"bench-{uuid.uuid4().hex[:6]}"
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap_servers})

    def admin_commit(group: str) -> None:
        request = [
            confluent_kafka.ConsumerGroupTopicPartitions(
                group, [confluent_kafka.TopicPartition(topic, p, o) for p, o in offsets.items()]
            )
        ]
        admin.alter_consumer_group_offsets(request, request_timeout=15)[group].result()

    await _timed(
        "commit, admin client (AlterConsumerGroupOffsets)",
        lambda i: asyncio.to_thread(admin_commit, f"{prefix}-admin-{i}"),
    )
    pool = GroupOffsets(settings, size=_POOL, client_id="bench-positions")
    warm = [f"{prefix}-warm-{i}" for i in range(_POOL)]
    for group in warm:  # open the pool's handles first
        await pool.commit(group, topic, offsets)
    await _timed(
        f"commit, pool of {_POOL}, warm (groups in the pool)",
        lambda i: pool.commit(warm[i % _POOL], topic, offsets),
    )
    await _timed(
        f"commit, pool of {_POOL}, churn (a new group each: open one, close the oldest)",
        lambda i: pool.commit(f"{prefix}-churn-{i}", topic, offsets),
    )
    await _timed(
        f"read committed, pool of {_POOL}, warm",
        lambda i: pool.committed(warm[i % _POOL], topic, [0, 1, 2]),
    )
    await _timed(
        f"read committed, pool of {_POOL}, churn",
        lambda i: pool.committed(f"{prefix}-read-{i}", topic, [0, 1, 2]),
    )
    print(f"   handles opened {pool.opened}, closed to make room {pool.evicted}")
    await pool.aclose()

    big = GroupOffsets(settings, size=64, client_id="bench-positions")
    threads, resident = threading.active_count(), _resident_kib()
    native_threads = _threads()
    for i in range(64):
        await big.commit(f"{prefix}-size-{i}", topic, offsets)
    await asyncio.sleep(1)
    per_native = (_threads() - native_threads) / 64
    per_python = (threading.active_count() - threads) / 64
    per_kib = (_resident_kib() - resident) / 64
    print(
        f"   an open handle: {per_native:.1f} threads ({per_python:.1f} of them Python's), "
        f"{per_kib:.0f} KiB resident"
    )
    started = time.perf_counter()
    await big.aclose()
    print(f"   closing 64 idle handles: {(time.perf_counter() - started) * 1000 / 64:.1f} ms each")


if __name__ == "__main__":
    asyncio.run(main())
