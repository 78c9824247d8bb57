"""The three-node cluster of `sec-digester infra up --nodes 3`: what replication buys, on real
brokers.

Every node is a broker and a controller; the internal topics and the project's topics keep
three copies with min.insync.replicas 2, so one node may die (kill -9: no controlled shutdown,
its leadership taken away only once the controller notices) while acks=all producers and
transactions carry on, losing and repeating nothing.
"""

from __future__ import annotations

import asyncio
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource

from services.common.topics import create_topics
from services.infra import local
from services.infra.settings import InfraSettings
from tests.support.cli import environment_for, run_cli
from tests.support.infra import kill_node, partition_leader, restart_node, topic_settings
from tests.support.settled import settled_ends
from tests.support.waiting import wait_for


def _replication(admin: AdminClient, topic: str) -> tuple[set[int], str]:
    """The replica counts of the topic's partitions, and its min.insync.replicas."""
    partitions = admin.list_topics(topic, timeout=30).topics[topic].partitions.values()
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    config = admin.describe_configs([resource])[resource].result(timeout=30)
    return {len(partition.replicas) for partition in partitions}, config[
        "min.insync.replicas"
    ].value


def _in_sync(admin: AdminClient, topic: str) -> set[int]:
    """The node ids in sync for partition 0 of the topic."""
    return set(admin.list_topics(topic, timeout=30).topics[topic].partitions[0].isrs)


def _new_topic(infra: InfraSettings) -> str:
    """A fresh one-partition topic made by `topics create` (three copies, two in sync)."""
    settings = topic_settings(infra)
    asyncio.run(create_topics(settings))
    return settings.topic_raw


def _produce_transaction(producer: Producer, topic: str, values: range) -> None:
    producer.begin_transaction()
    for value in values:
        producer.produce(topic, key=str(value).encode(), value=str(value).encode())
    producer.commit_transaction(120)


def _transactional_producer(infra: InfraSettings) -> Producer:
    producer = Producer(
        {
            "bootstrap.servers": infra.bootstrap_servers,
            "transactional.id": f"test-{uuid.uuid4()}",
            "acks": "all",
            "linger.ms": 5,
        }
    )
    producer.init_transactions(60)
    return producer


def _read_committed(infra: InfraSettings, topic: str, *, commit_as: str | None = None) -> list[int]:
    """Every committed value of partition 0, in order; with `commit_as`, the end position is
    committed for that consumer group."""
    asyncio.run(settled_ends(infra.bootstrap_servers, topic))  # the last commit's marker written
    group = commit_as or f"reader-{uuid.uuid4()}"
    consumer = Consumer(
        {
            "bootstrap.servers": infra.bootstrap_servers,
            "group.id": group,
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
            "enable.auto.commit": False,
        }
    )
    values: list[int] = []
    try:
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        while True:
            message = consumer.poll(30)
            assert message is not None, f"no end of {topic} within 30 s"
            error = message.error()
            if error is not None:
                assert error.code() == KafkaError._PARTITION_EOF, error.str()
                break
            value = message.value()
            assert value is not None
            values.append(int(value))
        if commit_as:
            consumer.commit(asynchronous=False)
    finally:
        consumer.close()
    return values


def test_every_broker_is_listed_and_internal_topics_keep_three_copies(
    infra3: InfraSettings,
) -> None:
    admin = AdminClient({"bootstrap.servers": infra3.bootstrap_servers})
    brokers = admin.list_topics(timeout=30).brokers.values()
    assert {broker.id: f"{broker.host}:{broker.port}" for broker in brokers} == {
        node.node_id: node.broker_address for node in local.kafka_nodes(infra3)
    }
    # A transaction and a group's commit: the transaction state and the offsets topics exist.
    topic = _new_topic(infra3)
    producer = _transactional_producer(infra3)
    _produce_transaction(producer, topic, range(5))
    assert _read_committed(infra3, topic, commit_as=f"group-{uuid.uuid4()}") == list(range(5))
    for internal in ("__consumer_offsets", "__transaction_state", "kafkasql-journal"):
        assert _replication(admin, internal) == ({3}, "2"), internal


def test_topics_create_makes_three_copies_two_in_sync_and_names_a_difference(
    infra3: InfraSettings,
) -> None:
    settings = topic_settings(infra3, partitions=2)
    env = environment_for(settings, TOPIC_REPLICATION_FACTOR="3", TOPIC_PARTITIONS="2")
    created = run_cli("topics", "create", env=env)
    assert created.returncode == 0, created.stderr
    admin = AdminClient({"bootstrap.servers": infra3.bootstrap_servers})
    names = [settings.topic_raw, settings.topic_analyzed, settings.topic_dlq, settings.topic_text]
    names += [settings.topic_llm_cache, settings.topic_ingest_control]
    for name in names:
        assert _replication(admin, name) == ({3}, "2"), name
    # An existing topic is never altered, but a different replication is named.
    single = run_cli("topics", "create", env=env | {"TOPIC_REPLICATION_FACTOR": "1"})
    assert single.returncode == 0, single.stderr
    assert (
        f"{settings.topic_raw}: exists, 2 partitions, retention.ms=-1 — has replication factor "
        "3, configuration says 1; min.insync.replicas is 2, configuration says 1"
    ) in single.stderr
    # The registry (kafkasql) writes its schemas to the cluster.
    registered = run_cli("schemas", "register", env=env)
    assert registered.returncode == 0, registered.stderr


def test_acks_all_and_transactions_carry_on_when_the_partition_leader_is_killed(
    infra3: InfraSettings,
) -> None:
    topic = _new_topic(infra3)
    producer = _transactional_producer(infra3)
    _produce_transaction(producer, topic, range(0, 20))
    # The leader dies with a transaction open and its first half acknowledged by all in sync.
    producer.begin_transaction()
    for value in range(20, 30):
        producer.produce(topic, key=str(value).encode(), value=str(value).encode())
    assert producer.flush(30) == 0
    leader = partition_leader(infra3, topic, 0)
    kill_node(infra3, leader)
    for value in range(30, 40):
        producer.produce(topic, key=str(value).encode(), value=str(value).encode())
    producer.commit_transaction(120)
    # The partition has another leader, with two copies in sync: min.insync.replicas still met.
    assert partition_leader(infra3, topic, 0) != leader
    for first in range(40, 70, 10):
        _produce_transaction(producer, topic, range(first, first + 10))
    # Restarted, the node recovers its log, catches up and is a full replica again.
    restart_node(infra3, leader)
    admin = AdminClient({"bootstrap.servers": infra3.bootstrap_servers})
    wait_for(
        lambda: _in_sync(admin, topic) == {1, 2, 3},
        timeout_s=60,
        what=f"node {leader} back in sync for {topic}",
    )
    for first in range(70, 100, 10):
        _produce_transaction(producer, topic, range(first, first + 10))
    assert _read_committed(infra3, topic) == list(range(100))
