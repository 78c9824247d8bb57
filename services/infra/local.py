"""`sec-digester infra up|down|status`: a single-node Kafka (KRaft) and an Apicurio Registry.

Kafka runs as one combined broker+controller with replication factor 1 for its internal topics;
the registry keeps its schemas in a Kafka topic (kafkasql) so they survive restarts. `up` is
idempotent, `down` stops the registry first (it is a Kafka client) and keeps all data.
"""

from __future__ import annotations

import base64
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import structlog

from services.common.errors import InfrastructureError, SecDigesterError
from services.common.kafka import probe_broker
from services.infra.artifacts import Artifacts, fetch_artifacts
from services.infra.process import Node
from services.infra.settings import InfraSettings

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


def kafka_node(settings: InfraSettings) -> Node:
    return Node("kafka", settings.infra_dir, settings.infra_kafka_port, "INFRA_KAFKA_PORT")


def registry_node(settings: InfraSettings) -> Node:
    return Node("registry", settings.infra_dir, settings.infra_registry_port, "INFRA_REGISTRY_PORT")


def _server_properties(settings: InfraSettings) -> str:
    host, data = settings.infra_host, settings.infra_dir / "kafka-data"
    controller = f"{host}:{settings.infra_controller_port}"
    return "\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.bootstrap.servers={controller}",
        f"listeners=PLAINTEXT://{settings.bootstrap_servers},CONTROLLER://{controller}",
        f"advertised.listeners=PLAINTEXT://{settings.bootstrap_servers}",
        "controller.listener.names=CONTROLLER",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name=PLAINTEXT",
        f"log.dirs={data}",
        # One node: every internal topic must be satisfiable with a single replica.
        "offsets.topic.replication.factor=1",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "default.replication.factor=1",
        "min.insync.replicas=1",
        "group.initial.rebalance.delay.ms=0",
        "auto.create.topics.enable=false",
        "num.partitions=1",
        "",
    ])  # fmt: skip


def _kafka_cluster_id() -> str:
    """Kafka's Uuid text form: 16 random bytes, URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


def _start_kafka(settings: InfraSettings, artifacts: Artifacts) -> None:
    node = kafka_node(settings)
    config_dir = settings.infra_dir / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "server.properties").write_text(_server_properties(settings))
    (config_dir / "log4j2.properties").write_text(_KAFKA_LOG4J)
    java = [
        settings.java,
        f"-Xmx{settings.infra_kafka_heap}",
        f"-Dlog4j2.configurationFile={config_dir / 'log4j2.properties'}",
        "-cp",
        f"{artifacts.kafka_libs}/*",
    ]
    if not (settings.infra_dir / "kafka-data" / "meta.properties").exists():
        format_command = [
            *java, "kafka.tools.StorageTool", "format", "--standalone",
            "--cluster-id", _kafka_cluster_id(), "--config", str(config_dir / "server.properties"),
        ]  # fmt: skip
        result = subprocess.run(
            format_command, capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            raise InfrastructureError(f"formatting Kafka storage failed:\n{result.stderr[-2000:]}")
    node.start([*java, "kafka.Kafka", str(config_dir / "server.properties")])


def _start_registry(settings: InfraSettings, artifacts: Artifacts) -> None:
    storage = []
    if settings.infra_registry_storage == "kafkasql":
        storage = [
            "-Dapicurio.storage.kind=kafkasql",
            f"-Dapicurio.kafkasql.bootstrap.servers={settings.bootstrap_servers}",
        ]
    registry_node(settings).start([
        settings.java,
        f"-Xmx{settings.infra_registry_heap}",
        f"-Dquarkus.http.host={settings.infra_host}",
        f"-Dquarkus.http.port={settings.infra_registry_port}",
        *storage,
        "-jar",
        str(artifacts.registry_jar),
    ])  # fmt: skip


def broker_answers(settings: InfraSettings) -> bool:
    try:
        probe_broker({"bootstrap.servers": settings.bootstrap_servers}, wait_s=2)
    except SecDigesterError:
        return False
    return True


def registry_answers(settings: InfraSettings) -> bool:
    try:
        return httpx.get(f"{settings.registry_url}/subjects", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(node: Node, ready: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if node.running_pid() is None:
            raise InfrastructureError(f"{node.name} exited during start-up:\n{node.log_tail()}")
        if time.monotonic() > deadline:
            raise InfrastructureError(
                f"{node.name} did not {what} within {timeout_s:.0f}s:\n{node.log_tail()}"
            )
        time.sleep(0.25)


@dataclass(frozen=True)
class NodeStatus:
    name: str
    pid: int | None
    address: str
    answers: bool


def up(settings: InfraSettings) -> list[NodeStatus]:
    """Start whatever is not running yet, and wait until both answer."""
    settings.infra_dir.mkdir(parents=True, exist_ok=True)
    artifacts = fetch_artifacts(settings.infra_cache_dir)
    kafka, registry = kafka_node(settings), registry_node(settings)
    if kafka.running_pid() is None:
        kafka.check_port_free(settings.infra_host)
        Node("controller", settings.infra_dir, settings.infra_controller_port,
             "INFRA_CONTROLLER_PORT").check_port_free(settings.infra_host)  # fmt: skip
        _start_kafka(settings, artifacts)
    _wait(kafka, lambda: broker_answers(settings), settings.infra_start_timeout_s, "answer")
    if registry.running_pid() is None:
        registry.check_port_free(settings.infra_host)
        _start_registry(settings, artifacts)
    _wait(registry, lambda: registry_answers(settings), settings.infra_start_timeout_s, "answer")
    return status(settings)


def down(settings: InfraSettings) -> list[str]:
    """Stop the registry, then Kafka (a controlled shutdown); data stays. Names what stopped."""
    stopped = []
    if registry_node(settings).stop(grace_s=30):
        stopped.append("registry")
    if kafka_node(settings).stop(grace_s=60):
        stopped.append("kafka")
    return stopped


def status(settings: InfraSettings) -> list[NodeStatus]:
    return [
        NodeStatus("kafka", kafka_node(settings).running_pid(), settings.bootstrap_servers,
                   broker_answers(settings)),
        NodeStatus("registry", registry_node(settings).running_pid(), settings.registry_url,
                   registry_answers(settings)),
    ]  # fmt: skip
