"""One client's stream: where it starts, replay while behind, then the live tail.

The session resolves the start to offsets and replays: from Kafka with a consumer of its own
while its position is older than the shared tail's ring, then from the ring (no decoding), and
the moment it has read the ring's newest record it subscribes to the tail — with nothing
awaited in between, so there is no gap and no duplicate. Replay waits for the client
(backpressure); live delivery never waits: a client whose queue overflows is cut off as too
slow, and told the cursor to resume from.

Frames reach the client one of two ways. A WebSocket client that is idle (nothing queued,
nothing being sent) and whose socket has room takes pre-encoded frames straight away
(services/gateway/stream/wire.py); otherwise frames wait in the session's bounded queue, which the
transport drains through `frames()` (SSE always does).

A WebSocket client may change its filter on the way (`subscribe`, `resubscribe`): the session
stops feeding, drops what it had not sent, and, once the transport has sent everything before,
acknowledges with its cursor and feeds again from that cursor under the new filter.

A replay of history (a position older than the ring: Kafka, a consumer of its own and the
replay workers' time) holds a slot of the client's key for as long as it reads Kafka
(`replay_slot`, services/gateway/limits.py). One the start already needs is taken by
`resolve`, so that a refusal comes before the stream starts (nothing to resume: the client
asks again the same way); one needed later (a subscribe from an older cursor, a client the ring
outran) ends the stream with its cursor. Such a replay also reads no faster than the key's
records a second allow, shared by its replays (`replay_pace`): history waits, live clients of
other keys do not. Reading Kafka only because the client is ahead of the shared tail (a
`latest` just resolved) is not a replay: no slot, no pace.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace

import orjson
import structlog

from services.common.avro import AvroCodec
from services.common.errors import BadParameterError
from services.common.filters import Filter
from services.common.kafka import Consumed, KafkaConsumer, PartitionEnd, partitions_at
from services.common.positions import (
    PositionResolver,
    Positions,
    Resolved,
    RunningCursor,
    StartSpec,
    describe_beyond_end,
    describe_gaps,
    format_cursor,
    parse_cursor,
)
from services.gateway.errors import UNDECODABLE_RECORD, ErrorCode, GatewayError, error_frame
from services.gateway.metrics import CLIENT_LAG, DELIVERIES, GAPS, REPLAYING
from services.gateway.stream.acks import group_of
from services.gateway.stream.fanout import LiveRecord, TopicTail, filing_frame, filing_head
from services.gateway.stream.transcoding import Transcoded, TranscoderPool, Undecodable
from services.gateway.stream.wire import WireWriter, text_frame

log = structlog.get_logger(__name__)

# Ring records examined per step of a replay from memory (then the loop lets others run).
_RING_STEP = 500
# Records asked of the consumer per batch of a replay from Kafka: one worker call each.
_REPLAY_BATCH = 500


class SlowConsumerError(GatewayError):
    """The client fell further behind than its queue allows."""

    def __init__(self, queue_size: int) -> None:
        super().__init__(
            ErrorCode.SLOW_CONSUMER, f"the client fell more than {queue_size} frames behind"
        )


@dataclass(frozen=True, slots=True)
class Frame:
    payload: bytes  # the JSON text
    cursor: str | None  # the position after this frame, for filing frames
    event: str  # filing, gap, caught_up, error, pong (the SSE event name); refused, subscribed


@dataclass(frozen=True, slots=True)
class _Resubscription(Frame):
    """Queued by `resubscribe`; the transport reaching it switches the session to `filter`."""

    filter: Filter


_SLOW = Frame(b"", None, "slow")
_FAILED = Frame(b"", None, "failed")
# Kept when `resubscribe` drops the unsent records: the answers to the client's own frames
# (ping, subscribe), and a gap at the start, which no later frame would tell again.
_KEPT_ON_RESUBSCRIBE = frozenset({"pong", "refused", "subscribed", "gap"})


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
        transcoder: TranscoderPool,
        queue_size: int,
        writer: WireWriter | None,
        replay_slot: Callable[[], AbstractContextManager[None]],
        replay_pace: Callable[[int], Awaitable[None]],
    ) -> None:
        self.request = request
        self._tail = tail
        self._resolver = resolver
        self._codec = codec
        self._open_consumer = open_consumer
        self._transcoder = transcoder
        self._queue: asyncio.Queue[Frame] = asyncio.Queue(maxsize=queue_size)
        self._writer = writer
        self._replay_slot = replay_slot
        self._replay_pace = replay_pace  # waits until the key may read that many more records
        # The slot `resolve` took for a start older than the ring, until the feed uses it.
        self._start_replay: contextlib.ExitStack | None = None
        self._sending = False  # the transport holds a frame from the queue
        self.start: Positions = {}
        self.cursor = ""  # after the last frame handed to the transport
        self._failure: BaseException | None = None
        self._feed: asyncio.Task[None] | None = None
        self._resubscriptions_queued = 0
        # Set when the client overflows its queue: a sender blocked on a full socket must be
        # interrupted, it will never read the marker left in the queue.
        self.too_slow = asyncio.Event()

    @property
    def filter(self) -> Filter:
        """What the shared tail groups its clients by (a subscribe leaves the tail first)."""
        return self.request.filter

    # -- immediate hand-over: the shared tail, caught_up and pong (never waits) -----------
    def deliver(self, wire: bytes, records: Sequence[LiveRecord]) -> bool:
        """Live records the client's filter matched (`wire`: their frames, joined), from the
        shared tail: straight to an idle socket in one write, else queued."""
        writer = self._writer
        if writer is not None and not self._sending and self._queue.empty() and writer.write(wire):
            self.cursor = records[-1].cursor
            return True
        for live in records:
            if self.too_slow.is_set():
                break  # cut off: it resumes from its cursor
            self._offer(Frame(live.record.frame, live.cursor, "filing"))
        return False

    def pong(self) -> None:
        self._offer(Frame(b'{"type":"pong"}', None, "pong"))

    def _idle_writer(self) -> WireWriter | None:
        """The socket, if frames may go straight to it: nothing is queued or being sent."""
        return None if self._sending or not self._queue.empty() else self._writer

    def _offer(self, frame: Frame) -> None:
        writer = self._idle_writer()
        if writer is not None and writer.write(text_frame(frame.payload)):
            self.cursor = frame.cursor or self.cursor
            return
        self._enqueue(frame)

    def _enqueue(self, frame: Frame) -> None:
        try:
            self._queue.put_nowait(frame)
        except asyncio.QueueFull:
            self._tail.leave(self)
            self._end_with(_SLOW)
            self.too_slow.set()

    def _end_with(self, last: Frame) -> None:
        """Drop what was not sent (the client resumes from its cursor) and end with `last`."""
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(last)

    # -- replay: waits for the client -----------------------------------------------------
    async def _emit(self, frames: list[Frame]) -> None:
        """A batch of replayed frames in one socket write, once the socket has room: replay
        waits for the client anyway, and a frame at a time through the queue costs a queue
        hand-over, a send and metrics per record. Through the queue only when something is
        queued before them (order), or without a writer (SSE, compression)."""
        if not frames:
            return
        wire = b""
        while (writer := self._idle_writer()) is not None:
            wire = wire or b"".join(text_frame(f.payload) for f in frames)
            if writer.write(wire):
                self.cursor = frames[-1].cursor or self.cursor
                DELIVERIES.inc(len(frames))
                return
            if writer.closed:
                break  # the sender ends the stream
            await writer.wait_writable()
        for frame in frames:
            await self._queue.put(frame)

    async def resolve(self) -> str:
        """Resolve the start (raises BadParameterError); returns the welcome frame.

        Records the start no longer finds (a gap) are announced by a `gap` frame, queued
        here so that it follows the welcome and comes before any record. A start older than
        the ring takes its replay slot here (GatewayError too_many_replays when the key holds
        all of them), before `cursor` is set: the refusal carries no cursor."""
        client_id = self.request.client_id
        resolved = await self._resolver.resolve(
            self.request.spec, group_of(client_id) if client_id else None
        )
        if resolved.beyond_end:
            # Reading from the end would skip whatever the partition holds below the position
            # asked for: the client chooses where to start instead.
            raise BadParameterError(
                "from",
                f"{describe_beyond_end(resolved.beyond_end)}: the position is not one of this "
                "topic (deleted and created again?); use from=earliest or from=latest",
            )
        if not self._tail.ring.covers(resolved.positions):
            held = contextlib.ExitStack()
            held.enter_context(self._replay_slot())
            self._start_replay = held
        self.start = resolved.positions
        self.cursor = format_cursor(self.start)
        if resolved.gaps:
            self._queue.put_nowait(self._gap_frame(resolved))
        return _json(
            {
                "type": "welcome",
                "topic": self.request.topic,
                "partitions": len(self._resolver.partitions),
                "from": self.cursor,
                "client_id": self.request.client_id,
                "filters": self.request.filter.describe(),
            }
        ).decode()

    def _gap_frame(self, resolved: Resolved) -> Frame:
        GAPS.inc()
        log.warning(
            "stream starts after a gap",
            topic=self.request.topic,
            client_id=self.request.client_id,
            gaps=describe_gaps(resolved.gaps),
        )
        frame = {
            "type": "gap",
            "topic": self.request.topic,
            "partitions": [
                {
                    "partition": gap.partition,
                    "requested": gap.requested,
                    "first_available": gap.first_available,
                    "missing": gap.missing,
                }
                for gap in resolved.gaps
            ],
            "cursor": self.cursor,
        }
        return Frame(_json(frame), self.cursor, "gap")

    def start_feed(self) -> None:
        """Feed the client from its start in the background; a failure ends `frames()`."""
        self._feed_from(self.start)

    def _feed_from(self, positions: Positions) -> None:
        self._feed = asyncio.create_task(self.feed(positions))
        self._feed.add_done_callback(self._feed_done)

    def stop_feed(self) -> None:
        if self._feed is not None:
            self._feed.cancel()
            self._feed = None

    def _feed_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._failure = task.exception()
            self._end_with(_FAILED)

    async def feed(self, start: Positions) -> None:
        """Replay from Kafka until the ring covers the position, from the ring, then live."""
        positions = dict(start)
        while not await self._replay_ring(positions):
            history = self._start_replay is not None or not self._tail.ring.covers(positions)
            with self._replay_slot_for(history):
                REPLAYING.inc()
                try:
                    await self._replay_kafka(positions, paced=history)
                finally:
                    REPLAYING.dec()

    def _replay_slot_for(self, history: bool) -> AbstractContextManager[object]:
        """The key's replay slot for reading Kafka: the one `resolve` took, a new one for
        `history` (older than the ring), none when only ahead of the tail."""
        held, self._start_replay = self._start_replay, None
        if held is not None:
            return held
        return self._replay_slot() if history else contextlib.nullcontext()

    def _from_ring(self, positions: Positions) -> bool:
        # Not when ahead of the tail: its live frames carry its cursor, which must never be
        # behind what this client has already been given.
        tail = self._tail
        ahead = any(o > tail.positions.get(p, 0) for p, o in positions.items())
        return not ahead and tail.ring.covers(positions)

    async def _replay_ring(self, positions: Positions) -> bool:
        """Replay from the ring and join live; False if Kafka must be read first."""
        if not self._from_ring(positions):
            return False
        ring, matches = self._tail.ring, self.request.filter.matches
        sequence = ring.start
        while True:
            if sequence < ring.start:
                return False  # overwritten before this client read them
            if sequence == ring.end:
                if not self._queue.full():
                    return self._join(positions)
                await asyncio.sleep(0.01)  # room for caught_up first, then look again
                continue
            frames = []
            step_end = min(ring.end, sequence + _RING_STEP)
            while sequence < step_end:
                record = ring[sequence]
                sequence += 1
                if record.offset < positions.get(record.partition, 0):
                    continue
                positions[record.partition] = record.offset + 1
                if matches(record.facts):
                    cursor = format_cursor(positions)
                    head = filing_head(cursor, record.partition, record.offset)
                    frames.append(Frame(head + record.frame[record.data_start :], cursor, "filing"))
            if frames:
                await self._emit(frames)
            else:
                await asyncio.sleep(0)  # a long stretch nobody wants: let others run

    def _join(self, positions: Positions) -> bool:
        # Everything the tail has read is behind this client now; the tail's position may be
        # further on than its last record (transaction markers), and is from now on the
        # client's: the next live frame carries it.
        positions.update(self._tail.positions)
        self._tail.subscribe(self)
        cursor = format_cursor(positions)
        self._offer(Frame(_json({"type": "caught_up", "cursor": cursor}), cursor, "caught_up"))
        return True

    async def _replay_kafka(self, positions: Positions, *, paced: bool) -> None:
        """Batches from a consumer of this session's own, each made JSON in a worker process;
        while one batch is there, the next ones are consumed and sent to the workers, so the
        workers, the consumer and this loop (frames, the socket) run side by side. `paced`
        (history): each batch waits for the key's replay rate first."""
        # Batches with the workers while one is framed: two per process, so that a worker
        # finding its next batch waiting never idles while this loop frames and writes.
        ahead = 2 * self._transcoder.processes
        pending: deque[tuple[list[Consumed], asyncio.Task[list[Transcoded]]]] = deque()
        try:
            async with self._open_consumer() as consumer:
                await consumer.assign(partitions_at(self._resolver.topic, positions))
                while not self._from_ring(positions):
                    batch = await consumer.consume_with_ends(_REPLAY_BATCH, wait_s=0.2)
                    if batch and paced:
                        await self._replay_pace(len(batch))
                    if batch:
                        pending.append((batch, asyncio.create_task(self._transcode(batch))))
                    # At the end of what is there, everything sent off is framed at once.
                    while pending and (len(pending) > ahead or not batch):
                        messages, transcoding = pending.popleft()
                        await self._emit(self._replayed(messages, await transcoding, positions))
        finally:
            # Left when the ring took over (or the client went): their records come again.
            for _, transcoding in pending:
                transcoding.cancel()
            await asyncio.gather(*(t for _, t in pending), return_exceptions=True)

    async def _transcode(self, messages: Sequence[Consumed]) -> list[Transcoded]:
        values = [m.value() for m in messages if type(m) is not PartitionEnd]
        return await self._transcoder.transcode(self._codec, values, self.request.filter)

    def _replayed(
        self, messages: Sequence[Consumed], transcoded: list[Transcoded], positions: Positions
    ) -> list[Frame]:
        """The frames of a batch, its records' JSON made by `transcode` (in the same order);
        moves `positions` past the batch. Each frame's cursor is the position after it."""
        cursor = RunningCursor(positions)
        outcomes = iter(transcoded)
        frames = []
        for message in messages:
            if type(message) is PartitionEnd:
                # Its end offset counts transaction markers, which are never delivered as
                # records: without this a replay could not reach the tail's position.
                ended = message.partition
                if message.offset > positions[ended]:
                    positions[ended] = message.offset
                    cursor.move(ended, message.offset)
                continue
            outcome = next(outcomes)
            partition, offset = message.partition(), message.offset()
            positions[partition] = offset + 1
            after = cursor.move(partition, offset + 1)
            if type(outcome) is bytes:
                frames.append(
                    Frame(filing_frame(after, partition, offset, outcome), after, "filing")
                )
            elif type(outcome) is Undecodable:
                frames.append(self._undecodable(partition, offset, outcome.reason, after))
        return frames

    def _undecodable(self, partition: int, offset: int, reason: str, cursor: str) -> Frame:
        """The notice of a record no one can read; the stream goes on after it."""
        log.warning(
            "undecodable record replayed as an error frame",
            topic=self.request.topic,
            partition=partition,
            offset=offset,
            error=reason,
        )
        notice = {
            "type": "error",
            "code": UNDECODABLE_RECORD,
            "partition": partition,
            "offset": offset,
            "message": reason,
            "cursor": cursor,
        }
        return Frame(_json(notice), cursor, "error")

    # -- a new filter on the way (WebSocket `subscribe`) ----------------------------------
    def resubscribe(self, chosen: Filter) -> None:
        """Filter with `chosen` from the current cursor on.

        Records the old filter let through that the transport has not taken yet are dropped:
        the feed stops, the session leaves the tail and the queue is emptied (but for answers
        to the client's frames), then a marker is queued. When the transport reaches it,
        everything before has been sent, so `cursor` is final: the `subscribed` frame carries
        it, and a new feed replays from it under `chosen` (the ring, else Kafka, then live).
        No gap, no duplicate, and the cursor never goes back."""
        if self.too_slow.is_set() or self._failure is not None:
            return  # the stream is ending: its last frame is queued already
        self.stop_feed()
        self._tail.leave(self)
        kept = []
        while not self._queue.empty():
            frame = self._queue.get_nowait()
            if frame.event in _KEPT_ON_RESUBSCRIBE:
                kept.append(frame)
        for frame in kept:
            self._queue.put_nowait(frame)  # no more than were there
        self._resubscriptions_queued += 1
        self._enqueue(_Resubscription(b"", None, "subscribed", chosen))

    def _resubscribed(self, chosen: Filter) -> Frame:
        """The transport reached a `resubscribe` marker: switch filters and acknowledge."""
        self.request = replace(self.request, filter=chosen)
        self._resubscriptions_queued -= 1
        if not self._resubscriptions_queued:  # else a later subscribe replaces this one
            self._feed_from(parse_cursor(self.cursor, "cursor"))
        subscribed = {"type": "subscribed", "cursor": self.cursor, "filters": chosen.describe()}
        return Frame(_json(subscribed), None, "subscribed")

    def refuse(self, error: GatewayError, frame_type: str) -> None:
        """Answer a client frame that changes nothing: the stream goes on as it was."""
        self._offer(Frame(error_frame(error, reply_to=frame_type).encode(), None, "refused"))

    @property
    def queue_size(self) -> int:
        return self._queue.maxsize

    async def frames(self, keepalive_s: float | None = None) -> AsyncIterator[Frame | None]:
        """The queued frames, in order; None after `keepalive_s` of silence (SSE keep-alive).

        Raises SlowConsumerError once the client has fallen too far behind."""
        while True:
            try:
                frame = await asyncio.wait_for(self._queue.get(), keepalive_s)
            except TimeoutError:
                yield None
                continue
            if frame is _SLOW:
                raise SlowConsumerError(self.queue_size)
            if frame is _FAILED:
                assert self._failure is not None
                raise self._failure
            if type(frame) is _Resubscription:
                frame = self._resubscribed(frame.filter)
            if frame.event == "filing":
                DELIVERIES.inc()
                CLIENT_LAG.observe(self._queue.qsize())
            self._sending = True
            try:
                yield frame
            finally:
                self._sending = False
            if frame.cursor is not None:
                self.cursor = frame.cursor

    def close(self) -> None:
        self._tail.leave(self)
        if self._start_replay is not None:  # the stream ended before its replay began
            self._start_replay.close()
            self._start_replay = None


def _json(value: object) -> bytes:
    return orjson.dumps(value)
