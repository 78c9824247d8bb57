"""Exactly-once consume-transform-produce: raw filings in, analyses (or dead letters) out,
and with each analysis of a filing whose documents were read, its text (FilingText) on the text
topic, in the same transaction: a read_committed reader sees both or neither.

Raw records are analyzed concurrently (up to ANALYZE_BATCH_SIZE in flight, ANALYZE_CONCURRENCY
at once) while polling goes on. Whenever records have finished, each partition's finished
prefix is written in one Kafka transaction together with the consumer offsets that follow it
(services/analyze/stream/in_flight.py), so a `read_committed` reader sees each analysis exactly once
whatever crashes when, outputs keep their partition's order, and a filing waiting for EDGAR
holds back only the records behind it in its own partition. Records of partitions a rebalance
takes away are abandoned uncommitted: their new owner reads them again.

A record that cannot be decoded or analyzed for a reason that will not get better goes to the
dead-letter topic with its original bytes, in the same transaction, and the partition moves
on. A retriable failure (Kafka or the registry unreachable) aborts the transaction, abandons
everything uncommitted, rewinds the consumer to it and tries again after a backoff.

A broker outage does not end the process (services/common/kafka/transactions.py): a commit
that failed retriably is committed again; an aborted transaction is rewound and analyzed
again; a producer that became unusable is replaced, and since whether its last transaction
committed is unknown, the consumer goes back to the group's committed offsets (which commit
with the transaction). Lag and dead-letter gauges are skipped while Kafka does not answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
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
    TEXT_BYTES,
    TEXT_RECORDS,
)
from services.analyze.pipeline import FilingAnalyzer
from services.analyze.stream.in_flight import InFlight, Partition, Started
from services.analyze.stream.topic_size import records_on
from services.common.avro import AvroCodec
from services.common.errors import KafkaClientError, SecDigesterError
from services.common.kafka import (
    KafkaConsumer,
    KafkaProducer,
    Outcome,
    SuccessfulMessage,
    TransactionalProducer,
)
from services.common.lifecycle import sleep_or_stop
from services.common.records import Filing
from services.common.retry import RetryPolicy

log = structlog.get_logger(__name__)

# How long a poll waits for records: briefly while others are being analyzed (their commits
# must not wait), longer when there is nothing else to do.
_POLL_BUSY_S = 0.02
_POLL_IDLE_S = 0.5


@dataclass(frozen=True)
class Codecs:
    raw: AvroCodec
    analysis: AvroCodec
    dead_letter: AvroCodec
    text: AvroCodec


@dataclass(frozen=True)
class Topics:
    raw: str
    analyzed: str
    dead_letters: str
    text: str


@dataclass(frozen=True)
class Produced:
    topic: str
    key: bytes | None
    value: bytes


@dataclass(frozen=True)
class Output:
    """What one raw record becomes: an analysis (and its text), or a dead letter."""

    records: tuple[Produced, ...]
    outcome: str  # "analyzed" or "dead_lettered"


class TransactionalProcessor:
    def __init__(
        self,
        *,
        open_consumer: Callable[[], KafkaConsumer],
        producer: TransactionalProducer,
        codecs: Codecs,
        analyzer: FilingAnalyzer,
        topics: Topics,
        batch_size: int,
        concurrency: int,
    ) -> None:
        self._open_consumer = open_consumer
        self._consumer: KafkaConsumer | None = None  # the group member of the moment
        self._producer = producer
        self._codecs = codecs
        self._analyzer = analyzer
        self._raw_topic, self._dlq_topic = topics.raw, topics.dead_letters
        self._topics = topics
        self._batch_size = batch_size
        self._slots = asyncio.Semaphore(concurrency)
        self._retry = RetryPolicy.forever(base_delay_s=0.5, max_delay_s=30)
        self.last_progress = time.time()
        self._lag_measured = 0.0

    @property
    def _member(self) -> KafkaConsumer:
        if self._consumer is None:
            raise KafkaClientError("the processor's consumer is not open", retriable=False)
        return self._consumer

    async def run(self, stop: asyncio.Event) -> None:
        """Process until shutdown. A consumer librdkafka declares unusable is replaced by a new
        member of the group, which reads on from the group's committed offsets: a static member
        can be fenced by its own rejoin after the group coordinator restarted ("Static consumer
        fenced by other consumer with same group.instance.id"), seen when a broker was killed."""
        while not stop.is_set():
            async with self._open_consumer() as consumer:
                self._consumer = consumer
                try:
                    await self._run_member(stop)
                except KafkaClientError as exc:
                    if not (exc.fatal or exc.code == "_FATAL"):
                        raise
                    log.warning(
                        "the consumer is unusable; rejoining the group with a new one",
                        error=str(exc),
                    )
                finally:
                    self._consumer = None

    async def _run_member(self, stop: asyncio.Event) -> None:
        revoked: list[Partition] = []  # filled by the consumer's thread, inside consume()

        def on_revoke(
            _: confluent_kafka.Consumer, lost: list[confluent_kafka.TopicPartition]
        ) -> None:
            revoked.extend((tp.topic, tp.partition) for tp in lost)

        await self._member.subscribe([self._raw_topic], on_revoke=on_revoke, on_lost=on_revoke)
        in_flight: InFlight[Output] = InFlight()
        failures = 0
        try:
            while not stop.is_set():
                await self._take_more(in_flight, revoked, stop)
                ready, failure = in_flight.take_ready()
                outcome = await self._commit(ready) if ready else Outcome.COMMITTED
                if outcome is Outcome.COMMITTED and failure is None:
                    failures = 0
                else:
                    if failure is not None:
                        log.warning("records will be analyzed again", error=str(failure))
                    if outcome is Outcome.PRODUCER_REBUILT:
                        await self._rewind_to_committed(in_flight, stop)
                    else:
                        aborted = [m for m, _ in ready] if outcome is Outcome.ABORTED else []
                        await self._rewind(aborted, in_flight)
                    failures += 1
                    if await sleep_or_stop(stop, self._retry.backoff(min(failures, 6))):
                        return
                await self._measure_lag()
        finally:
            # Shutdown: what is not committed is read again by whoever owns it next.
            await in_flight.drop()

    async def _take_more(
        self, in_flight: InFlight[Output], revoked: list[Partition], stop: asyncio.Event
    ) -> None:
        """Poll for more records (briefly while others are being analyzed) and start them; or,
        with the window full, wait for one to finish (or for shutdown)."""
        room = self._batch_size - len(in_flight)
        if room <= 0:
            stopping = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait(
                    {*in_flight.tasks(), stopping}, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                stopping.cancel()
            return
        messages = await self._member.consume(
            max_records=room, wait_s=_POLL_BUSY_S if len(in_flight) else _POLL_IDLE_S
        )
        self.last_progress = time.time()
        if revoked:  # a rebalance ran inside consume(): those records belong to others now
            await in_flight.drop(set(revoked))
            revoked.clear()
        for message in messages:
            task = asyncio.create_task(self._bounded(message))
            in_flight.add((message.topic(), message.partition()), Started(message, task))

    async def _bounded(self, message: SuccessfulMessage) -> Output:
        async with self._slots:
            return await self._one(message)

    async def _one(self, message: SuccessfulMessage) -> Output:
        with structlog.contextvars.bound_contextvars(
            topic=message.topic(), partition=message.partition(), offset=message.offset()
        ):
            try:
                filing = Filing.from_avro(await self._codecs.raw.decode(message.value()))
                structlog.contextvars.bind_contextvars(accession=filing.accession_number)
                analyzed = await self._analyzer.analyze(filing)
                key = message.key()
                records = [
                    Produced(
                        self._topics.analyzed, key, self._codecs.analysis.encode(analyzed.analysis)
                    )
                ]
                if analyzed.text is not None:
                    text = self._codecs.text.encode(analyzed.text)
                    records.append(Produced(self._topics.text, key, text))
                return Output(tuple(records), "analyzed")
            except SecDigesterError as exc:
                if exc.retriable:
                    raise
                return self._dead_letter(message, exc)
            except Exception as exc:  # a bug must cost one record, not the partition
                log.exception("unexpected error; record dead-lettered")
                return self._dead_letter(message, exc)

    def _dead_letter(self, message: SuccessfulMessage, exc: Exception) -> Output:
        error_type = type(exc).__name__
        log.warning("record dead-lettered", error_type=error_type, reason=str(exc))
        DEAD_LETTERS.labels(error_type=error_type).inc()
        letter = {
            "topic": message.topic(),
            "partition": message.partition(),
            "offset": message.offset(),
            "key": message.key(),
            "value": message.value(),
            "error_type": error_type,
            "reason": str(exc)[:4000],
            "service": "analyze",
            "failed_at": dt.datetime.now(dt.UTC),
        }
        value = self._codecs.dead_letter.encode(letter)
        return Output((Produced(self._dlq_topic, message.key(), value),), "dead_lettered")

    async def _commit(self, ready: list[tuple[SuccessfulMessage, Output]]) -> Outcome:
        """Write outputs and offsets in one transaction."""
        batch = [message for message, _ in ready]
        outputs = [output for _, output in ready]
        started = time.perf_counter()

        async def write(producer: KafkaProducer) -> None:
            for output in outputs:
                for record in output.records:
                    producer.enqueue(record.topic, key=record.key, value=record.value)
            await producer.send_offsets_to_transaction(
                _next_offsets(batch), self._member.group_metadata()
            )

        outcome = await self._producer.transaction(write)
        if outcome is not Outcome.COMMITTED:
            BATCHES_ABORTED.inc()
            return outcome
        STAGE_SECONDS.labels(stage="produce").observe(time.perf_counter() - started)
        for output in outputs:
            RECORDS.labels(outcome=output.outcome).inc()
            for record in output.records:
                if record.topic == self._topics.text:
                    TEXT_RECORDS.inc()
                    TEXT_BYTES.inc(len(record.value))
        return outcome

    async def _rewind(
        self, uncommitted: list[SuccessfulMessage], in_flight: InFlight[Output]
    ) -> None:
        """Abandon everything not committed and seek back to the oldest of it per partition,
        so the next polls read it again."""
        first: dict[Partition, int] = {}
        for message in [*uncommitted, *in_flight.oldest().values()]:
            where, offset = (message.topic(), message.partition()), message.offset()
            first[where] = min(offset, first.get(where, offset))
        await in_flight.drop()
        # Only what is still ours: a rebalance (while Kafka was away, say) may have moved some.
        assigned = {(tp.topic, tp.partition) for tp in await self._member.assignment()}
        for (topic, partition), offset in first.items():
            if (topic, partition) in assigned:
                await self._member.seek(confluent_kafka.TopicPartition(topic, partition, offset))

    async def _rewind_to_committed(self, in_flight: InFlight[Output], stop: asyncio.Event) -> None:
        """After the producer was replaced, whether its last transaction committed is unknown:
        read on from the group's committed offsets, which were committed (or not) with it."""
        await in_flight.drop()
        for attempt in self._retry.attempts():
            try:
                assigned = [tp.partition for tp in await self._member.assignment()]
                committed = await self._member.committed_offsets(self._raw_topic, assigned)
                for partition in assigned:
                    # Never committed: where the group starts (auto.offset.reset=earliest).
                    offset = committed.get(partition, confluent_kafka.OFFSET_BEGINNING)
                    tp = confluent_kafka.TopicPartition(self._raw_topic, partition, offset)
                    await self._member.seek(tp)
                return
            except KafkaClientError as exc:  # Kafka still away (timeouts are not "retriable")
                log.warning("reading the committed offsets failed; trying again", error=str(exc))
            if await sleep_or_stop(stop, self._retry.backoff(min(attempt, 6))):
                return

    async def _measure_lag(self) -> None:
        """Records behind the end of each assigned partition, and on the dead-letter topic, at
        most every 5 s."""
        if time.monotonic() - self._lag_measured < 5:
            return
        self._lag_measured = time.monotonic()
        try:
            await self._gauge_lag()
        except KafkaClientError as exc:
            # A gauge is not worth the process: while Kafka is away it keeps its last value.
            log.info("lag not measured; Kafka did not answer", error=str(exc))

    async def _gauge_lag(self) -> None:
        assigned = await self._member.assignment()
        if not assigned:
            return
        for tp in await self._member.position(assigned):
            _, high = await self._member.watermarks(tp, wait_s=5.0)
            behind = high - tp.offset if tp.offset >= 0 else high
            CONSUMER_LAG.labels(partition=str(tp.partition)).set(max(0, behind))
        dead_letters = await records_on(self._member, self._dlq_topic)
        if dead_letters is not None:
            DEAD_LETTER_RECORDS.set(dead_letters)


def _next_offsets(batch: list[SuccessfulMessage]) -> list[confluent_kafka.TopicPartition]:
    last: dict[tuple[str, int], int] = {}
    for message in batch:
        last[(message.topic(), message.partition())] = message.offset()
    return [confluent_kafka.TopicPartition(t, p, o + 1) for (t, p), o in last.items()]
