"""Where each local Kafka node lives, and how `status`/`down` find the cluster INFRA_DIR holds
(no broker needed: the layout is files and ports)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from services.common.errors import InfrastructureError
from services.infra import local
from services.infra.postgres import infra_postgres
from services.infra.settings import InfraSettings


def _settings(directory: Path, nodes: int = 1) -> InfraSettings:
    return InfraSettings(
        infra_dir=directory,
        infra_nodes=nodes,
        infra_host="127.0.0.1",
        infra_kafka_port=9092,
        infra_controller_port=9093,
        infra_registry_port=8081,
    )


def _format(node: local.KafkaNode) -> None:
    node.data_dir.mkdir(parents=True)
    (node.data_dir / "meta.properties").write_text(f"node.id={node.node_id}\n")


def test_a_single_node_keeps_the_names_it_always_had(tmp_path: Path) -> None:
    [node] = local.kafka_nodes(_settings(tmp_path))
    assert (node.node_id, node.process.name) == (1, "kafka")
    assert node.data_dir == tmp_path / "kafka-data"
    assert node.config_file == tmp_path / "config" / "server.properties"
    assert (node.broker_address, node.controller_address) == ("127.0.0.1:9092", "127.0.0.1:9093")


def test_each_node_of_a_cluster_has_its_own_ports_data_and_config(tmp_path: Path) -> None:
    nodes = local.kafka_nodes(_settings(tmp_path, nodes=3))
    assert [n.process.name for n in nodes] == ["kafka-1", "kafka-2", "kafka-3"]
    assert [n.broker_address for n in nodes] == [f"127.0.0.1:{p}" for p in (9092, 9094, 9096)]
    assert [n.controller_address for n in nodes] == [f"127.0.0.1:{p}" for p in (9093, 9095, 9097)]
    assert len({n.data_dir for n in nodes} | {n.config_file for n in nodes}) == 6
    assert nodes[2].process.port_setting == "INFRA_KAFKA_PORT+4"
    assert nodes[2].controller_port_setting == "INFRA_CONTROLLER_PORT+4"
    with pytest.raises(InfrastructureError, match="no node 4 in a 3-node cluster"):
        local.kafka_node(_settings(tmp_path, nodes=3), 4)


def test_status_and_down_follow_the_cluster_in_the_directory(tmp_path: Path) -> None:
    asked_for_one = _settings(tmp_path)
    assert local.formatted_node_count(asked_for_one) is None
    assert local.existing_cluster_settings(asked_for_one) is asked_for_one
    for node in local.kafka_nodes(_settings(tmp_path, nodes=3)):
        _format(node)
    assert local.formatted_node_count(asked_for_one) == 3
    assert local.existing_cluster_settings(asked_for_one).infra_nodes == 3


def test_a_single_node_directory_is_recognised(tmp_path: Path) -> None:
    _format(local.kafka_nodes(_settings(tmp_path))[0])
    asked_for_three = _settings(tmp_path, nodes=3)
    assert local.formatted_node_count(asked_for_three) == 1
    assert local.existing_cluster_settings(asked_for_three).bootstrap_servers == "127.0.0.1:9092"


def test_up_refuses_to_change_the_size_of_a_cluster(tmp_path: Path) -> None:
    _format(local.kafka_nodes(_settings(tmp_path))[0])
    with pytest.raises(
        InfrastructureError, match="holds a 1-node Kafka cluster, and INFRA_NODES is 3"
    ):
        local.up(_settings(tmp_path, nodes=3))


def test_the_local_postgres_lives_where_its_user_can_reach(tmp_path: Path) -> None:
    settings = InfraSettings(infra_dir=Path("/tmp/sec-digester-infra"), infra_postgres_port=6543)
    postgres = infra_postgres(settings)
    assert postgres.data_dir == Path("/tmp/sec-digester-infra/postgres")
    assert postgres.dsn == "postgresql://postgres@127.0.0.1:6543/postgres"
    # Run by root, a directory under /root is out of the postgres user's reach.
    private = InfraSettings(infra_dir=Path("/root/.local/share/sec-digester/infra"))
    out_of_reach = os.geteuid() == 0 and Path("/root").stat().st_mode & 0o001 == 0
    assert infra_postgres(private).data_dir == (
        Path("/var/lib/postgresql/sec-digester-5433")
        if out_of_reach
        else Path("/root/.local/share/sec-digester/infra/postgres")
    )
    chosen = InfraSettings(infra_postgres_dir=tmp_path / "pg")
    assert infra_postgres(chosen).data_dir == tmp_path / "pg"  # as set, whatever it is
