"""One client's stream: where it starts, replay from Kafka while behind, then the live tail.

The session resolves the start to offsets, replays with a consumer of its own until the shared
tail's buffer covers its position, then joins the tail (buffered records first, then
`caught_up`, then live). Replay waits for queue space (backpressure); live delivery never waits:
a client whose queue overflows is cut off as too slow, and told the cursor to resume from.
Frames reach the transport (WebSocket or SSE) through `frames()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import confluent_kafka
import orjson

from services.common.avro import AvroCodec
from services.common.errors import SecDigesterError
from services.common.kafka import KafkaConsumer
from services.gateway.filters import Filter, RecordFacts
from services.gateway.metrics import CLIENT_LAG, DELIVERIES, REPLAYING
from services.gateway.positions import PositionResolver, Positions, StartSpec, format_cursor
from services.gateway.tail import StreamRecord, TopicTail, data_json, filing_frame


class SlowConsumerError(SecDigesterError):
    """The client fell further behind than its queue allows."""


@dataclass(frozen=True, slots=True)
class Frame:
    text: str
    cursor: str | None  # the position after this frame, for filing frames
    event: str  # filing, caught_up, error, pong (the SSE event name)


_SLOW = Frame("", None, "slow")
_FAILED = Frame("", None, "failed")


@dataclass(frozen=True)
class StreamRequest:
    topic: str
    spec: StartSpec
    client_id: str | None
    filter: Filter


class StreamSession:
    def __init__(
        self,
        request: StreamRequest,
        tail: TopicTail,
        resolver: PositionResolver,
        codec: AvroCodec,
        open_consumer: Callable[[], KafkaConsumer],
        queue_size: int,
    ) -> None:
        self.request = request
        self._tail = tail
        self._resolver = resolver
        self._codec = codec
        self._open_consumer = open_consumer
        self._queue: asyncio.Queue[Frame] = asyncio.Queue(maxsize=queue_size)
        self.start: Positions = {}
        self.cursor = ""  # after the last frame handed to the transport
        self.live = False
        self._failure: BaseException | None = None
        # Set when the client overflows its queue: a sender blocked on a full socket must be
        # interrupted, it will never read the marker left in the queue.
        self.too_slow = asyncio.Event()

    # -- the shared tail calls these (synchronously, never blocking) ---------------------
    def deliver(self, record: StreamRecord) -> None:
        if not self.request.filter.matches(record.facts):
            return
        try:
            self._queue.put_nowait(Frame(record.frame, record.cursor, "filing"))
        except asyncio.QueueFull:
            self._tail.leave(self)
            self._end_with(_SLOW)
            self.too_slow.set()

    def _end_with(self, last: Frame) -> None:
        """Drop what was not sent (the client resumes from its cursor) and end with `last`."""
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(last)

    def caught_up(self, cursor: str) -> None:
        self.live = True
        self._queue.put_nowait(
            Frame(_json({"type": "caught_up", "cursor": cursor}), cursor, "caught_up")
        )

    # -- the session's own work ----------------------------------------------------------
    async def resolve(self) -> str:
        """Resolve the start (raises BadParameterError); returns the welcome frame."""
        self.start = await self._resolver.resolve(self.request.spec, self.request.client_id)
        self.cursor = format_cursor(self.start)
        return _json(
            {
                "type": "welcome",
                "topic": self.request.topic,
                "partitions": len(self._resolver.partitions),
                "from": self.cursor,
                "client_id": self.request.client_id,
                "filters": self.request.filter.describe(),
            }
        )

    def start_feed(self) -> asyncio.Task[None]:
        """Run `feed` in the background; if it fails, the failure ends `frames()`."""
        task = asyncio.create_task(self.feed())
        task.add_done_callback(self._feed_done)
        return task

    def _feed_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._failure = task.exception()
            self._end_with(_FAILED)

    async def feed(self) -> None:
        """Replay until the tail's buffer covers the position, then join live."""
        positions = dict(self.start)
        if self._join(positions):
            return
        REPLAYING.inc()
        try:
            async with self._open_consumer() as consumer:
                await consumer.run(
                    "assign",
                    consumer.handle.assign,
                    [
                        confluent_kafka.TopicPartition(self._resolver.topic, p, o)
                        for p, o in positions.items()
                    ],
                )
                while not self._join(positions):
                    for message in await consumer.consume(max_records=500, wait_s=0.2):
                        await self._replay_one(message, positions)
        finally:
            REPLAYING.dec()

    def _join(self, positions: Positions) -> bool:
        # Only when not ahead of the tail: its live frames carry its cursor, which must never
        # be behind what this client has already been given.
        ahead = any(o > self._tail.positions.get(p, 0) for p, o in positions.items())
        return not ahead and self._tail.try_join(self, positions)

    async def _replay_one(self, message: confluent_kafka.Message, positions: Positions) -> None:
        partition, offset = message.partition(), message.offset()
        assert partition is not None
        assert offset is not None
        if message.error() is not None:
            # End of the partition. Its end offset counts transaction markers, which are never
            # delivered as records: without this a replay could not reach the tail's position.
            positions[partition] = max(positions[partition], offset)
            return
        positions[partition] = offset + 1
        cursor = format_cursor(positions)
        try:
            record = await self._codec.decode(message.value())
        except SecDigesterError as exc:
            notice = {
                "type": "error",
                "code": "undecodable_record",
                "partition": partition,
                "offset": offset,
                "message": str(exc),
                "cursor": cursor,
            }
            await self._queue.put(Frame(_json(notice), cursor, "error"))
            return
        if self.request.filter.matches(RecordFacts.of(record)):
            frame = filing_frame(cursor, partition, offset, data_json(record))
            await self._queue.put(Frame(frame, cursor, "filing"))

    @property
    def queue_size(self) -> int:
        return self._queue.maxsize

    def pong(self) -> None:
        self._queue.put_nowait(Frame('{"type":"pong"}', None, "pong"))

    async def frames(self, keepalive_s: float | None = None) -> AsyncIterator[Frame | None]:
        """Frames to send, in order; None after `keepalive_s` of silence (SSE keep-alive).

        Raises SlowConsumerError once the client has fallen too far behind."""
        while True:
            try:
                frame = await asyncio.wait_for(self._queue.get(), keepalive_s)
            except TimeoutError:
                yield None
                continue
            if frame is _SLOW:
                raise SlowConsumerError(
                    f"the client fell more than {self.queue_size} frames behind"
                )
            if frame is _FAILED:
                assert self._failure is not None
                raise self._failure
            if frame.event == "filing":
                DELIVERIES.inc()
                CLIENT_LAG.observe(self._queue.qsize())
            yield frame
            if frame.cursor is not None:
                self.cursor = frame.cursor

    def close(self) -> None:
        self._tail.leave(self)


def _json(value: object) -> str:
    return orjson.dumps(value).decode()
