"""`topics create`: the project's topics, with the configured partitions and retention,
idempotently.

An existing topic is left as it is, never altered: adding partitions would move keys to other
partitions and break per-filing ordering for consumers mid-stream, so a difference from the
configuration is reported for the operator to decide.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import ConfigResource
from confluent_kafka.cimpl import NewTopic

from services.common.errors import KafkaClientError
from services.common.kafka import connection_config, translate
from services.common.settings import TopicSettings


@dataclass(frozen=True)
class TopicReport:
    name: str
    created: bool
    partitions: int
    retention_ms: str
    note: str = ""


def _wanted(settings: TopicSettings) -> list[NewTopic]:
    def topic(
        name: str, retention_ms: int, cleanup_policy: str = "delete", partitions: int | None = None
    ) -> NewTopic:
        return NewTopic(
            name,
            num_partitions=partitions or settings.topic_partitions,
            replication_factor=settings.topic_replication_factor,
            config={
                "retention.ms": str(retention_ms),
                "cleanup.policy": cleanup_policy,
                # With replication 1 (local) this is 1; with 3 (a cluster, or `infra up
                # --nodes 3`) acks=all means "2 of 3": one broker may be down, never two.
                "min.insync.replicas": str(min(2, settings.topic_replication_factor)),
            },
        )

    return [
        topic(settings.topic_raw, settings.topic_retention_ms),
        topic(settings.topic_analyzed, settings.topic_retention_ms),
        topic(settings.topic_dlq, settings.topic_dlq_retention_ms),
        # Compaction keeps the latest answer per (accession, model) for ever.
        topic(settings.topic_llm_cache, -1, cleanup_policy="compact"),
        # Requests and answers between ingest processes: one partition keeps them in order.
        topic(settings.topic_ingest_control, 7 * 24 * 3600 * 1000, partitions=1),
    ]


def _create_topics(settings: TopicSettings) -> list[TopicReport]:
    admin = AdminClient(connection_config(settings))
    wanted = _wanted(settings)
    futures = admin.create_topics(wanted, operation_timeout=30, request_timeout=30)
    created: dict[str, bool] = {}
    for name, future in futures.items():
        try:
            future.result()
            created[name] = True
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise translate(exc, f"create topic {name}") from exc
            created[name] = False
    metadata = _metadata_with(admin, [t.topic for t in wanted])
    configs = _configs_of(admin, [t.topic for t in wanted])
    reports = []
    for topic in wanted:
        found = metadata.topics[topic.topic].partitions
        partitions = len(found)
        replicas = max(len(partition.replicas) for partition in found.values())
        retention = configs[topic.topic]["retention.ms"].value
        min_isr = configs[topic.topic]["min.insync.replicas"].value
        wanted_config = topic.config or {}
        notes = []
        if partitions != topic.num_partitions:
            notes.append(f"has {partitions} partitions, configuration says {topic.num_partitions}")
        if replicas != topic.replication_factor:
            notes.append(
                f"has replication factor {replicas}, configuration says {topic.replication_factor}"
            )
        if retention != wanted_config["retention.ms"]:
            notes.append(
                f"retention.ms is {retention}, configuration says {wanted_config['retention.ms']}"
            )
        if min_isr != wanted_config["min.insync.replicas"]:
            notes.append(
                f"min.insync.replicas is {min_isr}, "
                f"configuration says {wanted_config['min.insync.replicas']}"
            )
        reports.append(
            TopicReport(topic.topic, created[topic.topic], partitions, retention, "; ".join(notes))
        )
    return reports


def _metadata_with(admin: AdminClient, names: list[str]) -> Any:
    """Cluster metadata once it lists every topic: a new topic takes a moment to appear."""
    deadline = time.monotonic() + 30
    while True:
        metadata = admin.list_topics(timeout=30)
        if all(n in metadata.topics and metadata.topics[n].partitions for n in names):
            return metadata
        if time.monotonic() > deadline:
            raise KafkaClientError(f"topics {names} did not appear in the cluster metadata")
        time.sleep(0.2)


def _configs_of(admin: AdminClient, names: list[str]) -> dict[str, Any]:
    """The topics' configs once the broker asked knows them: in a cluster, the broker that
    answered the metadata request may not be the one asked, and a new topic reaches each
    broker's metadata a moment apart."""
    resources = [ConfigResource(ConfigResource.Type.TOPIC, name) for name in names]
    deadline = time.monotonic() + 30
    while True:
        try:
            return {res.name: f.result() for res, f in admin.describe_configs(resources).items()}
        except KafkaException as exc:
            unknown = exc.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART
            if not unknown or time.monotonic() > deadline:
                raise
        time.sleep(0.2)


async def create_topics(settings: TopicSettings) -> list[TopicReport]:
    try:
        return await asyncio.to_thread(_create_topics, settings)
    except KafkaException as exc:
        raise translate(exc, "create topics") from exc
