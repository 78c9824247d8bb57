"""Reading offset ranges of a topic: read_committed, decoded through the registry.

Partitions are assigned directly (no group, nothing committed): an export is a read of the log,
not a consumer anyone resumes. A partition is done at the first offset at or past its range's
end, or at its end of log: a range ending at the last stable offset may end with a transaction
marker, which takes an offset but is never delivered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import confluent_kafka

from services.common.avro import AvroCodec
from services.common.kafka import KafkaConsumer
from services.export.bounds import PartitionRange

_EOF = confluent_kafka.KafkaError._PARTITION_EOF


@dataclass(frozen=True, slots=True)
class ExportedRecord:
    partition: int
    offset: int
    value: dict[str, Any]  # the decoded Avro record


class RangeReader:
    """Yields the records of `ranges` in batches, in offset order within each partition."""

    def __init__(
        self,
        consumer: KafkaConsumer,
        codec: AvroCodec,
        topic: str,
        ranges: list[PartitionRange],
        on_advance: Callable[[int], None],
    ) -> None:
        self._consumer = consumer
        self._codec = codec
        self._topic = topic
        self._pending = {r.partition: r for r in ranges if r.size > 0}
        # Next offset per partition, so progress counts offsets covered (markers included).
        self._next = {r.partition: r.start for r in self._pending.values()}
        self._on_advance = on_advance

    async def batches(self, max_records: int = 1000) -> AsyncIterator[list[ExportedRecord]]:
        if not self._pending:
            return
        assignment = [
            confluent_kafka.TopicPartition(self._topic, p, r.start)
            for p, r in self._pending.items()
        ]
        await self._consumer.run("assign", self._consumer.handle.assign, assignment)
        while self._pending:
            batch: list[ExportedRecord] = []
            for message in await self._consumer.consume(max_records, wait_s=1.0):
                record = await self._take(message)
                if record is not None:
                    batch.append(record)
            if batch:
                yield batch

    async def _take(self, message: confluent_kafka.Message) -> ExportedRecord | None:
        partition, offset = message.partition(), message.offset()
        assert partition is not None
        assert offset is not None
        wanted = self._pending.get(partition)
        if wanted is None:  # done already; fetched before the pause took effect
            return None
        error = message.error()
        if (error is not None and error.code() == _EOF) or offset >= wanted.end:
            await self._finish(wanted)
            return None
        record = ExportedRecord(partition, offset, await self._codec.decode(message.value()))
        self._advance(partition, offset + 1)
        if offset + 1 >= wanted.end:
            await self._finish(wanted)
        return record

    def _advance(self, partition: int, to: int) -> None:
        self._on_advance(to - self._next[partition])
        self._next[partition] = to

    async def _finish(self, done: PartitionRange) -> None:
        self._advance(done.partition, done.end)
        del self._pending[done.partition]
        paused = [confluent_kafka.TopicPartition(self._topic, done.partition)]
        await self._consumer.run("pause", self._consumer.handle.pause, paused)
