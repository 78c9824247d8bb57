"""`sec-digester infra up|down|status`: local Kafka (KRaft) and an Apicurio Registry.

Kafka runs as one combined broker+controller by default, with replication factor 1 for its
internal topics. `INFRA_NODES=3` (or 5) runs that many combined nodes on one machine, each on
its own ports and data directory, as one cluster: every node is a voter of the controller quorum
and the internal topics keep three copies with min.insync.replicas 2, so a cluster with one node
killed keeps accepting acks=all writes and transactions. The registry keeps its schemas in a
Kafka topic (kafkasql) so they survive restarts. `up` is idempotent (it starts only what is not
running), `down` stops the registry first (it is a Kafka client) and keeps all data.
"""

from __future__ import annotations

import base64
import functools
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import structlog

from services.common.errors import InfrastructureError, SecDigesterError
from services.common.kafka import probe_broker
from services.infra.artifacts import Artifacts, fetch_artifacts
from services.infra.process import Node, check_port_free, stop_together
from services.infra.settings import NODE_COUNTS, NODE_PORT_STRIDE, InfraSettings

log = structlog.get_logger(__name__)

_KAFKA_LOG4J = """\
status = warn
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.console.ref = console
logger.controller.name = org.apache.kafka.controller
logger.controller.level = warn
"""

_META_PROPERTIES = "meta.properties"


@dataclass(frozen=True)
class KafkaNode:
    """One combined broker+controller: its process, ports, data directory and config file."""

    node_id: int
    process: Node
    broker_address: str
    controller_address: str
    controller_port_setting: str
    data_dir: Path
    config_file: Path

    @property
    def formatted(self) -> bool:
        return (self.data_dir / _META_PROPERTIES).exists()


def _node_name(node_id: int, nodes: int) -> str:
    # A single node keeps the names it had before clusters existed, so an INFRA_DIR made then
    # (and a broker running from it) is still found.
    return "kafka" if nodes == 1 else f"kafka-{node_id}"


def _port_setting(name: str, node_id: int) -> str:
    shift = NODE_PORT_STRIDE * (node_id - 1)
    return f"{name}+{shift}" if shift else name


def kafka_nodes(settings: InfraSettings) -> list[KafkaNode]:
    host, directory = settings.infra_host, settings.infra_dir
    nodes = []
    for node_id in settings.node_ids:
        name = _node_name(node_id, settings.infra_nodes)
        broker_port = settings.broker_port(node_id)
        config = "server.properties" if settings.infra_nodes == 1 else f"{name}.properties"
        nodes.append(
            KafkaNode(
                node_id=node_id,
                process=Node(
                    name, directory, broker_port, _port_setting("INFRA_KAFKA_PORT", node_id)
                ),
                broker_address=f"{host}:{broker_port}",
                controller_address=f"{host}:{settings.controller_port(node_id)}",
                controller_port_setting=_port_setting("INFRA_CONTROLLER_PORT", node_id),
                data_dir=directory / f"{name}-data",
                config_file=directory / "config" / config,
            )
        )
    return nodes


def kafka_node(settings: InfraSettings, node_id: int) -> KafkaNode:
    if node_id not in settings.node_ids:
        raise InfrastructureError(f"no node {node_id} in a {settings.infra_nodes}-node cluster")
    return kafka_nodes(settings)[node_id - 1]


def registry_node(settings: InfraSettings) -> Node:
    return Node("registry", settings.infra_dir, settings.infra_registry_port, "INFRA_REGISTRY_PORT")


def formatted_node_count(settings: InfraSettings) -> int | None:
    """The size of the cluster formatted in INFRA_DIR, None before the first `up`."""
    if kafka_nodes(settings.model_copy(update={"infra_nodes": 1}))[0].formatted:
        return 1
    largest = kafka_nodes(settings.model_copy(update={"infra_nodes": max(NODE_COUNTS)}))
    return sum(node.formatted for node in largest) or None


def existing_cluster_settings(settings: InfraSettings) -> InfraSettings:
    """`settings` sized to the cluster already in INFRA_DIR: `status` and `down` act on every
    node that is there, whatever INFRA_NODES says now."""
    found = formatted_node_count(settings)
    if found is None or found == settings.infra_nodes:
        return settings
    return settings.model_copy(update={"infra_nodes": found})


def _server_properties(settings: InfraSettings, node: KafkaNode) -> str:
    controllers = ",".join(n.controller_address for n in kafka_nodes(settings))
    replicas, min_isr = settings.replication_factor, settings.min_insync_replicas
    return "\n".join(
        [
            "process.roles=broker,controller",
            f"node.id={node.node_id}",
            # Dynamic quorum (KIP-853): the voters are fixed when the storage is formatted.
            f"controller.quorum.bootstrap.servers={controllers}",
            f"listeners=PLAINTEXT://{node.broker_address},CONTROLLER://{node.controller_address}",
            f"advertised.listeners=PLAINTEXT://{node.broker_address},"
            f"CONTROLLER://{node.controller_address}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
            f"log.dirs={node.data_dir}",
            # One node: every internal topic must be satisfiable with a single replica. Three or
            # more: three copies, two of which must have a write before it is acknowledged.
            f"offsets.topic.replication.factor={replicas}",
            f"transaction.state.log.replication.factor={replicas}",
            f"transaction.state.log.min.isr={min_isr}",
            f"share.coordinator.state.topic.replication.factor={replicas}",
            f"share.coordinator.state.topic.min.isr={min_isr}",
            f"default.replication.factor={replicas}",
            f"min.insync.replicas={min_isr}",
            "group.initial.rebalance.delay.ms=0",
            # Retention (of topics given a retention.ms; the main topics keep everything) acts
            # within a second of being due instead of Kafka's 5 minutes, from the start instead
            # of 30 s after: a local broker holds a few segments, so the scan costs nothing,
            # and a retention tried out (or tested: the gap signal) shows at once.
            "log.retention.check.interval.ms=1000",
            "log.initial.task.delay.ms=1000",
            "auto.create.topics.enable=false",
            "num.partitions=1",
            "",
        ]
    )


def _kafka_uuid() -> str:
    """Kafka's Uuid text form: 16 random bytes, URL-safe base64 without padding. Like Kafka's
    own generator, never one starting with '-', which a command line would take for a flag."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not text.startswith("-"):
            return text


def _java(settings: InfraSettings, artifacts: Artifacts) -> list[str]:
    return [
        settings.java,
        f"-Xmx{settings.infra_kafka_heap}",
        f"-Dlog4j2.configurationFile={settings.infra_dir / 'config' / 'log4j2.properties'}",
        "-cp",
        f"{artifacts.kafka_libs}/*",
    ]


def _write_config(settings: InfraSettings, node: KafkaNode) -> None:
    node.config_file.parent.mkdir(parents=True, exist_ok=True)
    node.config_file.write_text(_server_properties(settings, node))
    (node.config_file.parent / "log4j2.properties").write_text(_KAFKA_LOG4J)


def _format_storage(settings: InfraSettings, java: list[str], nodes: list[KafkaNode]) -> None:
    """Format every node's storage as one cluster, once: the same cluster id everywhere and,
    with several nodes, the same initial voter set (every node a controller, each with the
    directory id its storage gets), as Kafka's "bootstrap with multiple controllers" does.

    All or nothing: a node formatted alone would hold a voter set the others do not share.
    """
    done = [node for node in nodes if node.formatted]
    if len(done) == len(nodes):
        return
    if done:
        raise InfrastructureError(
            f"{', '.join(str(n.data_dir) for n in done)} formatted, the rest of the "
            f"{len(nodes)}-node cluster not: remove the kafka-*-data directories in "
            f"{settings.infra_dir} to start the cluster afresh"
        )
    if len(nodes) == 1:
        voters = ["--standalone"]
    else:
        initial = ",".join(f"{n.node_id}@{n.controller_address}:{_kafka_uuid()}" for n in nodes)
        voters = ["--initial-controllers", initial]
    cluster_id = _kafka_uuid()
    # Side by side: each format is a JVM start of its own.
    formats = [
        (
            node,
            subprocess.Popen(
                [
                    *java,
                    "kafka.tools.StorageTool",
                    "format",
                    "--cluster-id",
                    cluster_id,
                    *voters,
                    "--config",
                    str(node.config_file),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
        for node in nodes
    ]
    failures = []
    for node, process in formats:
        try:
            _, stderr = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
            stderr += "\n(timed out after 120s)"
        if process.returncode != 0:
            failures.append(f"{node.process.name}:\n{stderr[-2000:]}")
    if failures:
        for node in nodes:
            shutil.rmtree(node.data_dir, ignore_errors=True)
        raise InfrastructureError("formatting Kafka storage failed: " + "\n".join(failures))
    log.info("formatted Kafka storage", cluster_id=cluster_id, nodes=len(nodes))


def _start_registry(settings: InfraSettings, artifacts: Artifacts) -> None:
    storage = []
    if settings.infra_registry_storage == "kafkasql":
        # Every broker, so the registry finds the cluster with any one of them down. Its
        # topics get replication min(3, brokers) and min.insync.replicas one less (Apicurio's
        # rule when it creates them), which is why it starts only once every broker is in.
        storage = [
            "-Dapicurio.storage.kind=kafkasql",
            f"-Dapicurio.kafkasql.bootstrap.servers={settings.bootstrap_servers}",
        ]
    registry_node(settings).start(
        [
            settings.java,
            f"-Xmx{settings.infra_registry_heap}",
            f"-Dquarkus.http.host={settings.infra_host}",
            f"-Dquarkus.http.port={settings.infra_registry_port}",
            *storage,
            "-jar",
            str(artifacts.registry_jar),
        ]
    )


def broker_answers(node: KafkaNode) -> bool:
    """This node itself answers a metadata request (only its address is given, so no other
    broker can answer for it)."""
    try:
        probe_broker({"bootstrap.servers": node.broker_address}, wait_s=2)
    except SecDigesterError:
        return False
    return True


def all_brokers_registered(settings: InfraSettings) -> bool:
    """The cluster's metadata lists every broker: each one has joined, none is fenced."""
    try:
        return probe_broker({"bootstrap.servers": settings.bootstrap_servers}, wait_s=2) >= len(
            settings.node_ids
        )
    except SecDigesterError:
        return False


def registry_answers(settings: InfraSettings) -> bool:
    try:
        return httpx.get(f"{settings.registry_url}/subjects", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(nodes: list[Node], ready: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        for node in nodes:
            if node.running_pid() is None:
                raise InfrastructureError(f"{node.name} exited during start-up:\n{node.log_tail()}")
        if time.monotonic() > deadline:
            tails = "\n".join(f"{node.name}:\n{node.log_tail()}" for node in nodes)
            raise InfrastructureError(f"{what} not within {timeout_s:.0f}s:\n{tails}")
        time.sleep(0.25)


@dataclass(frozen=True)
class NodeStatus:
    name: str
    pid: int | None
    address: str
    answers: bool


def _check_cluster_size(settings: InfraSettings) -> None:
    found = formatted_node_count(settings)
    if found is not None and found != settings.infra_nodes:
        raise InfrastructureError(
            f"{settings.infra_dir} holds a {found}-node Kafka cluster, and INFRA_NODES is "
            f"{settings.infra_nodes}: run with INFRA_NODES={found} (--nodes {found}), or give the "
            f"{settings.infra_nodes}-node cluster its own INFRA_DIR"
        )


def _check_ports_free(settings: InfraSettings, node: KafkaNode) -> None:
    node.process.check_port_free(settings.infra_host)
    controller_port = settings.controller_port(node.node_id)
    owner = f"{node.process.name}'s controller"
    check_port_free(settings.infra_host, controller_port, node.controller_port_setting, owner)


def up(settings: InfraSettings) -> list[NodeStatus]:
    """Start whatever is not running yet, and wait until every node and the registry answer."""
    settings.infra_dir.mkdir(parents=True, exist_ok=True)
    _check_cluster_size(settings)
    artifacts = fetch_artifacts(settings.infra_cache_dir)
    java = _java(settings, artifacts)
    nodes = kafka_nodes(settings)
    stopped = [node for node in nodes if node.process.running_pid() is None]
    for node in stopped:
        _check_ports_free(settings, node)
        _write_config(settings, node)
    _format_storage(settings, java, nodes)
    # Every node is started before any is waited for: a controller quorum elects a leader only
    # once a majority of its voters run, and until then no broker answers.
    for node in stopped:
        node.process.start([*java, "kafka.Kafka", str(node.config_file)])
    processes, timeout_s = [node.process for node in nodes], settings.infra_start_timeout_s
    for node in nodes:
        answers = functools.partial(broker_answers, node)
        _wait(processes, answers, timeout_s, f"{node.process.name} did not answer")
    registered = functools.partial(all_brokers_registered, settings)
    _wait(processes, registered, timeout_s, "the cluster metadata did not list every broker")
    registry = registry_node(settings)
    if registry.running_pid() is None:
        registry.check_port_free(settings.infra_host)
        _start_registry(settings, artifacts)
    _wait(
        [registry],
        functools.partial(registry_answers, settings),
        timeout_s,
        "registry did not answer",
    )
    return status(settings)


def down(settings: InfraSettings) -> list[str]:
    """Stop the registry, then every Kafka node (a controlled shutdown); data stays. Names what
    stopped, in order."""
    stopped = []
    if registry_node(settings).stop(grace_s=30):
        stopped.append("registry")
    # Every node at once: a broker's controlled shutdown needs the controller quorum, so nodes
    # stopped one by one leave the last ones waiting for a majority that has already gone
    # (until the SIGKILL). Together, every broker shuts down while the quorum still stands.
    nodes = [node.process for node in kafka_nodes(settings)]
    stopped.extend(node.name for node in stop_together(nodes, grace_s=60))
    return stopped


def status(settings: InfraSettings) -> list[NodeStatus]:
    nodes: list[NodeStatus] = [
        NodeStatus(
            node.process.name, node.process.running_pid(), node.broker_address, broker_answers(node)
        )
        for node in kafka_nodes(settings)
    ]
    registry = registry_node(settings)
    nodes.append(
        NodeStatus(
            "registry", registry.running_pid(), settings.registry_url, registry_answers(settings)
        )
    )
    return nodes
