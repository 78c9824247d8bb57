"""The consumer for asyncio: typed calls of librdkafka's consumer, off the event loop.

`async with KafkaConsumer(config) as consumer: records = await consume()`; closed in
`__aexit__` whatever happened. A group member that keeps its positions elsewhere (the filings
store's feeder: in its database) subscribes with `subscribe_marked`: it chooses each assigned
partition's start offset, and `consume_marked` puts a `Rebalance` where the assignment changed
among the records, so it can tell what was read under which assignment. Each blocking call runs
on the consumer's own worker thread, in the order made (librdkafka's consumer is not meant to
be called from several threads at once).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, NamedTuple, Self, cast, final

import confluent_kafka
import structlog

from services.common.errors import KafkaClientError
from services.common.kafka.boundary import ClientThread
from services.common.kafka.messages import (
    PartitionEnd,
    SuccessfulMessage,
    partitions_at,
    partitions_of,
    record_or_end,
    recovers_by_itself,
)
from services.common.kafka.metadata import missing_topic, partitions_in

log = structlog.get_logger(__name__)

Consumed = SuccessfulMessage | PartitionEnd
TopicPartitions = list[confluent_kafka.TopicPartition]
# Called on the consumer's thread, inside a consume, when a rebalance takes partitions away.
OnRebalance = Callable[[confluent_kafka.Consumer, TopicPartitions], None]
# Called on the consumer's thread, inside a consume, when the group assigns partitions: the
# partitions, each with the offset to read it from.
OnAssign = Callable[[TopicPartitions], TopicPartitions]


@final
class Rebalance(NamedTuple):
    """Where among the consumed records the group's assignment changed: the records before it
    were read under the assignment before. `assigned` partitions carry their start offsets;
    `revoked` ones were taken away (or lost: another member may own them already)."""

    kind: Literal["assigned", "revoked"]
    partitions: TopicPartitions


Marked = Consumed | Rebalance

# librdkafka's names of a broker's answers while a partition has no leader to ask.
_LEADER_MOVING = frozenset({"NOT_LEADER_FOR_PARTITION", "LEADER_NOT_AVAILABLE"})
_LEADER_RETRY_S = 0.5


class KafkaConsumer(ClientThread):
    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(f"consumer-{config.get('client.id', 'sec-digester')}")
        self._config = config
        self._reports_partition_ends = bool(config.get("enable.partition.eof"))
        self._consumer: confluent_kafka.Consumer | None = None
        self._rebalances: list[Rebalance] = []  # on the consumer's thread only

    async def __aenter__(self) -> Self:
        if self._closed or self._consumer is not None:
            raise KafkaClientError("a KafkaConsumer cannot be reopened", retriable=False)
        self._consumer = confluent_kafka.Consumer(self._config)
        return self

    async def _close(self) -> None:
        if self._consumer is not None:
            await self._call("close consumer", self._consumer.close)

    @property
    def _handle(self) -> confluent_kafka.Consumer:
        if self._consumer is None or self._closed:
            raise KafkaClientError("consumer is not open", retriable=False)
        return self._consumer

    # -- records -------------------------------------------------------------------------
    async def consume(self, max_records: int = 500, wait_s: float = 0.5) -> list[SuccessfulMessage]:
        """The records available, up to `max_records`, waiting at most `wait_s` for the first.

        Errors are raised as `KafkaClientError`; partition ends, if reported, are left out."""
        consumed = await self._call("consume", _available, self._handle, max_records, wait_s)
        return [m for m in consumed if type(m) is not PartitionEnd]

    async def consume_with_ends(
        self, max_records: int = 500, wait_s: float = 0.5
    ) -> list[Consumed]:
        """As `consume`, with a `PartitionEnd` where a partition's end was reached, in the order
        librdkafka reported it. Needs `enable.partition.eof` in the consumer's config."""
        if not self._reports_partition_ends:
            raise KafkaClientError(
                "consume_with_ends needs enable.partition.eof=true", retriable=False
            )
        return await self._call("consume", _available, self._handle, max_records, wait_s)

    async def consume_marked(self, max_records: int = 500, wait_s: float = 0.5) -> list[Marked]:
        """As `consume_with_ends`, with a `Rebalance` where the assignment changed (after
        `subscribe_marked`). Polls record by record: librdkafka's batch consume would hide
        where in the batch a rebalance happened."""
        if not self._reports_partition_ends:
            raise KafkaClientError(
                "consume_marked needs enable.partition.eof=true", retriable=False
            )
        return await self._call(
            "consume", _marked, self._handle, max_records, wait_s, self._rebalances
        )

    # -- where to read -------------------------------------------------------------------
    async def subscribe_marked(self, topics: list[str], on_assign: OnAssign) -> None:
        """Join the consumer group on `topics`, reading each assigned partition from the offset
        `on_assign` gives it (not the group's committed offsets); `consume_marked` reports each
        assignment and revocation where it happened among the records."""

        def assigned(consumer: confluent_kafka.Consumer, partitions: TopicPartitions) -> None:
            chosen = on_assign(partitions)
            consumer.assign(chosen)
            self._rebalances.append(Rebalance("assigned", chosen))

        def revoked(consumer: confluent_kafka.Consumer, partitions: TopicPartitions) -> None:
            self._rebalances.append(Rebalance("revoked", partitions))

        await self._call(
            "subscribe",
            lambda: self._handle.subscribe(
                topics, on_assign=assigned, on_revoke=revoked, on_lost=revoked
            ),
        )

    async def subscribe(
        self,
        topics: list[str],
        *,
        on_revoke: OnRebalance | None = None,
        on_lost: OnRebalance | None = None,
    ) -> None:
        """Join the consumer group on `topics`; librdkafka calls the callbacks when a rebalance
        takes partitions away (revoked) or they were lost (session timed out)."""
        callbacks: dict[str, OnRebalance] = {}
        if on_revoke is not None:
            callbacks["on_revoke"] = on_revoke
        if on_lost is not None:
            callbacks["on_lost"] = on_lost
        await self._call("subscribe", lambda: self._handle.subscribe(topics, **callbacks))

    async def assign(self, partitions: TopicPartitions) -> None:
        """Read these partitions from their offsets, without a group."""
        await self._call("assign", self._handle.assign, partitions)

    async def assignment(self) -> TopicPartitions:
        return await self._call("assignment", self._handle.assignment)

    async def seek(self, partition: confluent_kafka.TopicPartition) -> None:
        await self._call("seek", self._handle.seek, partition)

    async def pause(self, partitions: TopicPartitions) -> None:
        await self._call("pause", self._handle.pause, partitions)

    async def resume(self, partitions: TopicPartitions) -> None:
        await self._call("resume", self._handle.resume, partitions)

    def group_metadata(self) -> object:
        """The group's generation and member id, for `send_offsets_to_transaction` (no I/O)."""
        return self._handle.consumer_group_metadata()

    # -- offsets the broker knows --------------------------------------------------------
    async def commit_offsets(
        self, topic: str, offsets: Mapping[int, int], metadata: str | None = None
    ) -> None:
        """Commit these offsets (partition -> next offset) for this consumer's group, and wait
        for the coordinator's answer. A consumer that never subscribed commits as a standalone
        member, which the broker accepts while the group has no active members. `metadata`:
        the string kept with each offset (who wrote it)."""
        partitions = (
            partitions_at(topic, offsets)
            if metadata is None
            else [
                confluent_kafka.TopicPartition(topic, p, o, metadata=metadata)
                for p, o in offsets.items()
            ]
        )
        await self._call(
            f"commit offsets of {self._config['group.id']}",
            lambda: self._handle.commit(offsets=partitions, asynchronous=False),
        )

    async def committed_offsets(
        self, topic: str, partitions: list[int], wait_s: float = 15
    ) -> dict[int, int]:
        """This consumer's group's committed offsets, for the partitions that have one."""
        found = await self._call(
            f"read offsets of {self._config['group.id']}",
            self._handle.committed,
            partitions_of(topic, partitions),
            wait_s,
        )
        return {tp.partition: tp.offset for tp in found if tp.offset >= 0}

    async def committed_with_metadata(
        self, topic: str, partitions: list[int], wait_s: float = 15
    ) -> dict[int, tuple[int, str | None]]:
        """Like `committed_offsets`, each offset with the metadata committed with it."""
        found = await self._call(
            f"read offsets of {self._config['group.id']}",
            self._handle.committed,
            partitions_of(topic, partitions),
            wait_s,
        )
        return {tp.partition: (tp.offset, tp.metadata or None) for tp in found if tp.offset >= 0}

    async def position(self, partitions: TopicPartitions) -> TopicPartitions:
        """The next offset this consumer will fetch per partition (negative: none yet)."""
        return await self._call("position", self._handle.position, partitions)

    async def watermarks(
        self, partition: confluent_kafka.TopicPartition, wait_s: float = 10
    ) -> tuple[int, int]:
        """Low and high watermark, asked of the broker (not librdkafka's cache). While the
        partition's leader is being elected (a topic just created, a broker restarting) the
        broker answers that it is not the leader: asked again until `wait_s` has passed."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                low, high = await self._call(
                    "watermarks",
                    self._handle.get_watermark_offsets,
                    partition,
                    max(0.1, deadline - time.monotonic()),
                    False,
                )
                return low, high
            except KafkaClientError as exc:
                if exc.code not in _LEADER_MOVING or time.monotonic() + _LEADER_RETRY_S > deadline:
                    raise
            await asyncio.sleep(_LEADER_RETRY_S)

    async def offsets_for_times(
        self, partitions: TopicPartitions, wait_s: float = 30
    ) -> TopicPartitions:
        """Per partition, the first offset written at or after the millisecond timestamp in its
        offset field; -1 (OFFSET_END) where there is none."""
        return await self._call(
            "offsets for times", self._handle.offsets_for_times, partitions, wait_s
        )

    async def partitions(
        self, topic: str, *, setting: str | None = None, wait_s: float = 30
    ) -> list[int]:
        """The topic's partitions; `ConfigurationError` (naming `setting`) if it does not
        exist."""
        found = await self.partitions_if_exists(topic, wait_s=wait_s)
        if found is None:
            raise missing_topic(topic, setting)
        return found

    async def partitions_if_exists(self, topic: str, *, wait_s: float = 30) -> list[int] | None:
        metadata = await self._call(f"describe {topic}", self._handle.list_topics, topic, wait_s)
        return partitions_in(metadata, topic)


def _available(
    consumer: confluent_kafka.Consumer, max_records: int, wait_s: float
) -> list[Consumed]:
    """librdkafka's batch consume waits for a full batch or the timeout: at low rates every
    record would sit out the timeout. Wait for the first record only, then take what is there.

    Sorted here, on the consumer's thread: only the messages carrying an error or EOF are
    replaced, the records stay where they are (no per-record call on the gateway's live path).
    An error librdkafka recovers from by itself (brokers away, leadership moving) is logged and
    left out: the consumer goes on from the same position once the brokers answer."""
    first = consumer.poll(wait_s)
    if first is None:
        return []
    messages = [first, *consumer.consume(max_records - 1, 0)] if max_records > 1 else [first]
    sorted_out = cast(list[Consumed | None], messages)
    passed_over = False
    for i in [i for i, message in enumerate(messages) if message.error() is not None]:
        error = messages[i].error()
        assert error is not None
        if recovers_by_itself(error):
            log.info("Kafka unavailable for now; polling on", error=error.str())
            sorted_out[i], passed_over = None, True
        else:
            sorted_out[i] = record_or_end(messages[i])
    if passed_over:
        return [message for message in sorted_out if message is not None]
    return cast(list[Consumed], sorted_out)


def _marked(
    consumer: confluent_kafka.Consumer,
    max_records: int,
    wait_s: float,
    rebalances: list[Rebalance],
) -> list[Marked]:
    """As `_available`, one poll at a time, with the rebalances the polls served (appended to
    `rebalances` by the callbacks, on this thread) put where they happened: a poll serves the
    rebalance first, then returns a record of the new assignment."""
    marked: list[Marked] = []
    message = consumer.poll(wait_s)
    while True:
        if rebalances:
            marked.extend(rebalances)
            rebalances.clear()
        if message is None:
            return marked
        error = message.error()
        if error is None or not recovers_by_itself(error):
            marked.append(record_or_end(message))
        else:
            log.info("Kafka unavailable for now; polling on", error=error.str())
        if len(marked) >= max_records:
            return marked
        message = consumer.poll(0)
