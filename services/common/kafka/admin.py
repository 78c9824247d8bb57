"""The admin client for asyncio: topics and offsets of partitions.

Consumer groups' offsets are not asked of it: librdkafka's coordinator-targeted Admin requests
can abort the process while the coordinator is away (services/common/kafka/group_offsets.py).

librdkafka's admin client is thread-safe, so its requests run on the default thread pool side
by side (many stream clients connecting at once each ask for offsets). Offsets are answered
for read_committed readers: the end of a partition is its last stable offset, so a reader
starting at "latest" never skips a record of a transaction still open.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import confluent_kafka
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic, OffsetSpec

from services.common.errors import KafkaClientError
from services.common.kafka.boundary import off_loop, translate
from services.common.kafka.messages import partitions_of
from services.common.kafka.metadata import missing_topic, partitions_in

_EARLIEST: OffsetSpec = OffsetSpec.earliest()  # type: ignore[no-untyped-call]
_LATEST: OffsetSpec = OffsetSpec.latest()  # type: ignore[no-untyped-call]

Offsets = dict[int, int]  # partition -> offset


@dataclass(frozen=True, slots=True)
class TopicLayout:
    partitions: int
    replication_factor: int  # replicas of its most replicated partition


T = TypeVar("T")


class KafkaAdmin:
    def __init__(self, config: dict[str, Any]) -> None:
        self._admin = AdminClient(config)

    async def _run(self, doing: str, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await off_loop(doing, fn, *args)
        finally:
            # librdkafka's log lines (handed to our `logger`) wait in the client's queue until
            # it is polled, and nothing else polls an admin client: serve them now.
            self._admin.poll(0)

    async def partitions(
        self, topic: str, *, setting: str | None = None, wait_s: float = 15
    ) -> list[int]:
        """The topic's partitions; `ConfigurationError` (naming `setting`) if it does not
        exist."""
        metadata = await self._run(f"describe {topic}", self._admin.list_topics, topic, wait_s)
        found = partitions_in(metadata, topic)
        if found is None:
            raise missing_topic(topic, setting)
        return found

    async def ends(self, topic: str, partitions: list[int], *, earliest: bool = False) -> Offsets:
        """The first (earliest) or next (latest: last stable) offset of each partition."""
        return await self._list_offsets(topic, partitions, _EARLIEST if earliest else _LATEST)

    async def offsets_at(self, topic: str, partitions: list[int], millis: int) -> Offsets:
        """First offset at or after `millis` per partition; -1 where there is none."""
        spec: OffsetSpec = OffsetSpec.for_timestamp(millis)
        return await self._list_offsets(topic, partitions, spec)

    async def _list_offsets(self, topic: str, partitions: list[int], spec: OffsetSpec) -> Offsets:
        request = dict.fromkeys(partitions_of(topic, partitions), spec)

        def query() -> Offsets:
            futures = self._admin.list_offsets(
                request,
                isolation_level=confluent_kafka.IsolationLevel.READ_COMMITTED,
                request_timeout=15,
            )
            return {tp.partition: future.result().offset for tp, future in futures.items()}

        return await self._run(f"list offsets of {topic}", query)

    async def create_topics(self, topics: list[NewTopic]) -> dict[str, bool]:
        """Create those that do not exist; per topic, whether it was created by this call."""

        def create() -> dict[str, bool]:
            futures = self._admin.create_topics(topics, operation_timeout=30, request_timeout=30)
            created: dict[str, bool] = {}
            for name, future in futures.items():
                try:
                    future.result()
                    created[name] = True
                except confluent_kafka.KafkaException as exc:
                    if exc.args[0].code() != confluent_kafka.KafkaError.TOPIC_ALREADY_EXISTS:
                        raise translate(exc, f"create topic {name}") from exc
                    created[name] = False
            return created

        return await self._run("create topics", create)

    async def partition_counts(self, topics: list[str], wait_s: float = 30) -> dict[str, int]:
        """Partitions per topic, once the cluster metadata lists every one of them: a new topic
        takes a moment to appear."""
        layouts = await self.topic_layouts(topics, wait_s)
        return {topic: layout.partitions for topic, layout in layouts.items()}

    async def topic_layouts(self, topics: list[str], wait_s: float = 30) -> dict[str, TopicLayout]:
        """Partitions and replicas per topic, once the cluster metadata lists every one."""
        deadline = time.monotonic() + wait_s
        while True:
            metadata = await self._run("list topics", self._admin.list_topics, None, wait_s)
            listed = metadata.topics
            if all(t in listed and listed[t].partitions for t in topics):
                return {
                    t: TopicLayout(
                        partitions=len(listed[t].partitions),
                        replication_factor=max(
                            len(p.replicas) for p in listed[t].partitions.values()
                        ),
                    )
                    for t in topics
                }
            if time.monotonic() > deadline:
                raise KafkaClientError(f"topics {topics} did not appear in the cluster metadata")
            await asyncio.sleep(0.2)

    async def topic_configs(
        self, topics: list[str], wait_s: float = 30
    ) -> dict[str, dict[str, str]]:
        """Each topic's effective configuration (explicit or the broker's defaults), once the
        broker asked knows the topics: in a cluster, a new topic reaches each broker's metadata
        a moment apart, and the one asked may not be the one that listed it."""
        resources = [ConfigResource(ConfigResource.Type.TOPIC, t) for t in topics]

        def describe() -> dict[str, dict[str, str]]:
            futures = self._admin.describe_configs(resources)
            return {
                resource.name: {name: entry.value for name, entry in future.result().items()}
                for resource, future in futures.items()
            }

        deadline = time.monotonic() + wait_s
        while True:
            try:
                return await self._run("describe topic configs", describe)
            except KafkaClientError as exc:
                if exc.code != "UNKNOWN_TOPIC_OR_PART" or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.2)


def probe_broker(config: dict[str, Any], wait_s: float) -> int:
    """Blocking metadata request; the number of brokers that answered. For health checks."""
    return len(_cluster_metadata(config, wait_s).brokers)


def probe_topics(config: dict[str, Any], wait_s: float) -> set[str]:
    """Blocking metadata request; the names of the cluster's topics whose every partition has a
    leader. For start-up checks: a topic created a moment ago is listed before its leaders are
    elected, and reading its offsets then fails with NOT_LEADER_FOR_PARTITION (seen when a
    service started before `topics create`)."""
    return {
        name
        for name, topic in _cluster_metadata(config, wait_s).topics.items()
        if topic.error is None
        and topic.partitions
        and all(p.leader >= 0 and p.error is None for p in topic.partitions.values())
    }


def _cluster_metadata(config: dict[str, Any], wait_s: float) -> Any:
    try:
        # A refused connection is the expected answer while a broker starts: no log lines.
        metadata = AdminClient(config | {"log_level": 0}).list_topics(timeout=wait_s)
    except confluent_kafka.KafkaException as exc:
        raise translate(exc, f"metadata request to {config['bootstrap.servers']}") from exc
    if not metadata.brokers:
        raise KafkaClientError(f"{config['bootstrap.servers']} answered with no brokers")
    return metadata
