"""Exactly-once consume-transform-produce: raw filings in, analyses (or dead letters) out.

A batch of raw records is analyzed concurrently (bounded), then written in one Kafka
transaction together with the consumer offsets that follow the batch, so a `read_committed`
reader sees each analysis exactly once whatever crashes when. Outputs are written in input
order, and offsets only ever move past a whole batch: concurrency never reorders a partition.

A record that cannot be decoded or analyzed for a reason that will not get better goes to the
dead-letter topic with its original bytes, in the same transaction, and the partition moves
on. A retriable failure (Kafka or the registry unreachable) aborts the transaction, rewinds the
consumer to the batch's start and tries the batch again after a backoff.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass

import confluent_kafka
import structlog

from services.analyze.metrics import (
    BATCHES_ABORTED,
    CONSUMER_LAG,
    DEAD_LETTER_RECORDS,
    DEAD_LETTERS,
    RECORDS,
    STAGE_SECONDS,
)
from services.analyze.pipeline import FilingAnalyzer
from services.analyze.topic_size import records_on
from services.common.avro import AvroCodec
from services.common.edgar import RetryPolicy
from services.common.errors import KafkaClientError, SecDigesterError
from services.common.kafka import KafkaConsumer, KafkaProducer
from services.common.lifecycle import sleep_or_stop, until_stopped
from services.common.records import Filing

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Codecs:
    raw: AvroCodec
    analysis: AvroCodec
    dead_letter: AvroCodec


@dataclass(frozen=True)
class Output:
    topic: str
    key: bytes | None
    value: bytes
    outcome: str  # "analyzed" or "dead_lettered"


class TransactionalProcessor:
    def __init__(
        self,
        *,
        consumer: KafkaConsumer,
        producer: KafkaProducer,
        codecs: Codecs,
        analyzer: FilingAnalyzer,
        topics: tuple[str, str, str],  # raw, analyzed, dead letters
        batch_size: int,
        concurrency: int,
    ) -> None:
        self._consumer = consumer
        self._producer = producer
        self._codecs = codecs
        self._analyzer = analyzer
        self._raw_topic, self._analyzed_topic, self._dlq_topic = topics
        self._batch_size = batch_size
        self._slots = asyncio.Semaphore(concurrency)
        self._retry = RetryPolicy(max_attempts=1_000_000, base_delay_s=0.5, max_delay_s=30)
        self.last_progress = time.time()
        self._lag_measured = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        await self._consumer.run("subscribe", self._consumer.handle.subscribe, [self._raw_topic])
        failures = 0
        while not stop.is_set():
            batch = await self._consumer.consume(max_records=self._batch_size, wait_s=0.5)
            self.last_progress = time.time()
            if batch:
                outputs = await until_stopped(stop, self._analyze_all(batch))
                if outputs is None and stop.is_set():
                    return  # shutdown mid-analysis: nothing written or committed, re-read later
                committed = outputs is not None and await self._commit(batch, outputs)
                if committed:
                    failures = 0
                else:
                    await self._rewind(batch)
                    failures += 1
                    if await sleep_or_stop(stop, self._retry.backoff(min(failures, 6))):
                        return
            await self._measure_lag()

    async def _analyze_all(self, batch: list[confluent_kafka.Message]) -> list[Output] | None:
        try:
            return list(await asyncio.gather(*(self._bounded(message) for message in batch)))
        except SecDigesterError as exc:  # only retriable errors get out of _one
            log.warning("batch will be retried", error=str(exc), size=len(batch))
            return None

    async def _bounded(self, message: confluent_kafka.Message) -> Output:
        async with self._slots:
            return await self._one(message)

    async def _one(self, message: confluent_kafka.Message) -> Output:
        with structlog.contextvars.bound_contextvars(
            topic=message.topic(), partition=message.partition(), offset=message.offset()
        ):
            try:
                filing = Filing.from_avro(await self._codecs.raw.decode(message.value()))
                structlog.contextvars.bind_contextvars(accession=filing.accession_number)
                record = await self._analyzer.analyze(filing)
                return Output(
                    self._analyzed_topic,
                    message.key(),
                    self._codecs.analysis.encode(record),
                    "analyzed",
                )
            except SecDigesterError as exc:
                if exc.retriable:
                    raise
                return self._dead_letter(message, exc)
            except Exception as exc:  # a bug must cost one record, not the partition
                log.exception("unexpected error; record dead-lettered")
                return self._dead_letter(message, exc)

    def _dead_letter(self, message: confluent_kafka.Message, exc: Exception) -> Output:
        error_type = type(exc).__name__
        log.warning("record dead-lettered", error_type=error_type, reason=str(exc))
        DEAD_LETTERS.labels(error_type=error_type).inc()
        letter = {
            "topic": message.topic(), "partition": message.partition(), "offset": message.offset(),
            "key": message.key(), "value": message.value(), "error_type": error_type,
            "reason": str(exc)[:4000], "service": "analyze", "failed_at": dt.datetime.now(dt.UTC),
        }  # fmt: skip
        return Output(
            self._dlq_topic, message.key(), self._codecs.dead_letter.encode(letter), "dead_lettered"
        )

    async def _commit(self, batch: list[confluent_kafka.Message], outputs: list[Output]) -> bool:
        """Write outputs and offsets in one transaction. False if aborted (to be retried)."""
        started = time.perf_counter()
        try:
            await self._producer.begin_transaction()
            try:
                for output in outputs:
                    self._producer.enqueue(output.topic, key=output.key, value=output.value)
                await self._producer.send_offsets_to_transaction(
                    _next_offsets(batch), self._consumer.handle.consumer_group_metadata()
                )
                # Once the commit is under way it must finish; shutdown waits for it.
                await asyncio.shield(self._producer.commit_transaction())
            except BaseException:
                await asyncio.shield(self._producer.abort_transaction())
                raise
        except SecDigesterError as exc:
            if not exc.retriable:
                raise  # e.g. fenced by a newer instance: this process must stop
            BATCHES_ABORTED.inc()
            log.warning("transaction aborted; the batch will be retried", error=str(exc))
            return False
        STAGE_SECONDS.labels(stage="produce").observe(time.perf_counter() - started)
        for output in outputs:
            RECORDS.labels(outcome=output.outcome).inc()
        return True

    async def _rewind(self, batch: list[confluent_kafka.Message]) -> None:
        """Seek back to the batch's first records, so the next consume reads them again."""
        first: dict[tuple[str, int], int] = {}
        for message in batch:
            topic, partition, offset = _where(message)
            first.setdefault((topic, partition), offset)
        for (topic, partition), offset in first.items():
            await self._consumer.run(
                "seek",
                self._consumer.handle.seek,
                confluent_kafka.TopicPartition(topic, partition, offset),
            )

    async def _measure_lag(self) -> None:
        """Records behind the end of each assigned partition, and on the dead-letter topic, at
        most every 5 s."""
        if time.monotonic() - self._lag_measured < 5:
            return
        self._lag_measured = time.monotonic()
        handle = self._consumer.handle
        assigned = await self._consumer.run("assignment", handle.assignment)
        if not assigned:
            return
        positions = await self._consumer.run("position", handle.position, assigned)
        for tp in positions:
            _, high = await self._consumer.run(
                "watermarks", handle.get_watermark_offsets, tp, 5.0, False
            )
            behind = high - tp.offset if tp.offset >= 0 else high
            CONSUMER_LAG.labels(partition=str(tp.partition)).set(max(0, behind))
        dead_letters = await records_on(self._consumer, self._dlq_topic)
        if dead_letters is not None:
            DEAD_LETTER_RECORDS.set(dead_letters)


def _next_offsets(batch: list[confluent_kafka.Message]) -> list[confluent_kafka.TopicPartition]:
    last: dict[tuple[str, int], int] = {}
    for message in batch:
        topic, partition, offset = _where(message)
        last[(topic, partition)] = offset
    return [confluent_kafka.TopicPartition(t, p, o + 1) for (t, p), o in last.items()]


def _where(message: confluent_kafka.Message) -> tuple[str, int, int]:
    """Topic, partition and offset of a consumed record (librdkafka always sets them)."""
    topic, partition, offset = message.topic(), message.partition(), message.offset()
    if topic is None or partition is None or offset is None:
        raise KafkaClientError(
            "a consumed record lacks topic, partition or offset", retriable=False
        )
    return topic, partition, offset
