"""The feeder: the analyzed topic into the store, exactly once.

A read_committed consumer with partitions assigned from the offsets stored in the database (no
consumer group: the database is where the feeder's position lives, so it cannot drift from
the rows). Each batch is one database transaction holding the rows and the offsets after
them: killed anywhere, the feeder restarts from the last transaction that committed, and a
record is written once or, if its transaction did not commit, again from the start.

The positions also move past transaction markers at a partition's end (`enable.partition.eof`:
the end is the last stable offset), so a store that has caught up reports the topic's end as
its `as_of`.

Where it starts:
- an empty store (new, or of another layout or topic: the store rebuilds itself) reads every
  partition from its beginning, logging progress and its lag until it has caught up;
- a stored position beyond a partition's end means the topic was deleted and created again: the
  store is rebuilt and fed from the beginning;
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

import structlog
from confluent_kafka import TopicPartition

from services.common.avro import AvroCodec
from services.common.errors import SecDigesterError
from services.common.kafka import KafkaConsumer, PartitionEnd, partitions_at
from services.common.lifecycle import sleep_or_stop
from services.store import metrics
from services.store.rows import FilingRow
from services.store.sqlite import SqliteStore, StoreError, cursor_of

log = structlog.get_logger(__name__)
_RETRY_S = 2.0


class StoreFeeder:
    def __init__(
        self,
        store: SqliteStore,
        consumer: KafkaConsumer,
        codec: AvroCodec,
        topic: str,
        *,
        batch_size: int,
        progress_interval_s: float,
    ) -> None:
        self._store = store
        self._consumer = consumer
        self._codec = codec
        self._topic = topic
        self._batch_size = batch_size
        self._progress_interval_s = progress_interval_s
        self.positions: dict[int, int] = {}
        self.caught_up = asyncio.Event()  # every partition's end reached once
        self.last_progress = time.monotonic()

    async def run(self, stop: asyncio.Event) -> None:
        await self._start()
        next_report = 0.0
        ended: set[int] = set()
        while not stop.is_set():
            consumed = await self._consumer.consume_with_ends(self._batch_size, 0.5)
            self.last_progress = time.monotonic()
            rows: list[FilingRow] = []
            after = dict(self.positions)
            for item in consumed:
                if type(item) is PartitionEnd:
                    after[item.partition] = max(after.get(item.partition, 0), item.offset)
                    ended.add(item.partition)
                    continue
                partition, offset = item.partition(), item.offset()
                after[partition] = offset + 1
                ended.discard(partition)
                if (row := await self._row(partition, offset, item.value())) is not None:
                    rows.append(row)
            if after != self.positions:
                moved = {p: o for p, o in after.items() if self.positions.get(p) != o}
                try:
                    await self._store.write(rows, moved)
                except StoreError as exc:
                    log.error("store write failed: retried", error=str(exc), records=len(rows))
                    if await sleep_or_stop(stop, _RETRY_S):
                        return
                    await self._assign(await self._store.positions())
                    continue
                self.positions = after
                metrics.WRITTEN.inc(len(rows))
            if ended >= set(self.positions) and not self.caught_up.is_set():
                self.caught_up.set()
                log.info("store caught up", as_of=cursor_of(self.positions))
            if time.monotonic() >= next_report:
                next_report = time.monotonic() + self._progress_interval_s
                await self._report()

    async def _row(self, partition: int, offset: int, value: bytes | None) -> FilingRow | None:
        try:
            return FilingRow.of(partition, offset, await self._codec.decode(value))
        except (SecDigesterError, KeyError, TypeError, ValueError) as exc:
            metrics.SKIPPED.inc()
            log.error(
                "record not stored: unreadable",
                topic=self._topic,
                partition=partition,
                offset=offset,
                error=str(exc),
            )
            return None

    async def _start(self) -> None:
        partitions = await self._consumer.partitions(self._topic, setting="TOPIC_ANALYZED")
        marks = {
            p: await self._consumer.watermarks(TopicPartition(self._topic, p)) for p in partitions
        }
        stored = await self._store.positions()
        beyond = sorted(p for p, offset in stored.items() if p not in marks or offset > marks[p][1])
        if beyond:
            metrics.REBUILDS.inc()
            await self._store.rebuild(
                f"stored positions beyond the end of partitions {beyond}: the topic was created "
                "again"
            )
            stored = {}
        elif self._store.rebuilt:
            metrics.REBUILDS.inc()
            log.info("store empty: fed from the topic's beginning", topic=self._topic)
        start: dict[int, int] = {}
        for partition, (low, _) in marks.items():
            wanted = stored.get(partition, low)
            if wanted < low:
                log.warning(
                    "records removed by retention before the store read them",
                    topic=self._topic,
                    partition=partition,
                    offset=wanted,
                    first_available=low,
                    missing=low - wanted,
                )
            start[partition] = max(wanted, low)
        # Every partition in the positions from the start: `as_of` names them all.
        await self._store.write([], {p: o for p, o in start.items() if stored.get(p) != o})
        self.positions = start
        await self._assign(start)
        log.info("store feeding", topic=self._topic, start=cursor_of(start))

    async def _assign(self, positions: dict[int, int]) -> None:
        self.positions = dict(positions)
        await self._consumer.assign(partitions_at(self._topic, positions))

    async def _report(self) -> None:
        behind = 0
        for partition, position in self.positions.items():
            _, high = await self._consumer.watermarks(TopicPartition(self._topic, partition))
            lag = max(high - position, 0)
            metrics.LAG.labels(str(partition)).set(lag)
            behind += lag
        if not self.caught_up.is_set():
            log.info(
                "store feeding",
                topic=self._topic,
                lag=behind,
                records=await self._store.count(),
                as_of=cursor_of(self.positions),
            )
