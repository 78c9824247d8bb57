"""Writing filings to the raw topic, each accession number exactly once.

One Kafka transaction per batch (a poll, an index day, a replay step): either every new filing
of the batch is on the topic, or none is, and the in-memory set of emitted accession numbers is
updated only after the commit. A transactional id fences any previous instance, so a restarted
ingest can never have a zombie finish a batch it already re-sent. Cancellation (shutdown)
aborts an unfinished transaction; the batch is simply re-read by the next run.

A broker outage does not end a batch (services/common/kafka/transactions.py): a commit that
failed retriably is committed again, an aborted transaction is written again, and a producer
that became unusable is replaced; then, not knowing whether the batch committed, the publisher
re-reads its emitted set from the raw topic (services/ingest/emitted.py, since the window it
started with) and writes only what is not there, so a batch that did commit is not sent twice.

One process runs several sources (the feed poller, the daily-index reconciliation, backfills
handed over by `ingest --source index`) through one publisher: a lock makes their transactions
take turns, so each one checks the emitted set as the previous one left it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Container, Sequence

import structlog

from services.common.avro import AvroCodec
from services.common.errors import KafkaClientError, SerializationError
from services.common.kafka import KafkaProducer, Outcome, TransactionalProducer
from services.common.records import Filing
from services.common.retry import RetryPolicy
from services.ingest.metrics import EMITTED_KNOWN, FILINGS_EMITTED

log = structlog.get_logger(__name__)


# What the emitted set is read back with after a producer was replaced (emitted.py).
ReadEmitted = Callable[[], Awaitable[set[str]]]


class FilingPublisher:
    def __init__(
        self,
        producer: TransactionalProducer,
        codec: AvroCodec,
        topic: str,
        emitted: set[str],
        read_emitted: ReadEmitted,
    ) -> None:
        self._producer = producer
        self._codec = codec
        self._topic = topic
        self._emitted = emitted
        self._read_emitted = read_emitted
        self._turn = asyncio.Lock()
        # No limit: while Kafka is away the batch waits; the outage watch ends the process.
        self._retry = RetryPolicy.forever(base_delay_s=0.5, max_delay_s=10.0)
        EMITTED_KNOWN.set(len(emitted))

    def is_emitted(self, accession_number: str) -> bool:
        return accession_number in self._emitted

    async def publish(
        self, filings: Sequence[Filing], *, also_emitted: Container[str] = frozenset()
    ) -> list[Filing]:
        """Write the filings not yet emitted, in the given order; returns what was written.

        `also_emitted` holds accession numbers known to be on the topic that this publisher's
        own set does not hold (older history read for a backfill)."""
        async with self._turn:
            return await self._publish(filings, also_emitted)

    async def _publish(
        self, filings: Sequence[Filing], also_emitted: Container[str]
    ) -> list[Filing]:
        recovered: list[Filing] = []  # written by a transaction whose outcome was unknown
        for attempt in self._retry.attempts():
            batch = self._new_in(filings, also_emitted)
            if not batch:
                return self._written(recovered)

            async def write(
                producer: KafkaProducer, batch: list[tuple[Filing, bytes]] = batch
            ) -> None:
                for filing, value in batch:
                    producer.enqueue(self._topic, key=filing.accession_number.encode(), value=value)

            outcome = await self._producer.transaction(write)
            if outcome is Outcome.COMMITTED:
                return self._written(recovered + [filing for filing, _ in batch])
            if outcome is Outcome.PRODUCER_REBUILT:
                await self._reread_emitted()
                recovered += [f for f, _ in batch if f.accession_number in self._emitted]
            await asyncio.sleep(self._retry.backoff(attempt))
        raise AssertionError("unreachable: RetryPolicy.forever has no last attempt")

    def _new_in(
        self, filings: Sequence[Filing], also_emitted: Container[str]
    ) -> list[tuple[Filing, bytes]]:
        """The filings not emitted yet, encoded, each once."""
        batch: list[tuple[Filing, bytes]] = []
        queued: set[str] = set()
        for filing in filings:
            accession = filing.accession_number
            if accession in self._emitted or accession in also_emitted or accession in queued:
                continue
            queued.add(accession)
            try:
                batch.append((filing, self._codec.encode(filing.to_avro())))
            except SerializationError:
                # A filing the schema cannot hold is a parser bug; it must not block the rest.
                log.exception("filing not encodable", accession=filing.accession_number)
        return batch

    async def _reread_emitted(self) -> None:
        """After a producer was replaced: whether the last batch committed is unknown, so the
        topic says what is on it (read while Kafka answers; tried again until it does)."""
        for attempt in self._retry.attempts():
            try:
                emitted = await self._read_emitted()
            except KafkaClientError as exc:  # Kafka still away (timeouts are not "retriable")
                log.warning("reading the emitted set back failed; trying again", error=str(exc))
                await asyncio.sleep(self._retry.backoff(attempt))
                continue
            self._emitted |= emitted
            EMITTED_KNOWN.set(len(self._emitted))
            return

    def _written(self, written: list[Filing]) -> list[Filing]:
        for filing in written:
            self._emitted.add(filing.accession_number)
            FILINGS_EMITTED.labels(form_type=filing.form_type, source=filing.source.value).inc()
        EMITTED_KNOWN.set(len(self._emitted))
        return written
