"""The feeder: the analyzed topic and the text topic into the store, exactly once.

A read_committed consumer with the partitions of both topics assigned from the offsets stored
in the database (no consumer group: the database is where the feeder's position lives, so it
cannot drift from the rows). Each batch is one database transaction holding the rows, the texts
and the offsets of both topics after them: killed anywhere, the feeder restarts from the last
transaction that committed, and a record is written once or, if its transaction did not
commit, again from the start.

The positions also move past transaction markers at a partition's end (`enable.partition.eof`:
the end is the last stable offset), so a store that has caught up reports the topic's end as
its `as_of`.

The two topics, one view. analyze commits a filing's analysis and its text in one transaction,
but the feeder may read either first. An analysis whose `text_bytes` says a text was written
with it is held back (not written, and the analyzed position not moved past it) until that
text (same accession, same analyzed_at) has been read; texts are written as they come, waiting
in the store for their analysis when they come first. So every filing before `as_of`, the
analyzed topic's cursor that /stream continues from, is answered with its text: a `q` that only
its text matches finds it as soon as it is in `as_of`, never later, and a query-then-subscribe
neither loses it at the seam nor gives it twice. An analysis without text (none was written:
`text_bytes` null, or a record older than the text topic) is stored at once. A text that never
comes (the text topic's records removed by retention, or created again) holds its analysis only
while the text topic has more to read and for `STORE_TEXT_WAIT_S` after: then the analysis is
stored without it, logged and counted (`store_texts_missing_total`). At most `STORE_HELD_MAX`
analyses are held; beyond that the analyzed partitions pause while the text topic catches up.

Where it starts, for each topic:
- an empty store (new, or of another layout or topics: the store rebuilds itself) reads every
  partition from its beginning, logging progress and its lag until it has caught up;
- a stored position beyond a partition's end means the topic was deleted and created again: the
  store is rebuilt and fed from the beginning (both topics);
- a stored position below a partition's start means retention removed records the store never
  read: it is logged (with how many) and reading starts at the first one left;
- a partition the store has no position for (new, or added to the topic) starts at its
  beginning.

A record that cannot be decoded (an unknown writer schema, corrupt bytes) is logged with its
partition and offset, counted, and passed over: the store goes on. A database error is retried
after a pause, from the positions the database holds.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

import structlog
from confluent_kafka import TopicPartition

from services.common.avro import AvroCodec
from services.common.errors import SecDigesterError
from services.common.kafka import KafkaConsumer, PartitionEnd, partitions_at, partitions_of
from services.common.lifecycle import sleep_or_stop
from services.store import metrics
from services.store.backend import FilingsStore, StoreError, cursor_of
from services.store.rows import FilingRow, TextRow

log = structlog.get_logger(__name__)
_RETRY_S = 2.0


@dataclass(frozen=True, slots=True)
class _Held:
    """An analyzed record read and not yet written (its text not in), or passed over."""

    offset: int
    row: FilingRow | None  # None: undecodable, only its position moves on
    read_at: float  # monotonic


@dataclass(frozen=True)
class FeederTopics:
    analyzed: str
    text: str


class StoreFeeder:
    def __init__(
        self,
        store: FilingsStore,
        consumer: KafkaConsumer,
        codecs: tuple[AvroCodec, AvroCodec],  # analyzed, text
        topics: FeederTopics,
        *,
        batch_size: int,
        progress_interval_s: float,
        text_wait_s: float,
        held_max: int,
    ) -> None:
        self._store = store
        self._consumer = consumer
        self._codec, self._text_codec = codecs
        self._topic, self._text_topic = topics.analyzed, topics.text
        self._batch_size = batch_size
        self._progress_interval_s = progress_interval_s
        self._text_wait_s = text_wait_s
        self._held_max = held_max
        self.positions: dict[int, int] = {}  # analyzed, as stored: what `as_of` says
        self.text_positions: dict[int, int] = {}
        self._read: dict[int, int] = {}  # analyzed: the next offset to read
        self._held: dict[int, deque[_Held]] = {}
        self._waiting: set[tuple[str, str]] = set()  # texts stored, their analysis not yet
        self._text_ended: set[int] = set()
        self._texts_idle_since = time.monotonic()
        self._paused = False
        self.caught_up = asyncio.Event()  # every partition's end reached once, nothing held
        self.last_progress = time.monotonic()

    async def run(self, stop: asyncio.Event) -> None:
        await self._start()
        next_report = 0.0
        ended: set[int] = set()
        while not stop.is_set():
            consumed = await self._consumer.consume_with_ends(self._batch_size, 0.5)
            self.last_progress = time.monotonic()
            texts: list[TextRow] = []
            text_after = dict(self.text_positions)
            for item in consumed:
                if type(item) is PartitionEnd:
                    if item.topic == self._text_topic:
                        text_after[item.partition] = max(
                            text_after.get(item.partition, 0), item.offset
                        )
                        self._text_ended.add(item.partition)
                    else:
                        self._read[item.partition] = max(
                            self._read.get(item.partition, 0), item.offset
                        )
                        ended.add(item.partition)
                    continue
                partition, offset = item.partition(), item.offset()
                if item.topic() == self._text_topic:
                    text_after[partition] = offset + 1
                    self._text_ended.discard(partition)
                    self._texts_idle_since = time.monotonic()
                    if (text := await self._text(partition, offset, item.value())) is not None:
                        texts.append(text)
                        self._waiting.add(text.key)
                    continue
                self._read[partition] = offset + 1
                ended.discard(partition)
                row = await self._row(partition, offset, item.value())
                self._held.setdefault(partition, deque()).append(
                    _Held(offset, row, time.monotonic())
                )
            rows = self._release()
            after = self._stored_positions()
            if after != self.positions or text_after != self.text_positions:
                moved = {p: o for p, o in after.items() if self.positions.get(p) != o}
                text_moved = {
                    p: o for p, o in text_after.items() if self.text_positions.get(p) != o
                }
                try:
                    await self._store.write(rows, moved, texts, text_moved)
                except StoreError as exc:
                    log.error("store write failed: retried", error=str(exc), records=len(rows))
                    if await sleep_or_stop(stop, _RETRY_S):
                        return
                    await self._assign(
                        await self._store.positions(), await self._store.text_positions()
                    )
                    continue
                self.positions, self.text_positions = after, text_after
                metrics.WRITTEN.inc(len(rows))
                metrics.TEXTS_WRITTEN.inc(len(texts))
            await self._pace()
            held = sum(len(h) for h in self._held.values())
            metrics.HELD.set(held)
            if ended >= set(self.positions) and not held and not self.caught_up.is_set():
                self.caught_up.set()
                log.info("store caught up", as_of=cursor_of(self.positions))
            if time.monotonic() >= next_report:
                next_report = time.monotonic() + self._progress_interval_s
                await self._report()

    def _release(self) -> list[FilingRow]:
        """The held analyses that may be written now, in each partition's order: those whose
        text is in (or that have none to wait for)."""
        texts_done = self._text_ended >= set(self.text_positions) and (
            time.monotonic() - self._texts_idle_since >= self._text_wait_s
        )
        released: list[FilingRow] = []
        for held in self._held.values():
            while held:
                row = held[0].row
                if row is not None and row.awaits_text and row.text_key not in self._waiting:
                    if not texts_done:
                        break
                    metrics.TEXTS_MISSING.inc()
                    log.warning(
                        "analysis stored without its text: the text topic has none for it",
                        topic=self._text_topic,
                        accession=row.accession,
                        analyzed_at=row.analyzed_at,
                        partition=row.partition,
                        offset=row.offset,
                    )
                held.popleft()
                if row is not None:
                    self._waiting.discard(row.text_key)  # paired: the store moves it
                    released.append(row)
        return released

    def _stored_positions(self) -> dict[int, int]:
        """Analyzed positions after what is written: up to the first held record."""
        return {
            p: (held[0].offset if (held := self._held.get(p)) else read)
            for p, read in self._read.items()
        }

    async def _pace(self) -> None:
        """Pause the analyzed partitions while too many of their records wait for texts (the
        text topic reads on), resume them once the texts caught up."""
        held = sum(len(h) for h in self._held.values())
        analyzed = partitions_of(self._topic, self._read)
        if not self._paused and held >= self._held_max:
            await self._consumer.pause(analyzed)
            self._paused = True
            log.info("analyzed topic paused: its records wait for their texts", held=held)
        elif self._paused and held < self._held_max // 2:
            await self._consumer.resume(analyzed)
            self._paused = False

    async def _row(self, partition: int, offset: int, value: bytes | None) -> FilingRow | None:
        try:
            return FilingRow.of(partition, offset, await self._codec.decode(value))
        except (SecDigesterError, KeyError, TypeError, ValueError) as exc:
            self._unreadable(self._topic, partition, offset, exc)
            return None

    async def _text(self, partition: int, offset: int, value: bytes | None) -> TextRow | None:
        try:
            return TextRow.of(await self._text_codec.decode(value))
        except (SecDigesterError, KeyError, TypeError, ValueError) as exc:
            self._unreadable(self._text_topic, partition, offset, exc)
            return None

    @staticmethod
    def _unreadable(topic: str, partition: int, offset: int, exc: Exception) -> None:
        metrics.SKIPPED.labels(topic).inc()
        log.error(
            "record not stored: unreadable",
            topic=topic,
            partition=partition,
            offset=offset,
            error=str(exc),
        )

    async def _start(self) -> None:
        topics = {
            self._topic: ("TOPIC_ANALYZED", await self._store.positions()),
            self._text_topic: ("TOPIC_TEXT", await self._store.text_positions()),
        }
        marks: dict[str, dict[int, tuple[int, int]]] = {}
        for topic, (setting, _) in topics.items():
            partitions = await self._consumer.partitions(topic, setting=setting)
            marks[topic] = {
                p: await self._consumer.watermarks(TopicPartition(topic, p)) for p in partitions
            }
        beyond = {
            topic: sorted(
                p
                for p, offset in stored.items()
                if p not in marks[topic] or offset > marks[topic][p][1]
            )
            for topic, (_, stored) in topics.items()
        }
        if any(beyond.values()):
            metrics.REBUILDS.inc()
            described = "; ".join(f"{t} {ps}" for t, ps in beyond.items() if ps)
            await self._store.rebuild(
                f"stored positions beyond the end of partitions ({described}): the topic was "
                "created again"
            )
            topics = {topic: (setting, {}) for topic, (setting, _) in topics.items()}
        elif self._store.rebuilt:
            metrics.REBUILDS.inc()
            log.info("store empty: fed from the topics' beginning", topic=self._topic)
        start = {
            topic: self._start_positions(topic, marks[topic], stored)
            for topic, (_, stored) in topics.items()
        }
        # Every partition in the positions from the start: `as_of` names them all.
        analyzed, text = start[self._topic], start[self._text_topic]
        stored_analyzed, stored_text = topics[self._topic][1], topics[self._text_topic][1]
        await self._store.write(
            [],
            {p: o for p, o in analyzed.items() if stored_analyzed.get(p) != o},
            [],
            {p: o for p, o in text.items() if stored_text.get(p) != o},
        )
        await self._assign(analyzed, text)
        log.info(
            "store feeding",
            topic=self._topic,
            start=cursor_of(analyzed),
            text_topic=self._text_topic,
            text_start=cursor_of(text),
        )

    def _start_positions(
        self, topic: str, marks: Mapping[int, tuple[int, int]], stored: Mapping[int, int]
    ) -> dict[int, int]:
        start: dict[int, int] = {}
        for partition, (low, _) in marks.items():
            wanted = stored.get(partition, low)
            if wanted < low:
                log.warning(
                    "records removed by retention before the store read them",
                    topic=topic,
                    partition=partition,
                    offset=wanted,
                    first_available=low,
                    missing=low - wanted,
                )
            start[partition] = max(wanted, low)
        return start

    async def _assign(self, positions: dict[int, int], text_positions: dict[int, int]) -> None:
        """Read on from these positions: what is held is dropped (it is read again)."""
        self.positions, self.text_positions = dict(positions), dict(text_positions)
        self._read = dict(positions)
        self._held.clear()
        self._text_ended.clear()
        self._paused = False
        self._waiting = await self._store.waiting_texts()
        await self._consumer.assign(
            partitions_at(self._topic, positions) + partitions_at(self._text_topic, text_positions)
        )

    async def _report(self) -> None:
        behind = 0
        for topic, positions in (
            (self._topic, self.positions),
            (self._text_topic, self.text_positions),
        ):
            for partition, position in positions.items():
                _, high = await self._consumer.watermarks(TopicPartition(topic, partition))
                lag = max(high - position, 0)
                metrics.LAG.labels(topic, str(partition)).set(lag)
                behind += lag if topic == self._topic else 0
        if not self.caught_up.is_set():
            log.info(
                "store feeding",
                topic=self._topic,
                lag=behind,
                records=await self._store.count(),
                as_of=cursor_of(self.positions),
            )
