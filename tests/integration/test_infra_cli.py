"""`sec-digester infra up|down|status` as a user runs it, on an instance of its own.

This instance (ports offset from the session's) is stopped and started again, which the
session's shared one must never be.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.infra import local
from services.infra.settings import InfraSettings
from tests.support.cli import run_cli
from tests.support.infra import infra_settings_for_tests

_OFFSET = 10


@pytest.fixture
def own_infra(tmp_path: Path) -> Iterator[tuple[InfraSettings, dict[str, str]]]:
    settings = infra_settings_for_tests(tmp_path / "infra", port_offset=_OFFSET)
    env = {
        "INFRA_DIR": str(settings.infra_dir),
        "INFRA_KAFKA_PORT": str(settings.infra_kafka_port),
        "INFRA_CONTROLLER_PORT": str(settings.infra_controller_port),
        "INFRA_REGISTRY_PORT": str(settings.infra_registry_port),
        "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "SCHEMA_REGISTRY_URL": settings.registry_url,
        "TOPIC_PARTITIONS": "2",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(Path.home()),
    }
    try:
        yield settings, env
    finally:
        local.down(settings)


def _exports(stdout: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line)


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
    pids = local.kafka_node(settings).running_pid(), local.registry_node(settings).running_pid()
    again = run_cli("infra", "up", env=env)
    assert again.returncode == 0, again.stderr
    assert (
        local.kafka_node(settings).running_pid(),
        local.registry_node(settings).running_pid(),
    ) == pids

    assert run_cli("topics", "create", env=env).returncode == 0
    registered = run_cli("schemas", "register", env=env)
    assert registered.returncode == 0, registered.stderr
    assert "sec.filings.raw-value: io.secdigester.Filing has id" in registered.stderr

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
