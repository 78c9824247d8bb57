"""The shared tail of a topic: one consumer per gateway process feeds every live client.

Each record is decoded once, turned into JSON once, and — since every live client has seen
everything up to the tail — framed once: the same `filing` frame, with the tail's cursor, goes
to every live client whose filter matches. Recent records stay in a ring buffer, so a client
that has replayed up to (nearly) the tail joins from the buffer without a gap or a duplicate.

Delivery to a client never waits: `StreamRecord`s are handed to the client's bounded queue, and
a client whose queue is full is closed as too slow (it resumes with its cursor), so one slow
client cannot slow down the others.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import confluent_kafka
import orjson
import structlog

from services.common.avro import AvroCodec
from services.common.errors import SecDigesterError
from services.common.kafka import KafkaConsumer
from services.gateway.filters import RecordFacts
from services.gateway.positions import Positions, format_cursor

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class StreamRecord:
    partition: int
    offset: int
    facts: RecordFacts
    cursor: str  # the tail's position after this record
    frame: str  # the whole `filing` frame for a client at the tail's position


def data_json(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record, option=orjson.OPT_UTC_Z)


def filing_frame(cursor: str, partition: int, offset: int, data: bytes) -> str:
    head = (
        f'{{"type":"filing","cursor":"{cursor}","partition":{partition},"offset":{offset},"data":'
    )
    return head + data.decode() + "}"


class Subscriber(Protocol):
    def deliver(self, record: StreamRecord) -> None:
        """Take a live record without blocking (a full queue closes the client)."""

    def caught_up(self, cursor: str) -> None:
        """Replay is over: from now on the records are live."""


class TopicTail:
    def __init__(
        self,
        consumer: KafkaConsumer,
        codec: AvroCodec,
        topic: str,
        start: Positions,
        *,
        buffer_size: int,
        on_record: Callable[[bytes], None] | None = None,
    ) -> None:
        self._consumer = consumer
        self._codec = codec
        self.topic = topic
        self.positions: Positions = dict(start)
        self._buffer: deque[StreamRecord] = deque()
        self._buffer_size = buffer_size
        # Per partition, the first offset still available from the buffer: a client positioned
        # at or after it can join without reading Kafka.
        self._buffer_floor: Positions = dict(start)
        self._subscribers: set[Subscriber] = set()
        self._on_record = on_record
        self.running = False

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    async def run(self, stop: asyncio.Event) -> None:
        await self._consumer.run(
            "assign",
            self._consumer.handle.assign,
            [confluent_kafka.TopicPartition(self.topic, p, o) for p, o in self.positions.items()],
        )
        self.running = True
        try:
            while not stop.is_set():
                for message in await self._consumer.consume(max_records=1000, wait_s=0.2):
                    await self._take(message)
        finally:
            self.running = False

    async def _take(self, message: confluent_kafka.Message) -> None:
        partition, offset = message.partition(), message.offset()
        assert partition is not None
        assert offset is not None
        if message.error() is not None:  # end of partition: past any transaction markers
            self.positions[partition] = max(self.positions[partition], offset)
            return
        try:
            record = await self._codec.decode(message.value())
        except SecDigesterError as exc:
            # Not deliverable to anyone; the position moves on so no client waits for it.
            log.error(
                "undecodable record skipped",
                topic=self.topic,
                partition=partition,
                offset=offset,
                error=str(exc),
            )
            self.positions[partition] = offset + 1
            return
        self.positions[partition] = offset + 1
        data, cursor = data_json(record), format_cursor(self.positions)
        # Only the frame is kept (the buffer holds thousands): orjson's output carries a
        # much larger allocation than its length.
        stream_record = StreamRecord(
            partition,
            offset,
            RecordFacts.of(record),
            cursor,
            filing_frame(cursor, partition, offset, data),
        )
        self._remember(stream_record)
        for subscriber in list(self._subscribers):
            subscriber.deliver(stream_record)
        if self._on_record is not None:
            self._on_record(data)

    def _remember(self, record: StreamRecord) -> None:
        self._buffer.append(record)
        if len(self._buffer) > self._buffer_size:
            gone = self._buffer.popleft()
            self._buffer_floor[gone.partition] = gone.offset + 1

    def try_join(self, subscriber: Subscriber, positions: Positions) -> bool:
        """Join live if the buffer covers `positions`: buffered records at or after them are
        delivered first, then `caught_up`, then live records. False if Kafka must be read."""
        if any(positions.get(p, 0) < floor for p, floor in self._buffer_floor.items()):
            return False
        for record in self._buffer:
            if record.offset >= positions.get(record.partition, 0):
                subscriber.deliver(record)
        subscriber.caught_up(format_cursor(self.positions))
        self._subscribers.add(subscriber)
        return True

    def leave(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
