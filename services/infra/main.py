"""`sec-digester infra up|fetch|down|status`: the local Kafka and schema registry (and, with
`up --postgres`, a PostgreSQL for the filings store).

Human-readable lines go to stderr; the settings a client needs (`infra up|status`) go to
stdout as shell assignments, so `eval "$(sec-digester infra up)"` works.
"""

from __future__ import annotations

import asyncio
import sys

from services.infra import local
from services.infra.artifacts import fetch_artifacts
from services.infra.postgres import infra_postgres
from services.infra.settings import InfraSettings


def _say(line: str) -> None:
    print(line, file=sys.stderr)


def _print_client_settings(settings: InfraSettings) -> None:
    print(f"KAFKA_BOOTSTRAP_SERVERS={settings.bootstrap_servers}")
    print(f"SCHEMA_REGISTRY_URL={settings.registry_url}")


def _report(statuses: list[local.NodeStatus]) -> bool:
    for node in statuses:
        state = "answers" if node.answers else "does not answer"
        pid = f"pid {node.pid}" if node.pid else "not started by sec-digester"
        _say(f"{node.name}: {state} at {node.address} ({pid})")
    return all(node.answers for node in statuses)


async def run_infra_up(settings: InfraSettings) -> int:
    statuses = await asyncio.to_thread(local.up, settings)
    _report(statuses)
    _print_client_settings(settings)
    if settings.infra_postgres:
        postgres = infra_postgres(settings)
        await asyncio.to_thread(postgres.up, settings.infra_start_timeout_s)
        _say(f"postgres: answers at {settings.infra_host}:{postgres.port} ({postgres.data_dir})")
        print(f"STORE_DSN={postgres.dsn}")
    return 0


async def run_infra_fetch(settings: InfraSettings) -> int:
    artifacts = await asyncio.to_thread(fetch_artifacts, settings.infra_cache_dir)
    _say(f"Kafka {artifacts.kafka_version}: {artifacts.kafka_libs}")
    _say(f"Apicurio Registry {artifacts.registry_version}: {artifacts.registry_jar}")
    return 0


async def run_infra_down(settings: InfraSettings) -> int:
    settings = local.existing_cluster_settings(settings)
    stopped = await asyncio.to_thread(local.down, settings)
    if await asyncio.to_thread(infra_postgres(settings).down):
        stopped.append("postgres")
    _say(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
    return 0


async def run_infra_status(settings: InfraSettings) -> int:
    settings = local.existing_cluster_settings(settings)
    healthy = _report(await asyncio.to_thread(local.status, settings))
    _print_client_settings(settings)
    postgres = infra_postgres(settings)
    if await asyncio.to_thread(postgres.running):
        answers = await asyncio.to_thread(postgres.answers)
        _say(f"postgres: {'answers' if answers else 'does not answer'} at port {postgres.port}")
        print(f"STORE_DSN={postgres.dsn}")
        healthy = healthy and answers
    return 0 if healthy else 1
