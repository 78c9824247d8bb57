"""A topic's end offsets once no transaction is open in it, asked of the real broker.

A transaction's commit or abort returns once its coordinator has logged the decision; the
markers reach the topic's partitions after that. A test that reads what a transaction left must
wait for them first.
"""

from __future__ import annotations

import asyncio
import time

from confluent_kafka import IsolationLevel, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from services.common.positions import Positions

_LATEST: OffsetSpec = OffsetSpec.latest()  # type: ignore[no-untyped-call]


def _ends(admin: AdminClient, topic: str, isolation: IsolationLevel) -> Positions:
    partitions = admin.list_topics(topic, timeout=30).topics[topic].partitions
    request = dict.fromkeys((TopicPartition(topic, p) for p in partitions), _LATEST)
    futures = admin.list_offsets(request, isolation_level=isolation, request_timeout=30)
    return {tp.partition: future.result().offset for tp, future in futures.items()}


async def settled_ends(servers: str, topic: str) -> Positions:
    """Each partition's end, once the last stable offset has caught up with it."""
    admin = AdminClient({"bootstrap.servers": servers})
    deadline = time.monotonic() + 60
    while True:
        ends = await asyncio.to_thread(_ends, admin, topic, IsolationLevel.READ_UNCOMMITTED)
        stable = await asyncio.to_thread(_ends, admin, topic, IsolationLevel.READ_COMMITTED)
        if stable == ends:
            return ends
        if time.monotonic() > deadline:
            raise AssertionError(f"{topic}: transactions still open ({stable} of {ends})")
        await asyncio.sleep(0.2)
