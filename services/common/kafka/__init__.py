"""Kafka clients for asyncio, on confluent-kafka (librdkafka): one module per client role.

config     the librdkafka settings of every client (connection, producer, consumer)
producer   KafkaProducer: idempotent or transactional sends, delivery reports as futures
transactions  TransactionalProducer: transactions that ride out outages, fenced or fatal handles
group_offsets GroupOffsets: durable positions committed and read through per-group consumers
consumer   KafkaConsumer: typed async calls of librdkafka's consumer
admin      KafkaAdmin: topics, partition offsets; probe_broker, probe_topics
messages   consumed messages typed: SuccessfulMessage (a record), PartitionEnd
ranges     read_range: a topic from given positions to its end, or between bounds
metadata   does a topic exist, and its partitions
boundary   where librdkafka errors become KafkaClientError, and blocking calls leave the loop

Each client is an async context manager (the admin client excepted: it holds no thread),
closed in `__aexit__` whatever happened, and cannot be reopened.
"""

from services.common.kafka.admin import KafkaAdmin, probe_broker, probe_topics
from services.common.kafka.config import connection_config, consumer_config, producer_config
from services.common.kafka.consumer import Consumed, KafkaConsumer, Marked, Rebalance
from services.common.kafka.group_offsets import GroupOffsets
from services.common.kafka.messages import (
    PartitionEnd,
    SuccessfulMessage,
    partitions_at,
    partitions_of,
    successful,
)
from services.common.kafka.producer import KafkaProducer
from services.common.kafka.ranges import RangeBatch, read_range
from services.common.kafka.transactions import Outcome, TransactionalProducer

__all__ = [
    "Consumed",
    "GroupOffsets",
    "KafkaAdmin",
    "KafkaConsumer",
    "KafkaProducer",
    "Marked",
    "Outcome",
    "PartitionEnd",
    "RangeBatch",
    "Rebalance",
    "SuccessfulMessage",
    "TransactionalProducer",
    "connection_config",
    "consumer_config",
    "partitions_at",
    "partitions_of",
    "probe_broker",
    "probe_topics",
    "producer_config",
    "read_range",
    "successful",
]
