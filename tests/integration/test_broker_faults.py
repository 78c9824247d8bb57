"""Broker faults mid-run: every service rides them out, and nothing is lost or repeated.

Shaped after Kafka's own system tests (tests/kafkatest in apache/kafka): a broker bounce
(`clean_shutdown=False`: kill -9, then start it again) while producers and consumers run, and
a leader failover in a replicated cluster, each checked at the end by reading the topics back.
Here the producers and consumers are the services themselves, as processes at their default
settings (KAFKA_OUTAGE_TOLERANCE_S included): ingest replays the recorded corpus into raw,
analyze writes analyzed, the gateway streams it to a durable `StreamClient` (clients/python)
that acknowledges what it handles. At the end:
- no service exited (ingest only once its replay is done, with code 0), none logged a crash;
- a read_committed reader finds every filing exactly once in raw and in analyzed;
- the client handled every filing exactly once, on the one connection it opened (the gateway
  kept it through the outages), and its acknowledged position reached the end of analyzed.

The single-node test is the condition that used to abort the gateway: the durable client's
acknowledgements are committed while the broker is killed and restarted. Through the admin
client (AlterConsumerGroupOffsets) a commit whose connection to the coordinator failed went
down librdkafka's coord_request error path, which frees the request's eonce while its caller
still holds it, and the process died on `rd_kafka_enq_once_del_source_return: Assertion
'eonce->refcnt > 0' failed` (confluentinc/librdkafka PR #5397); the gateway now commits through
a consumer of the client's group (services/common/kafka/group_offsets.py).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient
from sec_digester_client import ClientConfig, FilingAnalysis, StreamClient

from services.common.errors import KafkaOutageError
from services.common.kafka import (
    GroupOffsets,
    KafkaConsumer,
    KafkaProducer,
    Outcome,
    TransactionalProducer,
    consumer_config,
    producer_config,
    read_range,
)
from services.common.outage import watch_kafka_outages
from services.common.settings import CommonSettings, TopicSettings
from services.common.topics import create_topics
from services.emulator.server import EmulatorHandle
from services.infra import local
from services.infra.settings import InfraSettings
from tests.integration.test_whole_stack import corpus_accessions
from tests.support.cli import edgar_environment, environment_for
from tests.support.gateway import GatewayProcess
from tests.support.infra import kill_node, partition_leader, provision, restart_node, topic_settings
from tests.support.processes import ServiceProcess, free_port
from tests.support.records import CORPUS_DIR
from tests.support.topic_reader import read_topic
from tests.support.waiting import wait_for_async

# The replay of the corpus takes about 80 s at this speed: long enough for two faults mid-run.
_REPLAY_SPEED = "800"
_DOWN_S = 10.0  # how long a killed broker stays down, as in the outage that was reported
_SINGLE_NODE = 1  # the node id of a one-node instance


class HandlingClient:
    """A StreamClient that counts what it handled, per accession number: durable with a
    `client_id` (it acknowledges what it handled), else resuming from its own cursor."""

    def __init__(self, gateway: GatewayProcess, client_id: str | None) -> None:
        self.config = ClientConfig(url=gateway.ws_url, client_id=client_id, start="earliest")
        self.handled: Counter[str] = Counter()
        self.connections = 0

    async def run(self) -> None:
        async with StreamClient(self.config) as client:

            async def handle(filing: FilingAnalysis) -> None:
                self.handled[filing.accession_number] += 1
                self.connections = client.connections

            await client.run(handle)

    async def reached(self, count: int, timeout_s: float = 180) -> None:
        await wait_for_async(
            lambda: len(self.handled) >= count, timeout_s=timeout_s, what=f"{count} handled"
        )


def _services(
    topics: TopicSettings, emulator: EmulatorHandle, log_dir: Path
) -> tuple[ServiceProcess, ServiceProcess]:
    env = environment_for(topics, **edgar_environment(emulator), ANALYZE_FETCH_FORMS="")
    ingest = ServiceProcess(
        "ingest",
        ["ingest", "--source", "replay", "--corpus", str(CORPUS_DIR), "--speed", _REPLAY_SPEED],
        env | {"INGEST_REPLAY_MAX_GAP_S": "0.3", "INGEST_HEALTH_PORT": str(free_port())},
        log_dir,
    )
    analyze = ServiceProcess(
        "analyze",
        ["analyze"],
        env
        | {
            "ANALYZE_HEALTH_PORT": str(free_port()),
            "ANALYZE_GROUP_ID": f"faults-{topics.topic_raw}",
        },
        log_dir,
    )
    return ingest, analyze


def _assert_running(*services: ServiceProcess) -> None:
    for service in services:
        assert service.running(), f"{service.name} exited:\n{service.output()[-3000:]}"


def _assert_no_crash(*services: ServiceProcess) -> None:
    for service in services:
        log = service.output()
        assert "Traceback" not in log, f"{service.name} crashed:\n{log[-3000:]}"
        assert "Assertion" not in log, f"{service.name} aborted:\n{log[-3000:]}"


def _committed(topics: TopicSettings, client_id: str) -> dict[int, int]:
    consumer = Consumer(
        {
            "bootstrap.servers": topics.kafka_bootstrap_servers,
            "group.id": f"sec-gateway.{client_id}",
        }
    )
    try:
        partitions = [TopicPartition(topics.topic_analyzed, p) for p in range(3)]
        return {tp.partition: tp.offset for tp in consumer.committed(partitions, timeout=30)}
    finally:
        consumer.close()


async def _assert_exactly_once(
    topics: TopicSettings, client: HandlingClient, wanted: set[str]
) -> None:
    """Raw and analyzed hold each filing once; the client handled each once, and its
    acknowledged position reached analyzed's end."""
    for topic in (topics.topic_raw, topics.topic_analyzed):
        records = read_topic(topics.kafka_bootstrap_servers, topics.schema_registry_url, topic)
        counts = Counter(record.key for record in records)
        assert {key: n for key, n in counts.items() if n > 1} == {}, topic
        assert set(counts) == wanted, topic
    assert set(client.handled) == wanted
    assert {key: n for key, n in client.handled.items() if n > 1} == {}
    last: dict[int, int] = {}  # partition -> the offset after its last analysis
    for record in records:  # analyzed's, in offset order within each partition
        last[record.partition] = record.offset + 1
    client_id = client.config.client_id
    assert client_id is not None

    def committed_past_every_record() -> bool:
        # A cursor may be past the last record: the commit marker after it takes an offset.
        committed = _committed(topics, client_id)
        return all(committed[partition] >= offset for partition, offset in last.items())

    await wait_for_async(
        committed_past_every_record, timeout_s=30, what=f"acks committed up to {last}"
    )


@pytest.fixture
def bounced_infra(infra: InfraSettings) -> Iterator[InfraSettings]:
    """The session's single node, which the test kills: whatever happens, it is running and
    answering again before the next test uses it."""
    try:
        yield infra
    finally:
        if local.kafka_node(infra, _SINGLE_NODE).process.running_pid() is None:
            restart_node(infra, _SINGLE_NODE)  # and waits until it answers


@pytest.mark.asyncio
@pytest.mark.timeout(480)  # two outages of ~25 s each inside an ~80 s replay, then the checks
async def test_every_service_rides_out_the_single_broker_killed_twice(
    bounced_infra: InfraSettings, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    infra = bounced_infra
    topics = topic_settings(infra, partitions=3)
    await provision(topics)
    wanted = corpus_accessions()
    ingest, analyze = _services(topics, emulator, tmp_path)
    with ingest, analyze, GatewayProcess(topics, tmp_path) as gateway:
        client = HandlingClient(gateway, f"faults-{uuid.uuid4().hex[:8]}")
        receiving = asyncio.create_task(client.run())
        for reached in (200, 1200):
            await client.reached(reached)
            # The durable client is acknowledging as the broker dies: its commits fail mid-way.
            await asyncio.to_thread(kill_node, infra, _SINGLE_NODE)
            await asyncio.sleep(_DOWN_S)
            _assert_running(ingest, analyze, gateway)
            await asyncio.to_thread(restart_node, infra, _SINGLE_NODE)
            await client.reached(len(client.handled) + 100)  # every stage resumed by itself
        await client.reached(len(wanted), timeout_s=240)
        # Its replay is done: the one way ingest may end.
        assert await asyncio.to_thread(ingest.wait, 120) == 0
        _assert_running(analyze, gateway)
        receiving.cancel()
        await asyncio.gather(receiving, return_exceptions=True)
    _assert_no_crash(ingest, analyze, gateway)
    assert "replay finished" in ingest.output()
    for service in (ingest, analyze, gateway):
        assert "Kafka is unreachable" in service.output(), service.name  # it saw the outage
    assert client.connections == 1  # the gateway kept the client through both outages
    await _assert_exactly_once(topics, client, wanted)


@pytest.mark.asyncio
@pytest.mark.timeout(480)
async def test_leaders_of_raw_and_analyzed_killed_in_a_three_node_cluster(
    infra3: InfraSettings, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    topics = topic_settings(infra3, partitions=3)
    assert topics.topic_replication_factor == 3
    await provision(topics)  # `topics create`: three copies, min.insync.replicas 2
    wanted = corpus_accessions()
    ingest, analyze = _services(topics, emulator, tmp_path)
    with ingest, analyze, GatewayProcess(topics, tmp_path) as gateway:
        client = HandlingClient(gateway, f"failover-{uuid.uuid4().hex[:8]}")
        receiving = asyncio.create_task(client.run())
        for reached, topic in ((200, topics.topic_raw), (1200, topics.topic_analyzed)):
            await client.reached(reached)
            leader = await asyncio.to_thread(partition_leader, infra3, topic, 0)
            await asyncio.to_thread(kill_node, infra3, leader)
            started = time.monotonic()
            # On with two of three nodes: 100 more, or the rest when analyze already caught up
            # on its backlog while the first node restarted (after a transaction's 45 s deadline
            # the stream can be through by the second kill).
            await client.reached(min(len(client.handled) + 100, len(wanted)))
            await asyncio.sleep(max(0.0, _DOWN_S - (time.monotonic() - started)))
            await asyncio.to_thread(restart_node, infra3, leader)
        await client.reached(len(wanted), timeout_s=240)
        assert await asyncio.to_thread(ingest.wait, 120) == 0
        _assert_running(analyze, gateway)
        receiving.cancel()
        await asyncio.gather(receiving, return_exceptions=True)
    _assert_no_crash(ingest, analyze, gateway)
    assert client.connections == 1
    await _assert_exactly_once(topics, client, wanted)


def _fully_replicated(infra: InfraSettings) -> bool:
    """Every partition of every topic, the internal ones included, has all its copies in sync:
    what an upgrade waits for before it restarts the next broker."""
    admin = AdminClient({"bootstrap.servers": infra.bootstrap_servers})
    try:
        metadata = admin.list_topics(timeout=10)
    except KafkaException:
        return False
    return all(
        len(partition.isrs) == len(partition.replicas)
        for topic in metadata.topics.values()
        for partition in topic.partitions.values()
    )


def _restart_cleanly(infra: InfraSettings, node_id: int) -> None:
    """One step of a rolling upgrade: SIGTERM (a controlled shutdown hands its leaderships
    over), start it again, and wait until every partition is back in sync."""
    assert local.kafka_node(infra, node_id).process.stop(grace_s=60)
    local.up(infra)  # starts what is not running (this node), waits until the cluster answers
    deadline = time.monotonic() + 120
    while not _fully_replicated(infra):
        assert time.monotonic() < deadline, f"node {node_id} did not catch up in 120 s"
        time.sleep(1)


@pytest.mark.asyncio
@pytest.mark.timeout(480)
async def test_a_rolling_restart_of_every_node_under_load_loses_and_repeats_nothing(
    infra3: InfraSettings, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    """Each node of the three in turn stopped cleanly and started again, as an upgrade rolls
    a cluster, while ingest replays, analyze analyzes and the gateway streams to a durable
    client and to one that resumes from its cursor. A client either keeps its connection or
    is closed with a retriable code and resumes (a StreamClient raises on any other)."""
    topics = topic_settings(infra3, partitions=3)
    await provision(topics)
    wanted = corpus_accessions()
    ingest, analyze = _services(topics, emulator, tmp_path)
    with ingest, analyze, GatewayProcess(topics, tmp_path) as gateway:
        durable = HandlingClient(gateway, f"rolling-{uuid.uuid4().hex[:8]}")
        plain = HandlingClient(gateway, None)
        receiving = [asyncio.create_task(client.run()) for client in (durable, plain)]
        await durable.reached(100)
        for node in local.kafka_nodes(infra3):
            await asyncio.to_thread(_restart_cleanly, infra3, node.node_id)
            _assert_running(analyze, gateway)
            # ingest ends when its replay is done (about 80 s in), with code 0 only.
            assert ingest.running() or ingest.wait(0) == 0, ingest.output()[-3000:]
            assert not any(task.done() for task in receiving), "a client gave up"
        for client in (durable, plain):
            await client.reached(len(wanted), timeout_s=240)
        assert await asyncio.to_thread(ingest.wait, 120) == 0
        _assert_running(analyze, gateway)
        assert not any(task.done() for task in receiving), "a client gave up"
        for task in receiving:
            task.cancel()
        await asyncio.gather(*receiving, return_exceptions=True)
    _assert_no_crash(ingest, analyze, gateway)
    await _assert_exactly_once(topics, durable, wanted)
    assert set(plain.handled) == wanted


def _present_in_metadata(infra: InfraSettings, node_id: int) -> bool:
    admin = AdminClient({"bootstrap.servers": infra.bootstrap_servers})
    try:
        return node_id in admin.list_topics(timeout=5).brokers
    except KafkaException:  # asked of the node that is down, say: ask again
        return True


@pytest.mark.asyncio
@pytest.mark.timeout(240)
async def test_a_transaction_stuck_on_a_departed_group_coordinator_is_given_up(
    infra3: InfraSettings,
) -> None:
    """librdkafka's `send_offsets_to_transaction` never returns, whatever its timeout, once
    the group coordinator it looked up was killed and left the cluster's metadata
    (confluentinc/librdkafka#5456, #5511, open): analyze stalled this way in the three-node
    failover test. The call is given up at its deadline, the producer replaced, and the next
    transactions commit; nothing of the stuck one is ever read."""
    topics = topic_settings(infra3, partitions=3)
    await create_topics(topics)
    group = f"stuck-{uuid.uuid4().hex[:8]}"
    sent: list[bytes] = []
    consumer_settings = consumer_config(topics, client_id="test-stuck", group_id=group)
    async with (
        KafkaConsumer(consumer_settings) as consumer,
        TransactionalProducer(
            producer_config(topics, client_id="test-stuck", transactional_id=group)
        ) as transactional,
    ):

        async def write(producer: KafkaProducer) -> None:
            # Awaited on every partition: records to a partition whose leader died make the
            # producer read the metadata again, and that is when it drops the dead node.
            keys = [f"{len(sent)}-{i}".encode() for i in range(30)]
            sent.extend(keys)
            await asyncio.gather(*(producer.send(topics.topic_raw, key=k, value=k) for k in keys))
            offsets = [TopicPartition(topics.topic_raw, 0, len(sent))]
            await producer.send_offsets_to_transaction(offsets, consumer.group_metadata())

        assert await transactional.transaction(write) is Outcome.COMMITTED
        committed = list(sent)
        admin = AdminClient({"bootstrap.servers": infra3.bootstrap_servers})
        description = admin.describe_consumer_groups([group])[group].result(timeout=30)
        coordinator = description.coordinator.id
        await asyncio.to_thread(kill_node, infra3, coordinator)
        await wait_for_async(
            lambda: not _present_in_metadata(infra3, coordinator),
            timeout_s=60,
            what=f"node {coordinator} gone from the cluster's metadata",
        )
        started = time.monotonic()
        outcome = await transactional.transaction(write)
        waited = time.monotonic() - started
        assert outcome is Outcome.PRODUCER_REBUILT, f"{outcome} after {waited:.0f}s"
        assert waited < 90, "the deadline is 45 s"
        assert transactional.rebuilds == 1
        for node_is_back in (False, True):
            if node_is_back:
                await asyncio.to_thread(restart_node, infra3, coordinator)
            before = len(sent)
            assert await transactional.transaction(write) is Outcome.COMMITTED
            committed.extend(sent[before:])
    reader_settings = consumer_config(topics, client_id="test-stuck-reader")
    async with KafkaConsumer(reader_settings | {"enable.partition.eof": True}) as reader:
        starts = dict.fromkeys(range(3), OFFSET_BEGINNING)
        read = [
            message.key()
            async for batch in read_range(reader, topics.topic_raw, starts)
            for message in batch.records
        ]
    assert Counter(read) == Counter(committed)  # read_committed: the stuck batch was aborted


@pytest.mark.asyncio
async def test_a_small_pool_of_group_consumers_serves_many_groups_at_once(
    topics: TopicSettings,
) -> None:
    """The gateway's commit path: more groups than handles, all at once. Each call holds its
    handle until it returns, so an eviction only ever closes an idle one."""
    pool = GroupOffsets(topics, size=2, client_id="test-positions")
    groups = [f"sec-gateway.pool-{uuid.uuid4().hex[:8]}" for _ in range(6)]
    try:
        await asyncio.gather(
            *(
                pool.commit(group, topics.topic_analyzed, {0: n + 1})
                for n, group in enumerate(groups)
            )
        )
        assert pool.open_handles() <= 2
        read = await asyncio.gather(
            *(pool.committed(group, topics.topic_analyzed, [0]) for group in groups)
        )
    finally:
        await pool.aclose()
    assert read == [{0: n + 1} for n in range(len(groups))]
    assert pool.opened >= len(groups)
    assert pool.evicted == pool.opened - 2
    # What any Kafka tool sees: the group's own committed offset.
    consumer = Consumer(
        {"bootstrap.servers": topics.kafka_bootstrap_servers, "group.id": groups[0]}
    )
    try:
        [committed] = consumer.committed([TopicPartition(topics.topic_analyzed, 0)], timeout=30)
    finally:
        consumer.close()
    assert committed.offset == 1


@pytest.mark.asyncio
async def test_an_outage_longer_than_the_tolerance_ends_the_watch_naming_the_setting() -> None:
    """What ends a process after too long an outage, against a port where no broker listens
    (a tolerance of seconds here, so the test does not sit out the 300 s default)."""
    settings = CommonSettings(
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}", kafka_outage_tolerance_s=4
    )
    started = time.monotonic()
    with pytest.raises(KafkaOutageError, match=r"longer than KAFKA_OUTAGE_TOLERANCE_S=4\b"):
        await watch_kafka_outages(settings, asyncio.Event())
    assert time.monotonic() - started > 4
