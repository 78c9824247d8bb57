"""`sec-digester demo`: everything, locally, on the bundled recorded EDGAR corpus.

Starts the local Kafka and registry, creates the topics and registers the schemas, pointing
every step at the local infrastructure whatever KAFKA_BOOTSTRAP_SERVERS says. The services
themselves (ingest, analyze, gateway) join as their issues land.
"""

from __future__ import annotations

import asyncio
import sys

from services.common.registry import open_registry, register_subjects
from services.common.settings import SchemaSettings, TopicSettings
from services.common.topics import create_topics
from services.infra import local
from services.infra.settings import InfraSettings


class DemoSettings(InfraSettings, TopicSettings, SchemaSettings):
    """Infrastructure, topics and schemas: what the demo sets up."""


async def run_demo(settings: DemoSettings) -> int:
    print("starting local Kafka and the schema registry ...", file=sys.stderr)
    await asyncio.to_thread(local.up, settings)
    local_settings = settings.model_copy(
        update={
            "kafka_bootstrap_servers": settings.bootstrap_servers,
            "schema_registry_url": settings.registry_url,
        }
    )
    for topic in await create_topics(local_settings):
        print(f"topic {topic.name}: {topic.partitions} partitions", file=sys.stderr)
    async with open_registry(local_settings) as registry:
        for subject in await register_subjects(
            registry, local_settings, settings.schema_compatibility
        ):
            print(f"subject {subject.subject}: schema id {subject.schema_id}", file=sys.stderr)
    print(f"KAFKA_BOOTSTRAP_SERVERS={settings.bootstrap_servers}")
    print(f"SCHEMA_REGISTRY_URL={settings.registry_url}")
    print(
        "Infrastructure, topics and schemas are ready. Still to come: ingest replaying the "
        "bundled corpus, analyze and the gateway (issues 3-6). `sec-digester infra down` stops "
        "Kafka and the registry.",
        file=sys.stderr,
    )
    return 0
