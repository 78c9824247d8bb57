"""Reading a range of a topic once, in offset order per partition: the one reader of
"from here to the end" (and "from here to there") that start-up reads and exports use.

The range of a partition ends at its end offset, exclusive. Where no ends are given, that is
the partition's high watermark when the read starts, so a read of a topic being written
terminates. With read_committed the last offsets of a range can be transaction markers (a
commit or abort marker takes an offset but is never delivered), or records of a transaction
still open, so a partition is done when the next position reaches its end offset *or* the
consumer reports the partition's end (EOF, at the last stable offset), whichever comes first:
waiting for a record at the end offset would wait for ever.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import confluent_kafka

from services.common.kafka.consumer import KafkaConsumer
from services.common.kafka.messages import (
    PartitionEnd,
    SuccessfulMessage,
    partitions_at,
    partitions_of,
)

# Logical start offsets librdkafka understands, resolved here against the watermarks.
_BEGINNING = confluent_kafka.OFFSET_BEGINNING
_END = confluent_kafka.OFFSET_END


@dataclass(frozen=True, slots=True)
class RangeBatch:
    records: list[SuccessfulMessage]  # in offset order within each partition
    covered: int  # offsets of the range read so far, all partitions, markers included


async def read_range(
    consumer: KafkaConsumer,
    topic: str,
    starts: Mapping[int, int],
    ends: Mapping[int, int] | None = None,
    *,
    max_records: int = 1000,
) -> AsyncIterator[RangeBatch]:
    """The records of `topic` from `starts` (per partition: an offset, OFFSET_BEGINNING or
    OFFSET_END) up to `ends` (exclusive; None: each partition's end now), in batches.

    The consumer must report partition ends (`enable.partition.eof`) and is assigned the
    partitions of the range; nothing is committed. A batch comes whenever records were read or
    a partition finished (so `covered` reaches the range's size)."""
    bounds = await _bounds(consumer, topic, starts, ends)
    first = {p: start for p, (start, end) in bounds.items() if end > start}
    if not first:
        return
    unfinished = {p: bounds[p][1] for p in first}  # partition -> end offset
    position = dict(first)  # the next offset per partition; its end once finished
    await consumer.assign(partitions_at(topic, first))
    while unfinished:
        records: list[SuccessfulMessage] = []
        finished: list[int] = []
        for message in await consumer.consume_with_ends(max_records, wait_s=1.0):
            if type(message) is PartitionEnd:
                end = unfinished.pop(message.partition, None)
                if end is not None:
                    position[message.partition] = end
                    finished.append(message.partition)
                continue
            partition = message.partition()
            end = unfinished.get(partition)
            if end is None:  # finished already: fetched before the pause took effect
                continue
            offset = message.offset()
            if offset < end:
                records.append(message)
            if offset + 1 >= end:
                del unfinished[partition]
                position[partition] = end
                finished.append(partition)
            else:
                position[partition] = offset + 1
        if finished:
            await consumer.pause(partitions_of(topic, finished))
        if records or finished:
            covered = sum(position[p] - start for p, start in first.items())
            yield RangeBatch(records, covered)


async def _bounds(
    consumer: KafkaConsumer,
    topic: str,
    starts: Mapping[int, int],
    ends: Mapping[int, int] | None,
) -> dict[int, tuple[int, int]]:
    """Per partition, the concrete (start, end) of the range."""
    bounds = {}
    for partition, start in starts.items():
        if ends is not None and start >= 0:
            bounds[partition] = (start, ends[partition])
            continue
        low, high = await consumer.watermarks(confluent_kafka.TopicPartition(topic, partition))
        end = high if ends is None else ends[partition]
        bounds[partition] = ({_BEGINNING: low, _END: end}.get(start, start), end)
    return bounds
