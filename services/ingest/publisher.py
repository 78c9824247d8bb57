"""Writing filings to the raw topic, each accession number exactly once.

One Kafka transaction per batch (a poll, an index day, a replay step): either every new filing
of the batch is on the topic, or none is, and the in-memory set of emitted accession numbers is
updated only after the commit. A transactional id fences any previous instance, so a restarted
ingest can never have a zombie finish a batch it already re-sent. Cancellation (shutdown)
aborts an unfinished transaction; the batch is simply re-read by the next run.

One process runs several sources (the feed poller, the daily-index reconciliation, backfills
handed over by `ingest --source index`) through one publisher: a lock makes their transactions
take turns, so each one checks the emitted set as the previous one left it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Container, Sequence

import structlog

from services.common.avro import AvroCodec
from services.common.errors import SerializationError
from services.common.kafka import KafkaProducer
from services.common.records import Filing
from services.ingest.metrics import EMITTED_KNOWN, FILINGS_EMITTED

log = structlog.get_logger(__name__)


class FilingPublisher:
    def __init__(
        self, producer: KafkaProducer, codec: AvroCodec, topic: str, emitted: set[str]
    ) -> None:
        self._producer = producer
        self._codec = codec
        self._topic = topic
        self._emitted = emitted
        self._turn = asyncio.Lock()
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
        if not batch:
            return []
        await self._producer.begin_transaction()
        try:
            for filing, value in batch:
                self._producer.enqueue(
                    self._topic, key=filing.accession_number.encode(), value=value
                )
            await self._producer.commit_transaction()
        except BaseException:
            # Shield the abort from a second cancellation: an open transaction would block
            # read_committed readers until it times out.
            await asyncio.shield(self._producer.abort_transaction())
            raise
        written = [filing for filing, _ in batch]
        for filing in written:
            self._emitted.add(filing.accession_number)
            FILINGS_EMITTED.labels(form_type=filing.form_type, source=filing.source.value).inc()
        EMITTED_KNOWN.set(len(self._emitted))
        return written
