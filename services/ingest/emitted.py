"""What ingest has already emitted, recovered from the raw topic itself at start-up.

The raw topic is the memory: its keys are the accession numbers emitted so far, by any
previous run. It is read from the beginning to the end as a `read_committed` consumer *after*
the transactional producer has been initialised, which fences a previous instance and aborts
its unfinished transaction, so what is read is exactly what was committed. No local file holds
state. Only keys are read (values are not decoded): start-up costs one pass over the keys.
"""

from __future__ import annotations

import confluent_kafka
import structlog

from services.common.errors import ConfigurationError
from services.common.kafka import KafkaConsumer, consumer_config
from services.common.settings import CommonSettings

log = structlog.get_logger(__name__)


async def emitted_accessions(settings: CommonSettings, topic: str) -> set[str]:
    config = consumer_config(settings, client_id="sec-digester-ingest-recovery") | {
        "enable.partition.eof": True,
        "fetch.max.bytes": 52_428_800,
    }
    emitted: set[str] = set()
    async with KafkaConsumer(config) as consumer:
        metadata = await consumer.run("metadata", consumer.handle.list_topics, topic, 30)
        partitions = metadata.topics[topic].partitions
        if metadata.topics[topic].error is not None or not partitions:
            raise ConfigurationError(
                f"topic {topic} does not exist: run `sec-digester topics create` (TOPIC_RAW)"
            )
        await consumer.run(
            "assign",
            consumer.handle.assign,
            [
                confluent_kafka.TopicPartition(topic, p, confluent_kafka.OFFSET_BEGINNING)
                for p in partitions
            ],
        )
        at_end: set[int] = set()
        while len(at_end) < len(partitions):
            for message in await consumer.consume(max_records=10_000, wait_s=1.0):
                error = message.error()
                partition = message.partition()
                if error is not None and partition is not None:  # consume() passes only EOF
                    at_end.add(partition)
                elif key := message.key():
                    emitted.add(key.decode("utf-8", errors="replace"))
    log.info("recovered emitted accession numbers", topic=topic, count=len(emitted))
    return emitted
