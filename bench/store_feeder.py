"""The store's feeder against a plain consumer reading the same topic, in one run.

    python -m bench.store_feeder [RECORDS] [--postgres]   (default 200,000; local infrastructure)

N analyzed records (the project's sample analyses) are published to fresh topics with 3
partitions, in transactions of 5,000. Then, each from the beginning to the end of the topic:
1. a plain confluent-kafka consumer (read_committed, values not decoded): what reading costs;
2. a plain consumer that also decodes every value through the registry (AvroCodec);
3. the feeder: decode, make the row, write rows and offsets in transactions of 1,000 to a new
   SQLite file;
4. with --postgres, the feeder into PostgreSQL (a throw-away server, bench/store.py's): as a
   member of a consumer group, polling record by record (consume_marked) and writing compare
   and set.
The feeder's rate against 1 and 2 says where its time goes.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from pydantic import SecretStr

from bench._setup import local_topics, print_header
from bench.store import _throwaway_postgres
from services.common.avro import AvroCodec
from services.common.kafka import KafkaConsumer, consumer_config
from services.common.registry import open_registry, register_subjects, subject_for, subjects
from services.common.schemas import SchemaName
from services.common.settings import TopicSettings
from services.common.topics import create_topics
from services.store.backend import FilingsStore
from services.store.feeder import FeederTopics, StoreFeeder, feeder_config
from services.store.postgres import PostgresStore
from services.store.settings import StoreSettings
from services.store.sqlite import SqliteStore
from tests.support.gateway import publish_analyses
from tests.support.records import sample_analysis

_PARTITIONS = 3


def _plain_read(bootstrap: str, topic: str, expected: int) -> tuple[float, list[bytes]]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "bench-plain",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    values: list[bytes] = []
    started = time.perf_counter()
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(_PARTITIONS)])
    while len(values) < expected:
        for message in consumer.consume(1000, 1.0):
            if message.error() is None and (value := message.value()) is not None:
                values.append(value)
    elapsed = time.perf_counter() - started
    consumer.close()
    return elapsed, values


async def _run(count: int, postgres: bool) -> None:
    settings = local_topics().model_copy(update={"topic_partitions": _PARTITIONS})
    await create_topics(settings)
    async with open_registry(settings) as registry:
        await register_subjects(registry, settings, "FULL_TRANSITIVE")
    topic = settings.topic_analyzed
    published = time.perf_counter()
    for first in range(0, count, 5000):
        batch = [
            sample_analysis(n + 1, ticker=f"T{n % 5000:04d}")
            for n in range(first, min(first + 5000, count))
        ]
        await publish_analyses(settings, batch)
    print(f"   published {count:,} records in {time.perf_counter() - published:.0f} s")

    read_s, values = await asyncio.to_thread(
        _plain_read, settings.kafka_bootstrap_servers, topic, count
    )
    async with open_registry(settings) as registry:
        subject = subject_for(topic)
        codec = await AvroCodec(registry, subject, subjects(settings)[subject]).open()
        started = time.perf_counter()
        for value in values:
            await codec.decode(value)
        decode_s = read_s + time.perf_counter() - started
        text_codec = await AvroCodec(
            registry, subject_for(settings.topic_text), SchemaName.FILING_TEXT
        ).open()
        codecs = (codec, text_codec)
        with tempfile.TemporaryDirectory() as directory:
            config = consumer_config(settings, client_id="bench-feeder") | {
                "enable.partition.eof": True
            }
            async with (
                KafkaConsumer(config) as consumer,
                SqliteStore(Path(directory) / "store.sqlite3", topic, settings.topic_text) as store,
            ):
                feed_s, stored = await _feed(store, consumer, codecs, settings, grouped=False)
        pg_feed: tuple[float, int] | None = None
        if postgres:
            with _throwaway_postgres() as server:
                store_settings = StoreSettings(
                    kafka_bootstrap_servers=settings.kafka_bootstrap_servers,
                    schema_registry_url=settings.schema_registry_url,
                    topic_analyzed=topic,
                    topic_text=settings.topic_text,
                    store_dsn=SecretStr(server.dsn),
                    store_group_id=f"bench-feeder-{topic}",
                )
                async with (
                    KafkaConsumer(feeder_config(store_settings, client_id="bench-pg")) as consumer,
                    PostgresStore(server.dsn, topic, settings.topic_text, schema="bench") as pg,
                ):
                    pg_feed = await _feed(pg, consumer, codecs, settings, grouped=True)
    print(f"   plain consumer (bytes)         {count / read_s:>10,.0f} records/s")
    print(f"   plain consumer + Avro decode   {count / decode_s:>10,.0f} records/s")
    print(
        f"   feeder (decode, rows, SQLite)  {count / feed_s:>10,.0f} records/s"
        f"   ({read_s / feed_s:.2f}x the plain read; {stored:,} stored)"
    )
    if pg_feed is not None:
        pg_s, pg_stored = pg_feed
        print(
            f"   feeder (PostgreSQL, grouped)   {count / pg_s:>10,.0f} records/s"
            f"   ({read_s / pg_s:.2f}x the plain read; {pg_stored:,} stored)"
        )


async def _feed(
    store: FilingsStore,
    consumer: KafkaConsumer,
    codecs: tuple[AvroCodec, AvroCodec],
    settings: TopicSettings,
    *,
    grouped: bool,
) -> tuple[float, int]:
    """From the beginning to the topic's end: seconds, and the records stored."""
    feeder = StoreFeeder(
        store,
        consumer,
        codecs,
        FeederTopics(settings.topic_analyzed, settings.topic_text),
        batch_size=1000,
        progress_interval_s=60,
        text_wait_s=10,
        held_max=10_000,
        grouped=grouped,
    )
    stop = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(feeder.run(stop))
    await feeder.caught_up.wait()
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    return elapsed, await store.count()


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    postgres = "--postgres" in sys.argv[1:]
    count = int(args[0]) if args else 200_000
    flag = " --postgres" if postgres else ""
    print_header("filings store feeder", f"python -m bench.store_feeder {count}{flag}")
    asyncio.run(_run(count, postgres))


if __name__ == "__main__":
    main()
