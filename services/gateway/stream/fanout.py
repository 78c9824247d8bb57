"""The fan-out of a topic: one consumer per gateway process (the topic's shared tail) feeds
every live client.

Each record is decoded once, turned into JSON once, and — since every live client has seen
everything up to the tail — framed once: the same `filing` frame, with the tail's cursor, goes
to every live client whose filter matches, already framed for WebSocket so that an idle
client's socket just takes the bytes (services/gateway/stream/wire.py). Recent records stay in a
ring (services/gateway/stream/ring.py), so a client that is a little behind catches up from memory.

The tail works a batch at a time (what one consume returned; at high rates many records): the
live clients are grouped by filter, each group's matching frames are matched and joined once,
and each idle client gets them in one write. Per client that leaves one `transport.write`
(the syscall dominates the profile at 10,000 clients) and a couple of attribute checks.

Delivery to a client never waits: a client that cannot take a record at once queues it, and a
client whose queue is full is closed as too slow (it resumes with its cursor), so one slow
client cannot slow down the others.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from services.common.avro import AvroCodec
from services.common.errors import SecDigesterError
from services.common.filters import Filter, RecordFacts
from services.common.kafka import Consumed, KafkaConsumer, PartitionEnd, partitions_at
from services.common.positions import Positions, format_cursor
from services.common.record_json import record_json
from services.gateway.metrics import DELIVERIES, FRESHNESS, TAIL_POSITION
from services.gateway.stream.ring import BufferedRecord, RecordRing
from services.gateway.stream.wire import text_frame

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
    @property
    def filter(self) -> Filter: ...

    def deliver(self, wire: bytes, records: Sequence[LiveRecord]) -> bool:
        """Take live records (`wire`: their frames, joined) without blocking (a full queue
        closes the client); True when they went straight to the client's socket."""


class TopicTail:
    def __init__(
        self,
        consumer: KafkaConsumer,
        codec: AvroCodec,
        topic: str,
        start: Positions,
        ring: RecordRing,
    ) -> None:
        self._consumer = consumer
        self._codec = codec
        self.topic = topic
        self.positions: Positions = dict(start)
        self.ring = ring
        # Live clients by filter (a dict as an ordered set): a record is matched once per
        # distinct filter, however many clients share it.
        self._groups: dict[Filter, dict[Subscriber, None]] = {}
        self.running = False
        self._since_accepted = FRESHNESS.labels(topic=topic, since="accepted")
        self._since_detected = FRESHNESS.labels(topic=topic, since="detected")
        self._position = TAIL_POSITION.labels(topic=topic)

    async def run(self, stop: asyncio.Event) -> None:
        await self._consumer.assign(partitions_at(self.topic, self.positions))
        self._position.set(sum(self.positions.values()))
        self.running = True
        try:
            while not stop.is_set():
                batch = await self._consumer.consume_with_ends(max_records=1000, wait_s=0.2)
                decoded = [await self._decode(message) for message in batch]
                # From here to the last write nothing is awaited: a client finishing its
                # replay from the ring joins either before these records (and gets them live)
                # or after them (and has read them from the ring), never in between.
                self._fan_out(self._take(batch, decoded))
                if batch:
                    self._position.set(sum(self.positions.values()))
                for record in decoded:
                    if record is not None:
                        self._observe_freshness(record)
        finally:
            self.running = False

    async def _decode(self, message: Consumed) -> dict[str, Any] | None:
        if type(message) is PartitionEnd:
            return None
        try:
            return await self._codec.decode(message.value())
        except SecDigesterError as exc:
            # Not deliverable to anyone; the position moves on so no client waits for it.
            log.error(
                "undecodable record skipped",
                topic=self.topic,
                partition=message.partition(),
                offset=message.offset(),
                error=str(exc),
            )
            return None

    def _take(
        self, batch: Sequence[Consumed], decoded: Sequence[dict[str, Any] | None]
    ) -> list[LiveRecord]:
        """Move the position over the batch, ring its records; the live records, in order."""
        positions, taken = self.positions, []
        for message, record in zip(batch, decoded, strict=True):
            if type(message) is PartitionEnd:  # past any transaction markers
                ended = message.partition
                positions[ended] = max(positions[ended], message.offset)
                continue
            partition, offset = message.partition(), message.offset()
            positions[partition] = offset + 1
            if record is None:
                continue
            cursor = format_cursor(positions)
            buffered = buffer_record(partition, offset, record, cursor)
            self.ring.append(buffered)
            taken.append(LiveRecord(buffered, cursor, text_frame(buffered.frame)))
        return taken

    def _fan_out(self, taken: Sequence[LiveRecord]) -> None:
        if not taken:
            return
        written = 0
        for wanted, members in list(self._groups.items()):
            matches = wanted.matches
            records = [live for live in taken if matches(live.record.facts)]
            if not records:
                continue
            wire = records[0].wire if len(records) == 1 else b"".join(r.wire for r in records)
            # A copy: a client that overflows its queue leaves the group during the loop.
            for subscriber in list(members):
                if subscriber.deliver(wire, records):
                    written += len(records)
        if written:
            DELIVERIES.inc(written)

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
        self._groups.setdefault(subscriber.filter, {})[subscriber] = None

    def leave(self, subscriber: Subscriber) -> None:
        members = self._groups.get(subscriber.filter)
        if members is None or subscriber not in members:
            return
        del members[subscriber]
        if not members:
            del self._groups[subscriber.filter]
