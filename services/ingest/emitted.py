"""What ingest has already emitted, recovered from the raw topic's recent end.

The raw topic is the memory: its keys are the accession numbers emitted so far. It is read as a
`read_committed` consumer *after* the transactional producer has been initialised, which fences
a previous instance and aborts its unfinished transaction, so what is read is exactly what was
committed. Only keys are read (values are not decoded). No local file holds state.

Why only the recent end: every source asks about filings of known filing dates (the feed shows
the last business day or two, reconciliation covers the last few business days, a backfill names
its days), and a filing can only be emitted after it was filed. So every accession number filed
on day D or later that is on the topic was written at or after D, and the topic's time index
(`offsets_for_times`, on the producer's CreateTime) finds the first such record in each
partition. Start-up reads what was written since the first day it cares about, minus a margin,
not the whole history: a year of EDGAR is ~1.5M records, and a full read of 5M keys takes ~30 s.

The margin (`RECOVERY_MARGIN`, 4 days) covers EDGAR's filing dates running ahead of the clock (a
submission accepted after 17:30 ET is filed as of the next business day, so it can be emitted the
evening before its filing date) and a few days of clock skew between hosts. The raw topic must
keep CreateTime as written by ingest (the default `message.timestamp.type`) or LogAppendTime.
"""

from __future__ import annotations

import datetime as dt

import confluent_kafka
import structlog

from services.common.kafka import KafkaConsumer, consumer_config, partitions_at, read_range
from services.common.settings import CommonSettings
from services.ingest.daily_index import EDGAR_TIME_ZONE

log = structlog.get_logger(__name__)

RECOVERY_MARGIN = dt.timedelta(days=4)


def written_since(first_filing_day: dt.date) -> dt.datetime:
    """The earliest write time of a record filed on `first_filing_day` or later."""
    midnight = dt.datetime.combine(first_filing_day, dt.time(0), tzinfo=EDGAR_TIME_ZONE)
    return midnight - RECOVERY_MARGIN


async def emitted_accessions(
    settings: CommonSettings, topic: str, *, since: dt.datetime | None
) -> set[str]:
    """The keys of every committed record written at or after `since` (None: all of them)."""
    config = consumer_config(settings, client_id="sec-digester-ingest-recovery") | {
        "enable.partition.eof": True,
        "fetch.max.bytes": 52_428_800,
    }
    emitted: set[str] = set()
    async with KafkaConsumer(config) as consumer:
        partitions = await consumer.partitions(topic, setting="TOPIC_RAW")
        if since is None:
            starts = dict.fromkeys(partitions, confluent_kafka.OFFSET_BEGINNING)
        else:
            # A partition with nothing written since then answers OFFSET_END (-1).
            found = await consumer.offsets_for_times(
                partitions_at(topic, dict.fromkeys(partitions, int(since.timestamp() * 1000)))
            )
            starts = {tp.partition: tp.offset for tp in found}
        async for batch in read_range(consumer, topic, starts, max_records=10_000):
            for message in batch.records:
                if key := message.key():
                    emitted.add(key.decode("utf-8", errors="replace"))
    log.info(
        "recovered emitted accession numbers",
        topic=topic,
        count=len(emitted),
        written_since=since.isoformat() if since else "the beginning",
    )
    return emitted
