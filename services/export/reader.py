"""Reading offset ranges of a topic: read_committed, decoded through the registry.

Partitions are assigned directly (no group, nothing committed): an export is a read of the log,
not a consumer anyone resumes. How a range ends, transaction markers included, is read_range's
(services/common/kafka/ranges.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from services.common.avro import AvroCodec
from services.common.kafka import KafkaConsumer, read_range
from services.export.bounds import PartitionRange
from services.export.progress import Progress


async def exported_batches(
    consumer: KafkaConsumer,
    codec: AvroCodec,
    topic: str,
    ranges: list[PartitionRange],
    progress: Progress,
    max_records: int = 1000,
) -> AsyncIterator[list[dict[str, Any]]]:
    """The decoded records of `ranges`, in batches, in offset order within each partition;
    `progress` counts records and the offsets covered (transaction markers take offsets too)."""
    starts = {r.partition: r.start for r in ranges}
    ends = {r.partition: r.end for r in ranges}
    async for batch in read_range(consumer, topic, starts, ends, max_records=max_records):
        decoded = [await codec.decode(message.value()) for message in batch.records]
        progress.records += len(decoded)
        progress.advance(batch.covered - progress.covered)
        if decoded:
            yield decoded
