"""Reading a whole topic the way any Kafka client would: confluent-kafka and the registry only.

No project code decodes here, so every test that checks topic contents through this reader
also checks that the records are readable by a plain client (read_committed, Confluent wire
format, schema fetched from the registry by id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


@dataclass(frozen=True)
class TopicRecord:
    key: str
    value: dict[str, Any]
    partition: int
    offset: int


def read_topic(bootstrap: str, registry_url: str, topic: str) -> list[TopicRecord]:
    """Every committed record of `topic`, in partition order, decoded."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid4()}",
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
            "enable.auto.commit": False,
        }
    )
    records: list[TopicRecord] = []
    with SchemaRegistryClient({"url": registry_url}) as registry:
        deserializer = AvroDeserializer(registry)
        try:
            partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
            consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
            at_end: set[int] = set()
            while len(at_end) < len(partitions):
                for message in consumer.consume(1000, 1.0):
                    error, partition = message.error(), message.partition()
                    assert partition is not None
                    if error is not None:
                        assert error.code() == KafkaError._PARTITION_EOF, error.str()
                        at_end.add(partition)
                        continue
                    value = deserializer(
                        message.value(), SerializationContext(topic, MessageField.VALUE)
                    )
                    key, offset = message.key(), message.offset()
                    assert key is not None
                    assert offset is not None
                    records.append(TopicRecord(key.decode(), value, partition, offset))
        finally:
            consumer.close()
    return records
