"""`sec-digester schemas register|check` and `topics create`, on the configured names.

Each prints one line per subject or topic to stderr saying what it found or did. Started
before Kafka or the registry answer (the chart's Job beside the services), `topics create` and
`schemas register` wait for the one they need with back-off, up to KAFKA_OUTAGE_TOLERANCE_S
(services/common/startup.py).
"""

from __future__ import annotations

import sys

from services.common.lifecycle import shutdown_event
from services.common.registry import check_subjects, open_registry, register_subjects
from services.common.settings import SchemaSettings, TopicSettings
from services.common.startup import Needs, wait_for_infrastructure
from services.common.topics import create_topics


def _say(line: str) -> None:
    print(line, file=sys.stderr)


async def run_schemas_register(settings: SchemaSettings) -> int:
    # Run beside the services as a Job: the registry may not answer yet.
    if not await wait_for_infrastructure(settings, Needs(kafka=False), shutdown_event()):
        return 1
    async with open_registry(settings) as registry:
        reports = await register_subjects(registry, settings, settings.schema_compatibility)
    for report in reports:
        _say(
            f"{report.subject}: {report.schema} has id {report.schema_id} "
            f"({settings.schema_compatibility})"
        )
    return 0


async def run_schemas_check(settings: SchemaSettings) -> int:
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


async def run_topics_create(settings: TopicSettings) -> int:
    # Run beside the services as a Job: the brokers may not answer yet.
    if not await wait_for_infrastructure(settings, Needs(registry=False), shutdown_event()):
        return 1
    for report in await create_topics(settings):
        action = "created" if report.created else "exists"
        note = f" — {report.note}" if report.note else ""
        _say(
            f"{report.name}: {action}, {report.partitions} partitions, "
            f"retention.ms={report.retention_ms}{note}"
        )
    return 0
