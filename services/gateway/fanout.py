"""The fan-out of a topic: one consumer per gateway process (the topic's shared tail) feeds
every live client.

Each record is decoded once, turned into JSON once, and — since every live client has seen
everything up to the tail — framed once: the same `filing` frame, with the tail's cursor, goes
to every live client whose filter matches, already framed for WebSocket so that an idle
client's socket just takes the bytes (services/gateway/wire.py). Recent records stay in a ring
(services/gateway/ring.py), so a client that is a little behind catches up from memory.

Delivery to a client never waits: a client that cannot take a record at once queues it, and a
client whose queue is full is closed as too slow (it resumes with its cursor), so one slow
client cannot slow down the others.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from services.common.avro import AvroCodec
from services.common.errors import SecDigesterError
from services.common.kafka import Consumed, KafkaConsumer, PartitionEnd, partitions_at
from services.common.positions import Positions, format_cursor
from services.common.record_json import record_json
from services.gateway.filters import RecordFacts
from services.gateway.metrics import DELIVERIES, FRESHNESS
from services.gateway.ring import BufferedRecord, RecordRing
from services.gateway.wire import text_frame

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class LiveRecord:
    record: BufferedRecord
    cursor: str  # the tail's position after this record
    wire: bytes  # the record's frame (with that cursor) as one WebSocket text frame


def filing_head(cursor: str, partition: int, offset: int) -> bytes:
    """A `filing` frame up to its `data` object."""
    return (
        f'{{"type":"filing","cursor":"{cursor}","partition":{partition},"offset":{offset},"data":'
    ).encode()


def filing_frame(cursor: str, partition: int, offset: int, data: bytes) -> bytes:
    return filing_head(cursor, partition, offset) + data + b"}"


def buffer_record(
    partition: int, offset: int, record: dict[str, Any], cursor: str
) -> BufferedRecord:
    """The record as the ring keeps it: its frame with `cursor`."""
    head = filing_head(cursor, partition, offset)
    frame = head + record_json(record) + b"}"
    return BufferedRecord(partition, offset, RecordFacts.of(record), frame, len(head))


class Subscriber(Protocol):
    def deliver(self, live: LiveRecord) -> bool:
        """Take a live record without blocking (a full queue closes the client); True when
        the record went straight to the client's socket."""


class TopicTail:
    def __init__(
        self,
        consumer: KafkaConsumer,
        codec: AvroCodec,
        topic: str,
        start: Positions,
        ring: RecordRing,
        *,
        on_record: Callable[[dict[str, Any], BufferedRecord], None] | None = None,
    ) -> None:
        self._consumer = consumer
        self._codec = codec
        self.topic = topic
        self.positions: Positions = dict(start)
        self.ring = ring
        self._subscribers: set[Subscriber] = set()
        self._on_record = on_record
        self.running = False
        self._since_accepted = FRESHNESS.labels(topic=topic, since="accepted")
        self._since_detected = FRESHNESS.labels(topic=topic, since="detected")

    async def run(self, stop: asyncio.Event) -> None:
        await self._consumer.assign(partitions_at(self.topic, self.positions))
        self.running = True
        try:
            while not stop.is_set():
                for message in await self._consumer.consume_with_ends(max_records=1000, wait_s=0.2):
                    await self._take(message)
        finally:
            self.running = False

    async def _take(self, message: Consumed) -> None:
        if type(message) is PartitionEnd:  # past any transaction markers
            ended = message.partition
            self.positions[ended] = max(self.positions[ended], message.offset)
            return
        partition, offset = message.partition(), message.offset()
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
        cursor = format_cursor(self.positions)
        buffered = buffer_record(partition, offset, record, cursor)
        self.ring.append(buffered)
        live = LiveRecord(buffered, cursor, text_frame(buffered.frame))
        written = sum(subscriber.deliver(live) for subscriber in list(self._subscribers))
        if written:
            DELIVERIES.inc(written)
        self._observe_freshness(record)
        if self._on_record is not None:
            self._on_record(record, buffered)

    def _observe_freshness(self, record: Mapping[str, Any]) -> None:
        """Once per record, when the live clients have it: how fresh the stream is."""
        filing = record.get("filing", record)
        now = time.time()
        accepted, detected = filing.get("accepted_at"), filing.get("detected_at")
        if isinstance(accepted, dt.datetime):
            self._since_accepted.observe(max(0.0, now - accepted.timestamp()))
        if isinstance(detected, dt.datetime):
            self._since_detected.observe(max(0.0, now - detected.timestamp()))

    def subscribe(self, subscriber: Subscriber) -> None:
        """From the next record on; the caller has read everything before it (from the ring)."""
        self._subscribers.add(subscriber)

    def leave(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
