"""Committed offsets of consumer groups (the gateway's durable client positions), written and
read through a consumer of each group, from a small pool of them.

Why not the admin client's AlterConsumerGroupOffsets and ListConsumerGroupOffsets: librdkafka
sends these coordinator-targeted Admin requests through `rd_kafka_admin_coord_request()`, whose
error path, when the inner request fails (the connection to the coordinator is down), frees the
eonce its caller still uses. The process then aborts inside librdkafka with
`rd_kafka_enq_once_del_source_return: Assertion 'eonce->refcnt > 0' failed`: a gateway
committing a client's acknowledgements while its broker restarted died so, dropping every
client (confluentinc/librdkafka PR #5397, "admin: fix use-after-free in coord_request error
path"; open and in no confluent-kafka release as of this writing). A consumer's `commit()` and
`committed()` go through its consumer-group state machine instead (coordinator lookup,
OffsetCommit and OffsetFetch with their own timeouts), which fails cleanly while the
coordinator is away: a commit blocks until the coordinator answers or, about 45 s into an
outage, fails with `_WAIT_COORD`; a read fails with `_TIMED_OUT` after its wait.

A consumer commits only for its own `group.id`, and a librdkafka handle is threads and broker
connections: thousands of durable clients must not mean thousands of handles. So at most `size`
are open, created on demand; to make room, the least recently used one that no call is using is
closed. A handle is never closed while a call on it runs (closing a handle another thread is in
is the kind of use-after-free above): every call holds a lease on its handle, and eviction and
shutdown take only handles without leases, waiting for one otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

from services.common.errors import KafkaClientError
from services.common.kafka.config import consumer_config
from services.common.kafka.consumer import KafkaConsumer
from services.common.settings import CommonSettings

Offsets = dict[int, int]  # partition -> offset


@dataclass(slots=True)
class _GroupConsumer:
    consumer: KafkaConsumer
    leases: int = 0


class GroupOffsets:
    def __init__(self, settings: CommonSettings, *, size: int, client_id: str) -> None:
        if size < 1:
            raise ValueError("a pool of group consumers needs room for one")
        self._settings = settings
        self._size = size
        self._client_id = client_id
        self._consumers: OrderedDict[str, _GroupConsumer] = OrderedDict()  # oldest use first
        self._changed = asyncio.Condition()
        self._closed = False
        self.opened = 0  # handles created so far
        self.evicted = 0  # of which closed to make room

    async def commit(
        self, group: str, topic: str, offsets: Mapping[int, int], metadata: str | None = None
    ) -> None:
        """Set the group's committed offsets (the group has no active members), each with
        `metadata` if given."""
        async with self._lease(group) as consumer:
            await consumer.commit_offsets(topic, offsets, metadata)

    async def committed(self, group: str, topic: str, partitions: list[int]) -> Offsets:
        """The group's committed offsets, for the partitions that have one."""
        async with self._lease(group) as consumer:
            return await consumer.committed_offsets(topic, partitions)

    async def committed_with_metadata(
        self, group: str, topic: str, partitions: list[int]
    ) -> dict[int, tuple[int, str | None]]:
        """The group's committed offsets with the metadata of each."""
        async with self._lease(group) as consumer:
            return await consumer.committed_with_metadata(topic, partitions)

    def open_handles(self) -> int:
        return len(self._consumers)

    async def aclose(self) -> None:
        """Close every handle once no call uses it; calls after this fail."""
        async with self._changed:
            self._closed = True
            self._changed.notify_all()
            await self._changed.wait_for(
                lambda: all(c.leases == 0 for c in self._consumers.values())
            )
            closing = list(self._consumers.values())
            self._consumers.clear()
        for entry in closing:
            await _close(entry.consumer)

    @contextlib.asynccontextmanager
    async def _lease(self, group: str) -> AsyncIterator[KafkaConsumer]:
        entry, evicted = await self._take(group)
        try:
            if evicted is not None:
                await _close(evicted)
            yield entry.consumer
        finally:
            async with self._changed:
                entry.leases -= 1
                self._changed.notify_all()

    async def _take(self, group: str) -> tuple[_GroupConsumer, KafkaConsumer | None]:
        """The group's consumer, leased; and the idle one evicted to make room for it, if any
        (closed by the caller, outside the lock: closing waits for librdkafka)."""
        async with self._changed:
            while True:
                if self._closed:
                    raise KafkaClientError("the group consumers are closed", retriable=False)
                entry = self._consumers.get(group)
                if entry is not None:
                    self._consumers.move_to_end(group)
                    entry.leases += 1
                    return entry, None
                evicted: KafkaConsumer | None = None
                if len(self._consumers) >= self._size:
                    idle = next((g for g, c in self._consumers.items() if c.leases == 0), None)
                    if idle is None:
                        await self._changed.wait()  # every handle is in a call: wait for one
                        continue
                    evicted = self._consumers.pop(idle).consumer
                    self.evicted += 1
                config = consumer_config(self._settings, client_id=self._client_id, group_id=group)
                # Making the handle does no I/O (librdkafka connects on its own threads).
                consumer = await KafkaConsumer(config).__aenter__()
                self.opened += 1
                entry = self._consumers[group] = _GroupConsumer(consumer, leases=1)
                return entry, evicted


async def _close(consumer: KafkaConsumer) -> None:
    # Closing leaves nothing behind that matters: the commits it made are on the broker.
    with contextlib.suppress(KafkaClientError):
        await consumer.__aexit__(None, None, None)
