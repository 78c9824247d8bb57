"""`sec-digester analyze`: the raw topic in, analyses and dead letters out, exactly once.

Every client is opened here and closed on the way out, whatever happened: the registry, the
transactional producer (its transactional id is stable per instance, so a restart first aborts
what the previous life left open), the consumer (closing it leaves the group at once), the
EDGAR client and, with an LLM configured, the cache producer.

Started before Kafka, the registry, the topics or the subjects are there, it waits for them
(services/common/startup.py), alive and not ready. A broker outage is ridden out
(services/common/outage.py, processor.py): /readyz answers 503 meanwhile, and only an outage
longer than KAFKA_OUTAGE_TOLERANCE_S ends the process, non-zero.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

import structlog

from services.analyze.judgement.offline import OfflineAnalyzer
from services.analyze.pipeline import FilingAnalyzer
from services.analyze.reading.documents import DocumentFetcher
from services.analyze.settings import AnalyzeSettings
from services.analyze.stream.processor import Codecs, Topics, TransactionalProcessor
from services.common.avro import AvroCodec
from services.common.edgar import EdgarClient
from services.common.health import serve_health
from services.common.kafka import (
    KafkaConsumer,
    KafkaProducer,
    TransactionalProducer,
    consumer_config,
    producer_config,
)
from services.common.lifecycle import shutdown_event
from services.common.outage import watch_kafka_outages
from services.common.probes import kafka_reachable, registry_reachable
from services.common.ratelimit import RequestLimiter
from services.common.registry import RegistryClient, open_registry, subject_for
from services.common.retry import RetryPolicy
from services.common.schemas import SchemaName
from services.common.startup import Needs, wait_for_infrastructure

if TYPE_CHECKING:
    from services.analyze.judgement.llm import LlmAnalyzer

log = structlog.get_logger(__name__)


async def _codecs(registry: RegistryClient, settings: AnalyzeSettings) -> Codecs:
    async def codec(topic: str, schema: SchemaName) -> AvroCodec:
        return await AvroCodec(registry, subject_for(topic), schema).open()

    return Codecs(
        raw=await codec(settings.topic_raw, SchemaName.FILING),
        analysis=await codec(settings.topic_analyzed, SchemaName.FILING_ANALYSIS),
        dead_letter=await codec(settings.topic_dlq, SchemaName.DEAD_LETTER),
        text=await codec(settings.topic_text, SchemaName.FILING_TEXT),
    )


async def _llm_analyzer(
    settings: AnalyzeSettings, stack: contextlib.AsyncExitStack
) -> LlmAnalyzer | None:
    """The LLM analyzer with its durable cache, or None for the offline analyzer."""
    if not settings.llm_model:
        return None
    # litellm is imported only when an LLM is configured (it takes seconds to import).
    from services.analyze.judgement.llm import LlmAnalyzer, LlmConfig
    from services.analyze.stream.kafka_cache import KafkaAnalysisCache

    cache_producer = await stack.enter_async_context(
        KafkaProducer(producer_config(settings, client_id="sec-digester-llm-cache"))
    )
    cache = await KafkaAnalysisCache(cache_producer, settings.topic_llm_cache).load(settings)
    config = LlmConfig(
        model=settings.llm_model,
        api_base=settings.llm_api_base,
        timeout_s=settings.llm_timeout_s,
        max_attempts=settings.llm_max_attempts,
        max_concurrency=settings.llm_max_concurrency,
        max_input_chars=settings.llm_max_input_chars,
    )
    return LlmAnalyzer(config, cache)


def _needs(settings: AnalyzeSettings) -> Needs:
    """The topics analyze reads and writes, and the subjects it looks its schemas up in."""
    topics = [settings.topic_raw, settings.topic_analyzed, settings.topic_dlq, settings.topic_text]
    if settings.llm_model:
        topics.append(settings.topic_llm_cache)
    return Needs(topics=topics, schema_topics=topics[:4])


async def run_analyze(settings: AnalyzeSettings) -> int:
    stop = shutdown_event()
    structlog.contextvars.bind_contextvars(service="analyze", group=settings.analyze_group_id)
    processor: TransactionalProcessor | None = None

    def alive() -> bool:
        # Waiting for the infrastructure is alive; once processing, progress within 5 minutes.
        return processor is None or time.time() - processor.last_progress < 300

    async def processing() -> bool:
        return processor is not None

    async with contextlib.AsyncExitStack() as stack:
        # Health first: while the infrastructure is awaited, /healthz is 200 and /readyz 503.
        await stack.enter_async_context(
            serve_health(
                settings.analyze_health_host,
                settings.analyze_health_port,
                alive=alive,
                checks={
                    "kafka": lambda: kafka_reachable(settings),
                    "registry": lambda: registry_reachable(settings),
                    "started": processing,
                },
            )
        )
        if not await wait_for_infrastructure(settings, _needs(settings), stop):
            return 0
        registry = await stack.enter_async_context(open_registry(settings))
        codecs = await _codecs(registry, settings)
        llm = await _llm_analyzer(settings, stack)
        producer = await stack.enter_async_context(
            TransactionalProducer(
                producer_config(
                    settings,
                    client_id="sec-digester-analyze",
                    transactional_id=settings.transactional_id,
                )
            )
        )

        def open_consumer() -> KafkaConsumer:
            return KafkaConsumer(
                consumer_config(
                    settings,
                    client_id="sec-digester-analyze",
                    group_id=settings.analyze_group_id,
                )
                | {
                    # Static membership: a restarted instance takes its partitions back at once,
                    # instead of the group waiting a session timeout for the dead member.
                    "group.instance.id": settings.analyze_instance_id,
                    "session.timeout.ms": 20_000,
                }
            )

        edgar = await stack.enter_async_context(
            EdgarClient(
                user_agent=settings.user_agent,
                limiter=RequestLimiter(settings.edgar_requests_per_second),
                timeout_s=settings.edgar_timeout_s,
                retry=RetryPolicy(max_attempts=settings.edgar_max_attempts),
            )
        )
        fetcher = DocumentFetcher(
            edgar,
            settings.edgar_base_url,
            fetch_forms=settings.fetch_forms,
            max_document_bytes=settings.analyze_max_document_bytes,
        )
        analyzer = FilingAnalyzer(
            fetcher, OfflineAnalyzer(), llm, text_max_bytes=settings.analyze_text_max_bytes
        )
        processor = TransactionalProcessor(
            open_consumer=open_consumer,
            producer=producer,
            codecs=codecs,
            analyzer=analyzer,
            topics=Topics(
                settings.topic_raw, settings.topic_analyzed, settings.topic_dlq, settings.topic_text
            ),
            batch_size=settings.analyze_batch_size,
            concurrency=settings.analyze_concurrency,
        )
        log.info("analyze started", analyzer="llm" if llm else "offline", model=settings.llm_model)
        async with asyncio.TaskGroup() as group:
            # Both end on shutdown; the watch ends the process after too long an outage.
            group.create_task(watch_kafka_outages(settings, stop))
            await processor.run(stop)
    log.info("analyze stopped")
    return 0
