"""Settings of `sec-digester infra`: where the local broker and registry listen and keep data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal, Self

from pydantic import AfterValidator, Field, model_validator

from services.common.settings import CommonSettings, Port

# Node n of a cluster listens on the configured ports plus 2(n - 1): with the defaults the
# nodes pair up as 9092/9093, 9094/9095, 9096/9097, and node 1 keeps the single-node ports.
NODE_PORT_STRIDE = 2
# Every node is a controller, and a KRaft quorum of n controllers survives (n - 1) // 2
# failures: an even count adds a node without adding tolerance, and more than five is no
# longer a local setup.
NODE_COUNTS = (1, 3, 5)


def _check_node_count(nodes: int) -> int:
    if nodes not in NODE_COUNTS:
        raise ValueError(f"must be 1, 3 or 5 (an odd-sized KRaft quorum), got {nodes}")
    return nodes


class InfraSettings(CommonSettings):
    # Data (Kafka log dirs, pid files, logs) and the download cache live under the home
    # directory by default so that a second `up`, and a second CI run, reuse them.
    infra_dir: Path = Path.home() / ".local" / "share" / "sec-digester" / "infra"
    infra_cache_dir: Path = Path.home() / ".cache" / "sec-digester"
    infra_host: str = "127.0.0.1"
    infra_nodes: Annotated[int, AfterValidator(_check_node_count)] = Field(
        1,
        description="Kafka nodes (combined broker+controller): 1, or 3 / 5 for a replicated "
        "cluster; node n uses INFRA_KAFKA_PORT and INFRA_CONTROLLER_PORT plus 2(n-1)",
    )
    infra_kafka_port: Port = 9092
    infra_controller_port: Port = 9093
    infra_registry_port: Port = 8081
    # kafkasql keeps schemas in a Kafka topic, so they survive a registry restart;
    # mem is for throw-away runs only.
    infra_registry_storage: Literal["kafkasql", "mem"] = "kafkasql"
    # Per Kafka node.
    infra_kafka_heap: str = "1g"
    infra_registry_heap: str = "512m"
    # A local PostgreSQL for the filings store (STORE_DSN), from Debian's package: `infra up
    # --postgres` or INFRA_POSTGRES=true starts it (`down` stops it whenever it runs).
    infra_postgres: bool = False
    infra_postgres_port: Port = 5433
    # Its data directory; empty = <INFRA_DIR>/postgres, or, run by root with INFRA_DIR where
    # the postgres user cannot reach it (under /root), /var/lib/postgresql/sec-digester-<port>.
    infra_postgres_dir: Path | None = None
    infra_start_timeout_s: Annotated[float, Field(gt=0)] = 180.0
    java_home: Path | None = None

    # The spelling: `sec-digester infra up --nodes 3`.
    FLAG_ALIASES: ClassVar[dict[str, str]] = {"infra_nodes": "nodes", "infra_postgres": "postgres"}

    @model_validator(mode="after")
    def _ports_distinct(self) -> Self:
        ports = [
            *self.broker_ports,
            *self.controller_ports,
            self.infra_registry_port,
            self.infra_postgres_port,
        ]
        if len(set(ports)) != len(ports):
            raise ValueError(
                "INFRA_KAFKA_PORT, INFRA_CONTROLLER_PORT, INFRA_REGISTRY_PORT and "
                "INFRA_POSTGRES_PORT must differ "
                f"for every one of the {self.infra_nodes} node(s) (node n adds "
                f"{NODE_PORT_STRIDE}(n-1)): brokers {self.broker_ports}, controllers "
                f"{self.controller_ports}, registry {self.infra_registry_port}, PostgreSQL "
                f"{self.infra_postgres_port}"
            )
        return self

    @property
    def node_ids(self) -> list[int]:
        return list(range(1, self.infra_nodes + 1))

    def broker_port(self, node_id: int) -> int:
        return self.infra_kafka_port + NODE_PORT_STRIDE * (node_id - 1)

    def controller_port(self, node_id: int) -> int:
        return self.infra_controller_port + NODE_PORT_STRIDE * (node_id - 1)

    @property
    def broker_ports(self) -> list[int]:
        return [self.broker_port(node_id) for node_id in self.node_ids]

    @property
    def controller_ports(self) -> list[int]:
        return [self.controller_port(node_id) for node_id in self.node_ids]

    @property
    def replication_factor(self) -> int:
        """Of the internal topics (and the default for new ones): three copies once there are
        three nodes, which is what a production cluster runs."""
        return min(3, self.infra_nodes)

    @property
    def min_insync_replicas(self) -> int:
        # Two of three: acks=all still succeeds with one node down, and never with one copy.
        return min(2, self.infra_nodes)

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(f"{self.infra_host}:{port}" for port in self.broker_ports)

    @property
    def registry_url(self) -> str:
        return f"http://{self.infra_host}:{self.infra_registry_port}/apis/ccompat/v7"

    @property
    def java(self) -> str:
        return str(self.java_home / "bin" / "java") if self.java_home else "java"
