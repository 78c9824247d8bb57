"""Offsets the broker keeps: ends of partitions, and durable client positions.

`ends` answers with the last stable offset (read_committed), so a client that starts at
"latest" never skips a record of a transaction still open. Client positions live in the Kafka
consumer group `sec-gateway.<client_id>`; acknowledgements are collected and written every
`interval_s` (and at once when a client goes), so a burst of acks costs one request.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from confluent_kafka import (
    ConsumerGroupTopicPartitions,
    IsolationLevel,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._listoffsets import OffsetSpec

from services.common.errors import ConfigurationError
from services.common.kafka import translate
from services.common.lifecycle import sleep_or_stop
from services.gateway.positions import Positions

log = structlog.get_logger(__name__)


_EARLIEST: OffsetSpec = OffsetSpec.earliest()  # type: ignore[no-untyped-call]
_LATEST: OffsetSpec = OffsetSpec.latest()  # type: ignore[no-untyped-call]


def group_of(client_id: str) -> str:
    return f"sec-gateway.{client_id}"


class BrokerOffsets:
    def __init__(self, config: dict[str, Any], interval_s: float) -> None:
        self._admin = AdminClient(config)
        self._interval_s = interval_s
        self._pending: dict[tuple[str, str], Positions] = {}  # (client_id, topic) -> positions

    async def partitions(self, topic: str) -> list[int]:
        def query() -> list[int]:
            described = self._admin.list_topics(topic, timeout=15).topics[topic]
            if described.error is not None or not described.partitions:
                raise ConfigurationError(
                    f"topic {topic} does not exist: run `sec-digester topics create`"
                )
            return sorted(described.partitions)

        found: list[int] = await self._blocking(query, f"describe {topic}")
        return found

    async def ends(self, topic: str, partitions: list[int], *, earliest: bool = False) -> Positions:
        return await self._list(topic, partitions, _EARLIEST if earliest else _LATEST)

    async def at_time(self, topic: str, partitions: list[int], millis: int) -> Positions:
        """First offset at or after `millis` per partition; -1 where there is none."""
        spec: OffsetSpec = OffsetSpec.for_timestamp(millis)
        return await self._list(topic, partitions, spec)

    async def _list(self, topic: str, partitions: list[int], spec: OffsetSpec) -> Positions:
        request = {TopicPartition(topic, p): spec for p in partitions}

        def query() -> Positions:
            futures = self._admin.list_offsets(
                request, isolation_level=IsolationLevel.READ_COMMITTED, request_timeout=15
            )
            return {tp.partition: future.result().offset for tp, future in futures.items()}

        ends: Positions = await self._blocking(query, f"list offsets of {topic}")
        return ends

    async def committed(self, client_id: str, topic: str, partitions: list[int]) -> Positions:
        group = group_of(client_id)
        request = [
            ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in partitions])
        ]

        def query() -> Positions:
            result = self._admin.list_consumer_group_offsets(request, request_timeout=15)[
                group
            ].result()
            return {tp.partition: tp.offset for tp in result.topic_partitions if tp.offset >= 0}

        committed: Positions = await self._blocking(query, f"read offsets of {group}")
        return committed

    def acknowledge(self, client_id: str, topic: str, positions: Positions) -> None:
        self._pending[(client_id, topic)] = dict(positions)

    async def flush(self, client_id: str | None = None) -> None:
        """Write pending acknowledgements (of one client, or of all)."""
        keys = [k for k in self._pending if client_id is None or k[0] == client_id]
        for key in keys:
            positions = self._pending.pop(key)
            group = group_of(key[0])
            request = [
                ConsumerGroupTopicPartitions(
                    group, [TopicPartition(key[1], p, o) for p, o in positions.items()]
                )
            ]
            try:
                await self._blocking(
                    lambda r=request, g=group: self._admin.alter_consumer_group_offsets(
                        r, request_timeout=15
                    )[g].result(),
                    f"commit offsets of {group}",
                )
            except Exception:  # the next ack or flush tries again; delivery is at least once
                self._pending.setdefault(key, positions)
                log.warning("committing acknowledged offsets failed", group=group, exc_info=True)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await sleep_or_stop(stop, self._interval_s)
            await self.flush()

    async def _blocking(self, work: Any, doing: str) -> Any:
        try:
            return await asyncio.to_thread(work)
        except KafkaException as exc:
            raise translate(exc, doing) from exc
