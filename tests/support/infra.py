"""The real local Kafka and registry for the integration tests, and per-test topic sets.

The session starts its own single-node Kafka and Apicurio Registry (kafkasql storage) on ports
away from the defaults, in a fresh directory, through the same code as `sec-digester infra up`;
the jars come from the shared download cache. If they cannot start, every integration test
errors: nothing is skipped.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from services.common.registry import open_registry, register_subjects
from services.common.settings import TopicSettings
from services.common.topics import create_topics
from services.infra.settings import InfraSettings

TEST_KAFKA_PORT = 39092
TEST_CONTROLLER_PORT = 39093
TEST_REGISTRY_PORT = 38081


def infra_settings_for_tests(directory: Path, port_offset: int = 0) -> InfraSettings:
    return InfraSettings(
        infra_dir=directory,
        infra_kafka_port=TEST_KAFKA_PORT + port_offset,
        infra_controller_port=TEST_CONTROLLER_PORT + port_offset,
        infra_registry_port=TEST_REGISTRY_PORT + port_offset,
        infra_kafka_heap="768m",
    )


def topic_settings(infra: InfraSettings, partitions: int = 1) -> TopicSettings:
    """Settings for a fresh, isolated set of the three topics on the test infrastructure."""
    suffix = uuid.uuid4().hex[:10]
    return TopicSettings(
        kafka_bootstrap_servers=infra.bootstrap_servers,
        schema_registry_url=infra.registry_url,
        topic_raw=f"test.{suffix}.raw",
        topic_analyzed=f"test.{suffix}.analyzed",
        topic_dlq=f"test.{suffix}.dlq",
        topic_llm_cache=f"test.{suffix}.llm-cache",
        topic_ingest_control=f"test.{suffix}.ingest-control",
        topic_partitions=partitions,
    )


async def provision(settings: TopicSettings) -> None:
    """What an operator does before starting services: topics, then schemas."""
    await create_topics(settings)
    async with open_registry(settings) as registry:
        await register_subjects(registry, settings, "FULL_TRANSITIVE")
