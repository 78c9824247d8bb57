"""The real local Kafka and registry for the integration tests, and per-test topic sets.

The session starts its own single-node Kafka and Apicurio Registry (kafkasql storage) on ports
away from the defaults, in a fresh directory, through the same code as `sec-digester infra up`;
the jars come from the shared download cache. Tests that need replication or kill a broker use
a three-node cluster started the same way on ports of its own. If they cannot start, every
integration test that needs them errors: nothing is skipped.

Ports: the session's offset (`SEC_DIGESTER_TEST_PORT_OFFSET`) plus a fixed offset per instance
below; each instance spans at most ten ports from its base, so a session spans 40, and each
xdist worker (`make test` runs three) takes the next 40: sessions side by side on one machine
need offsets at least 40 times the workers apart.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from confluent_kafka.admin import AdminClient

from services.common.registry import open_registry, register_subjects
from services.common.settings import TopicSettings
from services.common.topics import create_topics
from services.infra import local
from services.infra.settings import InfraSettings

# Below Linux's ephemeral range (32768-60999): a listening port in it may be held, for the
# minute of TIME_WAIT, by a client connection that happened to get it as its local port, and
# the broker then cannot bind it (seen here: a connection to one test cluster held a broker
# port of the next). The registry's range stays clear of the brokers' for offsets up to 2000.
TEST_KAFKA_PORT = 19092
TEST_CONTROLLER_PORT = 19093
TEST_REGISTRY_PORT = 17081

# Offsets from the session's ports: the shared single-node instance is at 0.
OWN_SINGLE_NODE_OFFSET = 10  # started and stopped by a test: the `infra` CLI, start order
SHARED_THREE_NODE_OFFSET = 20  # the session's three-node cluster (`infra3`)
OWN_THREE_NODE_OFFSET = 30  # stopped and started by the `infra --nodes 3` CLI test


# The span of one session's instances above; each pytest-xdist worker is a session of its own.
SESSION_PORT_SPAN = 40


def session_port_offset() -> int:
    """Two test sessions on one machine (e.g. two developers' checkouts) need their own ports,
    and so does each xdist worker of one session (`gw0`, `gw1`, ...)."""
    base = int(os.environ.get("SEC_DIGESTER_TEST_PORT_OFFSET", "0"))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return base + SESSION_PORT_SPAN * int(worker.removeprefix("gw"))


def infra_settings_for_tests(
    directory: Path, port_offset: int = 0, nodes: int = 1
) -> InfraSettings:
    return InfraSettings(
        infra_dir=directory,
        infra_nodes=nodes,
        infra_kafka_port=TEST_KAFKA_PORT + port_offset,
        infra_controller_port=TEST_CONTROLLER_PORT + port_offset,
        infra_registry_port=TEST_REGISTRY_PORT + port_offset,
        # Three brokers beside the single-node one (and other developers' tests) must fit the
        # shared machine; the tests' traffic needs far less.
        infra_kafka_heap="768m" if nodes == 1 else "512m",
    )


def infra_cli_environment(settings: InfraSettings) -> dict[str, str]:
    """What `sec-digester infra ...` run as a user needs to act on this instance."""
    return {
        "INFRA_DIR": str(settings.infra_dir),
        "INFRA_KAFKA_PORT": str(settings.infra_kafka_port),
        "INFRA_CONTROLLER_PORT": str(settings.infra_controller_port),
        "INFRA_REGISTRY_PORT": str(settings.infra_registry_port),
        "INFRA_KAFKA_HEAP": settings.infra_kafka_heap,
        "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "SCHEMA_REGISTRY_URL": settings.registry_url,
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(Path.home()),
    }


def topic_settings(infra: InfraSettings, partitions: int = 1) -> TopicSettings:
    """Settings for a fresh, isolated set of the three topics on the test infrastructure, with
    as many copies as the cluster's own topics keep."""
    suffix = uuid.uuid4().hex[:10]
    return TopicSettings(
        kafka_bootstrap_servers=infra.bootstrap_servers,
        schema_registry_url=infra.registry_url,
        topic_raw=f"test.{suffix}.raw",
        topic_analyzed=f"test.{suffix}.analyzed",
        topic_dlq=f"test.{suffix}.dlq",
        topic_text=f"test.{suffix}.text",
        topic_llm_cache=f"test.{suffix}.llm-cache",
        topic_ingest_control=f"test.{suffix}.ingest-control",
        topic_partitions=partitions,
        topic_replication_factor=infra.replication_factor,
    )


async def provision(settings: TopicSettings) -> None:
    """What an operator does before starting services: topics, then schemas."""
    await create_topics(settings)
    async with open_registry(settings) as registry:
        await register_subjects(registry, settings, "FULL_TRANSITIVE")


def partition_leader(infra: InfraSettings, topic: str, partition: int) -> int:
    """The node id that leads `partition` of `topic` now, from the cluster metadata."""
    admin = AdminClient({"bootstrap.servers": infra.bootstrap_servers})
    leader: int = admin.list_topics(topic, timeout=30).topics[topic].partitions[partition].leader
    if leader < 0:
        raise AssertionError(f"{topic}[{partition}] has no leader now")
    return leader


def kill_node(infra: InfraSettings, node_id: int) -> None:
    """kill -9 of one Kafka node: no controlled shutdown, the cluster finds out by itself."""
    node = local.kafka_node(infra, node_id)
    if not node.process.crash():
        raise AssertionError(f"{node.process.name} was not running")


def restart_node(infra: InfraSettings, node_id: int) -> None:
    """Start a node that was killed, and wait until it and the rest of the cluster answer."""
    down = [n.node_id for n in local.kafka_nodes(infra) if n.process.running_pid() is None]
    if down != [node_id]:
        raise AssertionError(f"restart_node({node_id}) expects only that node down, not {down}")
    # `up` starts exactly what is not running: this node, with its data and voter identity.
    local.up(infra)
