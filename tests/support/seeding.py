"""Putting filings on a raw topic the way ingest does (transactional, Avro, keyed)."""

from __future__ import annotations

import datetime as dt
import uuid

from services.common.avro import AvroCodec
from services.common.kafka import TransactionalProducer, producer_config
from services.common.records import Filing, FilingSource
from services.common.registry import open_registry, subject_for
from services.common.schemas import SchemaName
from services.common.settings import CommonSettings
from services.ingest.corpus import load_snapshot
from services.ingest.emitted import emitted_accessions
from services.ingest.feed import merge_entries
from services.ingest.publisher import FilingPublisher
from services.ingest.tickers import TickerMap
from tests.support.records import CORPUS_DIR

BATCH = 5000  # the backfill's transaction size


def snapshot_filings(snapshot: str) -> list[Filing]:
    """A recorded feed snapshot's filings, oldest first, as ingest publishes them."""
    filings = merge_entries(
        load_snapshot(CORPUS_DIR, snapshot),
        source=FilingSource.LIVE,
        detected_at=dt.datetime.now(dt.UTC),
        tickers=TickerMap.bundled(),
    )
    return filings[::-1]


async def publish_filings(settings: CommonSettings, filings: list[Filing]) -> None:
    async with open_registry(settings) as registry:
        codec = await AvroCodec(registry, subject_for(settings.topic_raw), SchemaName.FILING).open()
        config = producer_config(
            settings, client_id="seeder", transactional_id=f"seed-{uuid.uuid4()}"
        )
        async with TransactionalProducer(config) as producer:
            publisher = FilingPublisher(
                producer,
                codec,
                settings.topic_raw,
                set(),
                read_emitted=lambda: emitted_accessions(settings, settings.topic_raw, since=None),
            )
            for offset in range(0, len(filings), BATCH):
                await publisher.publish(filings[offset : offset + BATCH])
