"""read_range on the real broker: to the end, between bounds, past transaction markers and an
open transaction, over several partitions with one of them empty.

Records are written with a plain confluent-kafka producer, each to the partition the test
names, so every offset (records and markers) is known; read_range is then checked against it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import confluent_kafka
import pytest
import pytest_asyncio
from confluent_kafka.admin import NewTopic

from services.common.kafka import KafkaAdmin, KafkaConsumer, RangeBatch, read_range
from services.infra.settings import InfraSettings
from tests.support.settled import settled_ends

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(120)]

BEGINNING = confluent_kafka.OFFSET_BEGINNING


@pytest_asyncio.fixture
async def topic(infra: InfraSettings) -> AsyncIterator[str]:
    """A fresh topic of three partitions."""
    name = f"test.{uuid.uuid4().hex[:10]}.range"
    admin = KafkaAdmin({"bootstrap.servers": infra.bootstrap_servers})
    await admin.create_topics([NewTopic(name, num_partitions=3, replication_factor=1)])
    await admin.partition_counts([name])
    yield name


@pytest.fixture
def transactional(infra: InfraSettings) -> Iterator[confluent_kafka.Producer]:
    producer = confluent_kafka.Producer(
        {
            "bootstrap.servers": infra.bootstrap_servers,
            "transactional.id": f"test-range-{uuid.uuid4().hex[:10]}",
        }
    )
    producer.init_transactions(30)
    yield producer
    producer.flush(10)


def _write(infra: InfraSettings, topic: str, values: Mapping[int, list[bytes]]) -> None:
    """Outside any transaction: offsets 0, 1, ... per partition, no markers."""
    producer = confluent_kafka.Producer({"bootstrap.servers": infra.bootstrap_servers})
    for partition, records in values.items():
        for value in records:
            producer.produce(topic, value=value, partition=partition)
    assert producer.flush(30) == 0


def _in_transaction(
    producer: confluent_kafka.Producer, topic: str, partition: int, values: list[bytes]
) -> None:
    producer.begin_transaction()
    for value in values:
        producer.produce(topic, value=value, partition=partition)
    producer.flush(30)


def _consumer(infra: InfraSettings) -> KafkaConsumer:
    config: dict[str, Any] = {
        "bootstrap.servers": infra.bootstrap_servers,
        "group.id": "test-range.unused",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
        "enable.partition.eof": True,
    }
    return KafkaConsumer(config)


async def _read(
    infra: InfraSettings,
    topic: str,
    starts: Mapping[int, int],
    ends: Mapping[int, int] | None = None,
) -> tuple[dict[int, list[tuple[int, bytes | None]]], list[RangeBatch]]:
    """Per partition, (offset, value) of every record read, in the order read; and the batches."""
    read: dict[int, list[tuple[int, bytes | None]]] = {}
    batches = []
    async with _consumer(infra) as consumer:
        async for batch in read_range(consumer, topic, starts, ends, max_records=2):
            batches.append(batch)
            for message in batch.records:
                read.setdefault(message.partition(), []).append((message.offset(), message.value()))
    return read, batches


async def test_to_the_end_of_every_partition_an_empty_one_included(
    infra: InfraSettings, topic: str
) -> None:
    _write(infra, topic, {0: [b"a0", b"a1", b"a2", b"a3", b"a4"], 1: [b"b0", b"b1", b"b2"]})
    read, batches = await _read(infra, topic, dict.fromkeys([0, 1, 2], BEGINNING))
    assert read == {
        0: [(0, b"a0"), (1, b"a1"), (2, b"a2"), (3, b"a3"), (4, b"a4")],
        1: [(0, b"b0"), (1, b"b1"), (2, b"b2")],
    }
    assert batches[-1].covered == 8
    assert all(len(batch.records) <= 2 for batch in batches)


async def test_between_bounds_nothing_before_or_after(infra: InfraSettings, topic: str) -> None:
    _write(infra, topic, {0: [b"a0", b"a1", b"a2", b"a3", b"a4"], 1: [b"b0", b"b1", b"b2"]})
    read, batches = await _read(infra, topic, {0: 1, 1: 0, 2: 0}, {0: 4, 1: 2, 2: 0})
    assert read == {0: [(1, b"a1"), (2, b"a2"), (3, b"a3")], 1: [(0, b"b0"), (1, b"b1")]}
    assert batches[-1].covered == 5


async def test_a_range_of_nothing_reads_nothing(infra: InfraSettings, topic: str) -> None:
    _write(infra, topic, {0: [b"a0", b"a1"]})
    assert await _read(infra, topic, {0: 2, 1: BEGINNING}) == ({}, [])


async def test_a_partition_ending_in_transaction_markers_is_read_to_its_end(
    infra: InfraSettings, topic: str, transactional: confluent_kafka.Producer
) -> None:
    # Partition 0: records 0-2 and a commit marker at 3, then records 4-5 aborted (marker at
    # 6): the high watermark is 7, but the last record a read_committed reader gets is 2.
    _in_transaction(transactional, topic, 0, [b"c0", b"c1", b"c2"])
    transactional.commit_transaction(30)
    _in_transaction(transactional, topic, 0, [b"x4", b"x5"])
    transactional.abort_transaction(30)
    assert await settled_ends(infra.bootstrap_servers, topic) == {0: 7, 1: 0, 2: 0}
    starts = dict.fromkeys([0, 1], BEGINNING)
    for ends in (None, {0: 7, 1: 0}):
        read, batches = await _read(infra, topic, starts, ends)
        assert read == {0: [(0, b"c0"), (1, b"c1"), (2, b"c2")]}
        assert batches[-1].covered == 7  # the markers and aborted records are covered too


async def test_records_of_a_transaction_still_open_are_not_waited_for(
    infra: InfraSettings, topic: str, transactional: confluent_kafka.Producer
) -> None:
    _write(infra, topic, {0: [b"a0", b"a1"]})
    _in_transaction(transactional, topic, 0, [b"open2", b"open3"])
    try:
        read, _ = await _read(infra, topic, {0: BEGINNING})
    finally:
        transactional.abort_transaction(30)
    assert read == {0: [(0, b"a0"), (1, b"a1")]}
