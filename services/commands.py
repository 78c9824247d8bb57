"""The subcommands of `sec-digester` and what each one runs.

Handlers are thin: they call into the package that owns the job and print what a user (or a
shell, for `infra up|status`) needs. Human-readable lines go to stderr; machine-readable output
(shell assignments) to stdout.
"""

from __future__ import annotations

import asyncio
import sys

from services.alerts.settings import AlertsSettings
from services.analyze.settings import AnalyzeSettings
from services.cli import Command
from services.common.registry import check_subjects, open_registry, register_subjects
from services.common.settings import SchemaSettings, TopicSettings
from services.common.topics import create_topics
from services.demo import DemoSettings
from services.export.settings import ExportSettings
from services.gateway.settings import GatewaySettings
from services.infra import local
from services.infra.artifacts import fetch_artifacts
from services.infra.settings import InfraSettings
from services.ingest.settings import IngestSettings
from services.tail.settings import TailSettings


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


async def infra_up(settings: InfraSettings) -> int:
    statuses = await asyncio.to_thread(local.up, settings)
    _report(statuses)
    _print_client_settings(settings)
    return 0


async def infra_fetch(settings: InfraSettings) -> int:
    artifacts = await asyncio.to_thread(fetch_artifacts, settings.infra_cache_dir)
    _say(f"Kafka {artifacts.kafka_version}: {artifacts.kafka_libs}")
    _say(f"Apicurio Registry {artifacts.registry_version}: {artifacts.registry_jar}")
    return 0


async def infra_down(settings: InfraSettings) -> int:
    settings = local.existing_cluster_settings(settings)
    stopped = await asyncio.to_thread(local.down, settings)
    _say(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
    return 0


async def infra_status(settings: InfraSettings) -> int:
    settings = local.existing_cluster_settings(settings)
    healthy = _report(await asyncio.to_thread(local.status, settings))
    _print_client_settings(settings)
    return 0 if healthy else 1


async def schemas_register(settings: SchemaSettings) -> int:
    async with open_registry(settings) as registry:
        reports = await register_subjects(registry, settings, settings.schema_compatibility)
    for report in reports:
        _say(f"{report.subject}: {report.schema} has id {report.schema_id} "
             f"({settings.schema_compatibility})")  # fmt: skip
    return 0


async def schemas_check(settings: SchemaSettings) -> int:
    async with open_registry(settings) as registry:
        reports = await check_subjects(
            registry, settings, settings.schema_compatibility, settings.schemas_dir
        )
    for report in reports:
        if not report.registered_versions:
            _say(f"{report.subject}: not registered yet ({report.schema} would be version 1)")
        for problem in report.problems:
            _say(f"{report.subject}: INCOMPATIBLE ({settings.schema_compatibility}): {problem}")
        if report.registered_versions and not report.problems:
            _say(f"{report.subject}: compatible with {report.registered_versions} version(s)")
    return 1 if any(report.problems for report in reports) else 0


async def topics_create(settings: TopicSettings) -> int:
    for report in await create_topics(settings):
        action = "created" if report.created else "exists"
        note = f" — {report.note}" if report.note else ""
        _say(f"{report.name}: {action}, {report.partitions} partitions, "
             f"retention.ms={report.retention_ms}{note}")  # fmt: skip
    return 0


COMMANDS = [
    Command(("infra", "up"), "start local Kafka and the schema registry", InfraSettings,
            "services.commands:infra_up"),
    Command(("infra", "fetch"), "download Kafka and the registry (once)", InfraSettings,
            "services.commands:infra_fetch"),
    Command(("infra", "down"), "stop them (data is kept)", InfraSettings,
            "services.commands:infra_down"),
    Command(("infra", "status"), "exit 0 when every node and the registry answer", InfraSettings,
            "services.commands:infra_status"),
    Command(("schemas", "register"), "register the Avro schemas", SchemaSettings,
            "services.commands:schemas_register"),
    Command(("schemas", "check"), "compare schemas/ with the registry", SchemaSettings,
            "services.commands:schemas_check"),
    Command(("topics", "create"), "create the topics (idempotent)", TopicSettings,
            "services.commands:topics_create"),
    Command(("ingest",), "EDGAR into the raw topic", IngestSettings,
            "services.ingest.main:run_ingest"),
    Command(("analyze",), "the raw topic into analyses, exactly once", AnalyzeSettings,
            "services.analyze.main:run_analyze"),
    Command(("gateway",), "WebSocket, SSE and REST on the topics", GatewaySettings,
            "services.gateway.main:run_gateway"),
    Command(("demo",), "everything, locally, on the bundled corpus", DemoSettings,
            "services.demo:run_demo"),
    Command(("tail",), "the live stream in a terminal, or JSON lines", TailSettings,
            "services.tail.main:run_tail"),
    Command(("export",), "a range of a topic to JSON lines or Parquet", ExportSettings,
            "services.export.main:run_export"),
    Command(("alerts",), "high-priority filings to Discord and webhooks, once each",
            AlertsSettings, "services.alerts.main:run_alerts"),
]  # fmt: skip
