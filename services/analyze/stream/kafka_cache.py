"""The LLM analysis cache on a compacted Kafka topic: durable across restarts and replicas.

Key: `<accession>|<model>`; value: `CachedAnalysis.to_dict()` as JSON (an internal topic that
only analyze reads, so no registry schema). At start-up the topic is read into memory; each new
entry is written by a plain idempotent producer, outside the analysis transaction, so an answer
that was paid for stays cached even if its batch is aborted and retried.
"""

from __future__ import annotations

import confluent_kafka
import orjson
import structlog

from services.analyze.judgement.analysis_cache import CachedAnalysis, InMemoryAnalysisCache
from services.common.kafka import KafkaConsumer, KafkaProducer, consumer_config, read_range
from services.common.settings import CommonSettings

log = structlog.get_logger(__name__)


class KafkaAnalysisCache(InMemoryAnalysisCache):
    def __init__(self, producer: KafkaProducer, topic: str, max_entries: int = 1_000_000) -> None:
        super().__init__(max_entries)
        self._producer = producer
        self._topic = topic

    async def load(self, settings: CommonSettings) -> KafkaAnalysisCache:
        """Read every entry of the cache topic (the compacted topic keeps the latest per key)."""
        config = consumer_config(settings, client_id="sec-digester-llm-cache") | {
            "enable.partition.eof": True
        }
        async with KafkaConsumer(config) as consumer:
            partitions = await consumer.partitions(self._topic, setting="TOPIC_LLM_CACHE")
            starts = dict.fromkeys(partitions, confluent_kafka.OFFSET_BEGINNING)
            async for batch in read_range(consumer, self._topic, starts, max_records=5000):
                for message in batch.records:
                    if value := message.value():
                        await super().put(CachedAnalysis.from_dict(orjson.loads(value)))
        log.info("llm cache loaded", topic=self._topic, entries=len(self))
        return self

    async def put(self, entry: CachedAnalysis) -> None:
        await super().put(entry)
        await self._producer.send(
            self._topic, key=entry.key.encode(), value=orjson.dumps(entry.to_dict())
        )
