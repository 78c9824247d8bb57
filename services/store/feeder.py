"""The feeder: the analyzed topic and the text topic into the store, exactly once.

A read_committed consumer reading both topics from the offsets stored in the database: the
database is where the feeder's position lives, so it cannot drift from the rows. Each batch is
one database transaction holding the rows, the texts and the offsets of both topics after them:
killed anywhere, the feeder restarts from the last transaction that committed, and a record is
written once or, if its transaction did not commit, again from the start.

Who writes which partition:
- SQLite: one feeder, every partition of both topics assigned by itself (no consumer group).
- PostgreSQL (`grouped`): a feeder in every replica, members of one consumer group
  (STORE_GROUP_ID) on both topics, range assignment: partition N of the analyzed topic and of
  the text topic go to the same member (analyze keys both by accession with one producer, and
  `topics create` gives both as many partitions), so an analysis and its text are read by one
  feeder. The group only says who writes what; an assigned partition is read from the offset
  the database holds (not the group's committed offsets: none are committed). A revoked one is
  dropped with everything held of it. Each write is compare and set on the positions it read:
  a feeder that still writes a partition the group gave away (it had not seen the revocation
  yet) finds the position moved by the new owner and writes nothing (PositionsMovedError); it
  reads on from the positions the database holds. So each offset is in one committed
  transaction, whoever wrote it.

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
import contextlib
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from services.common.avro import AvroCodec
from services.common.errors import SecDigesterError
from services.common.kafka import (
    KafkaConsumer,
    PartitionEnd,
    Rebalance,
    consumer_config,
    partitions_at,
    partitions_of,
)
from services.common.lifecycle import sleep_or_stop
from services.store import metrics
from services.store.backend import FilingsStore, PositionsMovedError, StoreError, cursor_of
from services.store.rows import FilingRow, TextRow
from services.store.settings import StoreSettings

log = structlog.get_logger(__name__)
_RETRY_S = 2.0


def feeder_config(settings: StoreSettings, *, client_id: str) -> dict[str, Any]:
    """The feeder's consumer: read_committed, partition ends reported; with PostgreSQL a
    member of STORE_GROUP_ID, by range assignment (partition N of both topics to one member:
    they have as many partitions, and analyze keys both by accession)."""
    grouped = settings.store_postgres_dsn is not None
    config = consumer_config(
        settings, client_id=client_id, group_id=settings.store_group_id if grouped else None
    )
    config["enable.partition.eof"] = True
    if grouped:
        config["partition.assignment.strategy"] = "range"
        session_ms = int(settings.store_group_session_timeout_s * 1000)
        config["session.timeout.ms"] = session_ms
        config["heartbeat.interval.ms"] = min(3000, session_ms // 3)
    return config


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
        grouped: bool = False,
    ) -> None:
        """`grouped`: a member of the consumer's group (`feeder_config`) that writes the
        partitions the group assigns it, beside other replicas (PostgreSQL); otherwise the one
        writer, of every partition (SQLite)."""
        self._store = store
        self._consumer = consumer
        self._codec, self._text_codec = codecs
        self._topic, self._text_topic = topics.analyzed, topics.text
        self._batch_size = batch_size
        self._progress_interval_s = progress_interval_s
        self._text_wait_s = text_wait_s
        self._held_max = held_max
        self._grouped = grouped
        self.positions: dict[int, int] = {}  # analyzed, as stored: what `as_of` says
        self.text_positions: dict[int, int] = {}
        self._read: dict[int, int] = {}  # analyzed: the next offset to read
        self._held: dict[int, deque[_Held]] = {}
        self._ended: set[int] = set()  # analyzed partitions read to their end
        self._waiting: set[tuple[str, str]] = set()  # texts stored, their analysis not yet
        self._text_ended: set[int] = set()
        self._texts_idle_since = time.monotonic()
        self._paused = False
        # Grouped: the partitions the group gave this feeder, per topic.
        self._owned: dict[str, set[int]] = {self._topic: set(), self._text_topic: set()}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = asyncio.Event()
        self.caught_up = asyncio.Event()  # every partition's end reached once, nothing held
        self.last_progress = time.monotonic()

    async def run(self, stop: asyncio.Event) -> None:
        self._stop = stop
        self._loop = asyncio.get_running_loop()
        await self._start()
        next_report = 0.0
        while not stop.is_set():
            consumed = await (
                self._consumer.consume_marked(self._batch_size, 0.5)
                if self._grouped
                else self._consumer.consume_with_ends(self._batch_size, 0.5)
            )
            self.last_progress = time.monotonic()
            texts: dict[int, list[TextRow]] = {}  # per partition of the text topic
            text_after = dict(self.text_positions)
            for item in consumed:
                if type(item) is Rebalance:
                    await self._rebalanced(item, texts, text_after)
                    continue
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
                        self._ended.add(item.partition)
                    continue
                record = item
                partition, offset = record.partition(), record.offset()
                if record.topic() == self._text_topic:
                    text_after[partition] = offset + 1
                    self._text_ended.discard(partition)
                    self._texts_idle_since = time.monotonic()
                    if (text := await self._text(partition, offset, record.value())) is not None:
                        texts.setdefault(partition, []).append(text)
                        self._waiting.add(text.key)
                    continue
                self._read[partition] = offset + 1
                self._ended.discard(partition)
                row = await self._row(partition, offset, record.value())
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
                written = [text for partition in sorted(texts) for text in texts[partition]]
                try:
                    await self._store.write(
                        rows,
                        moved,
                        written,
                        text_moved,
                        read=(self.positions, self.text_positions),
                    )
                except PositionsMovedError as exc:
                    metrics.FENCED.inc()
                    log.warning(
                        "another feeder moved positions of this one's partitions: what it "
                        "held of them is dropped, and it reads on from the store's positions",
                        error=str(exc),
                        records=len(rows),
                    )
                    await self._read_on_from_the_store()
                    continue
                except StoreError as exc:
                    log.error("store write failed: retried", error=str(exc), records=len(rows))
                    if await sleep_or_stop(stop, _RETRY_S):
                        return
                    await self._read_on_from_the_store()
                    continue
                self.positions, self.text_positions = after, text_after
                metrics.WRITTEN.inc(len(rows))
                metrics.TEXTS_WRITTEN.inc(len(written))
            await self._pace()
            held = sum(len(h) for h in self._held.values())
            metrics.HELD.set(held)
            # Grouped, a feeder is caught up once it has partitions and read them to their ends.
            has_partitions = bool(self.positions) or not self._grouped
            if (
                has_partitions
                and self._ended >= set(self.positions)
                and not held
                and not self.caught_up.is_set()
            ):
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
        """Positions for every partition in the store (rebuilt first when the topics were
        created again), then read: all of them (alone), or what the group assigns."""
        while True:
            try:
                analyzed, text = await self._start_positions_stored()
                break
            except PositionsMovedError as exc:  # another replica started beside this one
                log.info("positions moved while the feeder started: read again", error=str(exc))
        if self._grouped:
            partitions = {
                topic: await self._consumer.partitions(topic, setting=setting)
                for topic, setting in (
                    (self._topic, "TOPIC_ANALYZED"),
                    (self._text_topic, "TOPIC_TEXT"),
                )
            }
            if len(partitions[self._topic]) != len(partitions[self._text_topic]):
                # The group's range assignment gives partition N of both topics to one member
                # only when both have as many partitions (analyze keys both by accession).
                log.warning(
                    "the analyzed and text topics differ in partitions: a replica may hold an "
                    "analysis for a text another replica reads, up to STORE_TEXT_WAIT_S",
                    partitions={t: len(ps) for t, ps in partitions.items()},
                )
            await self._consumer.subscribe_marked([self._topic, self._text_topic], self._on_assign)
        else:
            await self._assign(analyzed, text)
        log.info(
            "store feeding",
            topic=self._topic,
            start=cursor_of(analyzed),
            text_topic=self._text_topic,
            text_start=cursor_of(text),
            grouped=self._grouped,
        )

    async def _start_positions_stored(self) -> tuple[dict[int, int], dict[int, int]]:
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
            read=(stored_analyzed, stored_text),
        )
        return analyzed, text

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

    def _on_assign(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        """On the consumer's thread, inside a consume (the event loop waits on it, free):
        the assigned partitions at the positions the store holds, read on the loop."""
        assert self._loop is not None  # set by run()
        return asyncio.run_coroutine_threadsafe(self._stored_at(partitions), self._loop).result()

    async def _stored_at(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        while True:
            try:
                stored = {
                    self._topic: await self._store.positions(),
                    self._text_topic: await self._store.text_positions(),
                }
                break
            except StoreError as exc:
                log.error("store positions unreadable: retried", error=str(exc))
                if await sleep_or_stop(self._stop, _RETRY_S):
                    raise
        return [
            TopicPartition(
                tp.topic, tp.partition, stored[tp.topic].get(tp.partition, OFFSET_BEGINNING)
            )
            for tp in partitions
        ]

    async def _rebalanced(
        self, rebalance: Rebalance, texts: dict[int, list[TextRow]], text_after: dict[int, int]
    ) -> None:
        """The group's assignment changed here among the records. Revoked: whatever this
        feeder read or holds of those partitions is dropped (their new owner reads it from the
        store's positions). Assigned: read from the store's positions (`_on_assign`)."""
        for tp in rebalance.partitions:
            topic, partition = tp.topic, tp.partition
            analyzed = topic == self._topic
            if rebalance.kind == "revoked":
                self._owned[topic].discard(partition)
                with contextlib.suppress(KeyError):
                    metrics.LAG.remove(topic, str(partition))
            else:
                self._owned[topic].add(partition)
            if analyzed:
                self.positions.pop(partition, None)
                self._read.pop(partition, None)
                self._held.pop(partition, None)
                self._ended.discard(partition)
            else:
                self.text_positions.pop(partition, None)
                text_after.pop(partition, None)
                texts.pop(partition, None)
                self._text_ended.discard(partition)
            if rebalance.kind == "assigned" and tp.offset >= 0:
                if analyzed:
                    self.positions[partition] = self._read[partition] = tp.offset
                else:
                    self.text_positions[partition] = text_after[partition] = tp.offset
        if rebalance.kind == "assigned":
            self._paused = False  # an assignment starts unpaused
            self._waiting |= await self._store.waiting_texts()  # the previous owners' too
            self.caught_up.clear()
        log.info(
            f"store partitions {rebalance.kind}",
            partitions=[
                f"{tp.topic}:{tp.partition}" + (f"@{tp.offset}" if tp.offset >= 0 else "")
                for tp in rebalance.partitions
            ],
        )

    async def _read_on_from_the_store(self) -> None:
        """After a write that did not commit: on from the positions the store holds, what was
        held dropped (it is read again)."""
        positions, text_positions = (
            await self._store.positions(),
            await self._store.text_positions(),
        )
        if not self._grouped:
            await self._assign(positions, text_positions)
            return
        self._held.clear()
        self._ended.clear()
        self._text_ended.clear()
        self.positions = {p: positions[p] for p in self._owned[self._topic] if p in positions}
        self.text_positions = {
            p: text_positions[p] for p in self._owned[self._text_topic] if p in text_positions
        }
        self._read = dict(self.positions)
        self._waiting = await self._store.waiting_texts()
        for topic, stored in ((self._topic, positions), (self._text_topic, text_positions)):
            for partition in sorted(self._owned[topic]):
                await self._consumer.seek(
                    TopicPartition(topic, partition, stored.get(partition, OFFSET_BEGINNING))
                )
        if self._paused:
            await self._consumer.resume(partitions_of(self._topic, self._owned[self._topic]))
            self._paused = False

    async def _assign(self, positions: dict[int, int], text_positions: dict[int, int]) -> None:
        """Read on from these positions: what is held is dropped (it is read again)."""
        self.positions, self.text_positions = dict(positions), dict(text_positions)
        self._read = dict(positions)
        self._held.clear()
        self._ended.clear()
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
            for partition, position in sorted(positions.items()):
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
