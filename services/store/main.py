"""`sec-digester store feed`: the feeder on its own, with /healthz, /readyz and /metrics."""

from __future__ import annotations

import time

import structlog

from services.common.avro import AvroCodec
from services.common.health import serve_health
from services.common.kafka import KafkaConsumer
from services.common.lifecycle import shutdown_event
from services.common.probes import kafka_reachable, registry_reachable
from services.common.registry import open_registry, subject_for
from services.common.schemas import SchemaName
from services.store.feeder import FeederTopics, StoreFeeder, feeder_config
from services.store.opening import open_store
from services.store.settings import FeederSettings

log = structlog.get_logger(__name__)


async def run_feeder(settings: FeederSettings) -> int:
    stop = shutdown_event()
    topic = settings.topic_analyzed
    config = feeder_config(settings, client_id="sec-digester-store")
    structlog.contextvars.bind_contextvars(topic=topic, store=settings.store_description)
    async with (
        open_registry(settings) as registry,
        KafkaConsumer(config) as consumer,
        open_store(settings, writer=True) as store,
    ):
        codecs = (
            await AvroCodec(registry, subject_for(topic), SchemaName.FILING_ANALYSIS).open(),
            await AvroCodec(
                registry, subject_for(settings.topic_text), SchemaName.FILING_TEXT
            ).open(),
        )
        feeder = StoreFeeder(
            store,
            consumer,
            codecs,
            FeederTopics(topic, settings.topic_text),
            batch_size=settings.store_batch_size,
            progress_interval_s=settings.store_progress_interval_s,
            text_wait_s=settings.store_text_wait_s,
            held_max=settings.store_held_max,
            grouped=settings.store_postgres_dsn is not None,
        )
        async with serve_health(
            settings.store_health_host,
            settings.store_health_port,
            alive=lambda: time.monotonic() - feeder.last_progress < 300,
            checks={
                "kafka": lambda: kafka_reachable(settings),
                "registry": lambda: registry_reachable(settings),
            },
        ):
            await feeder.run(stop)
    log.info("store feeder stopped")
    return 0
