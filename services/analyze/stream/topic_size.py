"""How many records a topic holds, from its partitions' watermarks (for the DLQ gauge).

High minus low watermark counts offsets, so transaction markers count too: an overestimate by
at most two per transaction that wrote to a partition. What the gauge is for, telling an empty
dead-letter topic from one that is not, is unaffected: markers exist only where a transaction
wrote a dead letter.
"""

from __future__ import annotations

import confluent_kafka

from services.common.kafka import KafkaConsumer


async def records_on(consumer: KafkaConsumer, topic: str) -> int | None:
    """None when the topic cannot be described (yet): the gauge keeps its last value."""
    partitions = await consumer.partitions_if_exists(topic, wait_s=5.0)
    if partitions is None:
        return None
    total = 0
    for partition in partitions:
        low, high = await consumer.watermarks(
            confluent_kafka.TopicPartition(topic, partition), wait_s=5.0
        )
        total += max(0, high - low)
    return total
