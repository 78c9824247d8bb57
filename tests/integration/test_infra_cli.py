"""`sec-digester infra up|down|status` as a user runs it, on instances of their own.

These instances (ports offset from the session's) are stopped and started again, which the
session's shared ones must never be.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.common.kafka import probe_broker
from services.infra import local
from services.infra.settings import InfraSettings
from tests.support.cli import run_cli
from tests.support.infra import (
    OWN_SINGLE_NODE_OFFSET,
    OWN_THREE_NODE_OFFSET,
    infra_cli_environment,
    infra_settings_for_tests,
    kill_node,
    session_port_offset,
)


@pytest.fixture
def own_infra(tmp_path: Path) -> Iterator[tuple[InfraSettings, dict[str, str]]]:
    offset = session_port_offset() + OWN_SINGLE_NODE_OFFSET
    settings = infra_settings_for_tests(tmp_path / "infra", offset)
    try:
        yield settings, infra_cli_environment(settings) | {"TOPIC_PARTITIONS": "2"}
    finally:
        local.down(settings)


@pytest.fixture
def own_infra3(tmp_path: Path) -> Iterator[tuple[InfraSettings, dict[str, str]]]:
    offset = session_port_offset() + OWN_THREE_NODE_OFFSET
    settings = infra_settings_for_tests(tmp_path / "infra3", offset, nodes=3)
    try:
        yield settings, infra_cli_environment(settings)
    finally:
        local.down(settings)


def _exports(stdout: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line)


def _pids(settings: InfraSettings) -> dict[str, int | None]:
    nodes = [node.process for node in local.kafka_nodes(settings)]
    return {node.name: node.running_pid() for node in [*nodes, local.registry_node(settings)]}


def test_up_twice_is_harmless_and_down_up_keeps_topics_records_and_schemas(
    own_infra: tuple[InfraSettings, dict[str, str]],
) -> None:
    settings, env = own_infra
    first = run_cli("infra", "up", env=env)
    assert first.returncode == 0, first.stderr
    assert _exports(first.stdout) == {
        "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "SCHEMA_REGISTRY_URL": settings.registry_url,
    }
    pids = _pids(settings)
    again = run_cli("infra", "up", env=env)
    assert again.returncode == 0, again.stderr
    assert _pids(settings) == pids

    created = run_cli("topics", "create", env=env)
    assert created.returncode == 0, created.stderr
    assert "sec.filings.text: created, 2 partitions, retention.ms=-1" in created.stderr
    registered = run_cli("schemas", "register", env=env)
    assert registered.returncode == 0, registered.stderr
    assert "sec.filings.raw-value: io.secdigester.Filing has id" in registered.stderr
    assert "sec.filings.text-value: io.secdigester.FilingText has id" in registered.stderr

    down = run_cli("infra", "down", env=env)
    assert down.returncode == 0
    assert "stopped: registry, kafka" in down.stderr
    stopped = run_cli("infra", "status", env=env)
    assert stopped.returncode == 1
    assert "kafka: does not answer" in stopped.stderr

    assert run_cli("infra", "up", env=env).returncode == 0
    status = run_cli("infra", "status", env=env)
    assert status.returncode == 0, status.stderr
    topics = run_cli("topics", "create", env=env)
    assert "sec.filings.raw: exists, 2 partitions, retention.ms=-1" in topics.stderr
    check = run_cli("schemas", "check", env=env)
    assert check.returncode == 0, check.stderr
    assert "sec.filings.raw-value: compatible with 1 version(s)" in check.stderr
    assert "sec.filings.text-value: compatible with 1 version(s)" in check.stderr
    # Registering again after the restart finds the same ids: the schemas survived.
    assert run_cli("schemas", "register", env=env).stderr == registered.stderr


def test_a_port_taken_by_another_process_is_named(
    own_infra: tuple[InfraSettings, dict[str, str]],
) -> None:
    settings, env = own_infra
    with socket.socket() as squatter:
        squatter.bind((settings.infra_host, settings.infra_kafka_port))
        squatter.listen()
        result = run_cli("infra", "up", env=env)
    assert result.returncode == 1
    assert f"port {settings.infra_kafka_port} (INFRA_KAFKA_PORT)" in result.stderr
    assert "already in use by another process" in result.stderr


def test_three_nodes_up_status_and_down_cover_every_node(
    own_infra3: tuple[InfraSettings, dict[str, str]],
) -> None:
    settings, env = own_infra3
    first = run_cli("infra", "up", "--nodes", "3", env=env)
    assert first.returncode == 0, first.stderr
    bootstrap = ",".join(f"{settings.infra_host}:{port}" for port in settings.broker_ports)
    assert _exports(first.stdout) == {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "SCHEMA_REGISTRY_URL": settings.registry_url,
    }
    assert probe_broker({"bootstrap.servers": bootstrap}, wait_s=10) == 3
    pids = _pids(settings)
    assert None not in pids.values()
    again = run_cli("infra", "up", "--nodes", "3", env=env)
    assert again.returncode == 0, again.stderr
    assert _pids(settings) == pids

    # status and down act on the cluster INFRA_DIR holds, INFRA_NODES unset; up refuses to
    # turn it into another size.
    healthy = run_cli("infra", "status", env=env)
    assert healthy.returncode == 0, healthy.stderr
    assert _exports(healthy.stdout)["KAFKA_BOOTSTRAP_SERVERS"] == bootstrap
    for node in local.kafka_nodes(settings):
        name, address, pid = node.process.name, node.broker_address, pids[node.process.name]
        assert f"{name}: answers at {address} (pid {pid})" in healthy.stderr
    resized = run_cli("infra", "up", env=env)
    assert resized.returncode == 1
    assert "holds a 3-node Kafka cluster, and INFRA_NODES is 1" in resized.stderr

    # Every node counts: one down is a degraded cluster, and status says so.
    kill_node(settings, 2)
    degraded = run_cli("infra", "status", env=env)
    assert degraded.returncode == 1
    assert f"kafka-2: does not answer at {settings.infra_host}:{settings.broker_port(2)}" in (
        degraded.stderr
    )
    assert "kafka-1: answers" in degraded.stderr
    assert "kafka-3: answers" in degraded.stderr
    restarted = run_cli("infra", "up", "--nodes", "3", env=env)
    assert restarted.returncode == 0, restarted.stderr
    after = _pids(settings)
    assert after["kafka-2"] not in (None, pids["kafka-2"])
    assert after | {"kafka-2": pids["kafka-2"]} == pids
    assert run_cli("infra", "status", env=env).returncode == 0

    down = run_cli("infra", "down", env=env)
    assert down.returncode == 0, down.stderr
    assert "stopped: registry, kafka-1, kafka-2, kafka-3" in down.stderr
    assert set(_pids(settings).values()) == {None}
    stopped = run_cli("infra", "status", env=env)
    assert stopped.returncode == 1
    for name in ("kafka-1", "kafka-2", "kafka-3", "registry"):
        assert f"{name}: does not answer" in stopped.stderr
