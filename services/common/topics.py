"""`topics create`: the project's topics, with the configured partitions and retention,
idempotently.

An existing topic is left as it is, never altered: adding partitions would move keys to other
partitions and break per-filing ordering for consumers mid-stream, so a difference from the
configuration is reported for the operator to decide.
"""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka.admin import NewTopic

from services.common.kafka import KafkaAdmin, connection_config
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
        # Kept as long as the analyses it goes with: any consumer replays every filing's text.
        topic(settings.topic_text, settings.topic_retention_ms),
        # Compaction keeps the latest answer per (accession, model) for ever.
        topic(settings.topic_llm_cache, -1, cleanup_policy="compact"),
        # Requests and answers between ingest processes: one partition keeps them in order.
        topic(settings.topic_ingest_control, 7 * 24 * 3600 * 1000, partitions=1),
    ]


async def create_topics(settings: TopicSettings) -> list[TopicReport]:
    admin = KafkaAdmin(connection_config(settings))
    wanted = _wanted(settings)
    created = await admin.create_topics(wanted)
    names = [t.topic for t in wanted]
    layouts = await admin.topic_layouts(names)
    configs = await admin.topic_configs(names)
    reports = []
    for topic in wanted:
        layout = layouts[topic.topic]
        retention = configs[topic.topic]["retention.ms"]
        min_isr = configs[topic.topic]["min.insync.replicas"]
        wanted_config = topic.config or {}
        notes = []
        if layout.partitions != topic.num_partitions:
            notes.append(
                f"has {layout.partitions} partitions, configuration says {topic.num_partitions}"
            )
        if layout.replication_factor != topic.replication_factor:
            notes.append(
                f"has replication factor {layout.replication_factor}, "
                f"configuration says {topic.replication_factor}"
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
            TopicReport(
                topic.topic,
                created[topic.topic],
                layout.partitions,
                retention,
                "; ".join(notes),
            )
        )
    return reports
