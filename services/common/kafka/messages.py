"""Consumed messages, typed: a record, or the end of a partition.

librdkafka hands out one `Message` type for records and for events (errors, partition EOF), so
its topic, partition and offset are optional. The consumer sorts them once, as they arrive: an
error is raised as `KafkaClientError`, a partition EOF becomes a `PartitionEnd`, and a record is
passed on as it is, typed as a `SuccessfulMessage` (a cast, no copy: the gateway's live path
reads millions of them). Tell the two apart with `type(m) is PartitionEnd`: half the cost of
`isinstance` on librdkafka's C type, and it is per record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple, Protocol, cast, final

import confluent_kafka

from services.common.kafka.boundary import client_error

_PARTITION_EOF = confluent_kafka.KafkaError._PARTITION_EOF
# What a consumer is told while brokers are away or a partition's leadership moves, and what
# librdkafka recovers from by itself: it reconnects, finds the new leader or coordinator and
# fetches on from the same position. Nothing is lost or skipped, so polling goes on (a broker
# outage is ridden out, services/common/outage.py); librdkafka does not flag these retriable.
_RECOVERS_BY_ITSELF = frozenset(
    {
        confluent_kafka.KafkaError._TRANSPORT,
        confluent_kafka.KafkaError._ALL_BROKERS_DOWN,
        confluent_kafka.KafkaError._TIMED_OUT,
        confluent_kafka.KafkaError._RESOLVE,
        confluent_kafka.KafkaError._WAIT_COORD,
    }
)


class SuccessfulMessage(Protocol):
    """A consumed record: a `confluent_kafka.Message` without an error."""

    def topic(self) -> str: ...
    def partition(self) -> int: ...
    def offset(self) -> int: ...
    def key(self) -> bytes | None: ...
    def value(self) -> bytes | None: ...
    def timestamp(self) -> tuple[int, int]: ...
    def error(self) -> None: ...


@final
class PartitionEnd(NamedTuple):
    """The consumer reached the end of a partition (`enable.partition.eof`). With
    read_committed that is the last stable offset, past any transaction markers: `offset` is
    where the next record will be. (A NamedTuple: made at every catch-up, and cheap to make.)"""

    topic: str
    partition: int
    offset: int


def successful(message: confluent_kafka.Message) -> SuccessfulMessage:
    """The message as a record; `KafkaClientError` if it carries an error (EOF included)."""
    error = message.error()
    if error is not None:
        raise client_error(error, f"consume from {message.topic()} [{message.partition()}]")
    return cast(SuccessfulMessage, message)


def record_or_end(message: confluent_kafka.Message) -> SuccessfulMessage | PartitionEnd:
    """A record, or where a partition ended; any other error is raised."""
    error = message.error()
    if error is not None and error.code() == _PARTITION_EOF:
        topic, partition, offset = message.topic(), message.partition(), message.offset()
        if topic is not None and partition is not None and offset is not None:
            return PartitionEnd(topic, partition, offset)
    return successful(message)


def recovers_by_itself(error: confluent_kafka.KafkaError) -> bool:
    """Whether a consumed error is one librdkafka gets past on its own (keep polling)."""
    return not error.fatal() and (error.retriable() or error.code() in _RECOVERS_BY_ITSELF)


def partitions_at(topic: str, offsets: Mapping[int, int]) -> list[confluent_kafka.TopicPartition]:
    """`offsets` (partition -> offset) as librdkafka takes them."""
    return [confluent_kafka.TopicPartition(topic, p, o) for p, o in offsets.items()]


def partitions_of(topic: str, partitions: Iterable[int]) -> list[confluent_kafka.TopicPartition]:
    """Partitions without an offset (pause, resume, watermarks)."""
    return [confluent_kafka.TopicPartition(topic, p) for p in partitions]
