"""The schema registry, through its Confluent-compatible REST API.

Which schema goes under which subject (TopicNameStrategy: `<topic>-value`), how a process finds
its schema id, and the two operator commands: `schemas register` and `schemas check`. Registry
errors are translated at this boundary into `SchemaRegistryError` (or its
`IncompatibleSchemaError`).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import authlib.deprecate

# confluent-kafka's registry client imports authlib's httpx integration, which authlib has
# deprecated; the warning is about authlib's internals, not anything we call. authlib installs
# an "always" filter for its warnings when imported, so ours is added after it.
warnings.filterwarnings(
    "ignore", "The httpx module is deprecated", authlib.deprecate.AuthlibDeprecationWarning
)

from confluent_kafka.schema_registry import AsyncSchemaRegistryClient, Schema  # noqa: E402
from confluent_kafka.schema_registry.error import (  # noqa: E402
    SchemaRegistryError as ClientRegistryError,
)

from services.common.compat import Level, compatibility_problems  # noqa: E402
from services.common.errors import IncompatibleSchemaError, SchemaRegistryError  # noqa: E402
from services.common.schemas import SchemaName, schema_dict, schema_text  # noqa: E402
from services.common.settings import CommonSettings  # noqa: E402

SUBJECT_NOT_FOUND = 40401
SCHEMA_NOT_FOUND = 40403


# The one import of confluent-kafka's registry package (see the warnings filter above).
RegistryClient = AsyncSchemaRegistryClient


def subject_for(topic: str) -> str:
    """TopicNameStrategy, as every Confluent-compatible client assumes by default."""
    return f"{topic}-value"


def subjects(settings: CommonSettings) -> dict[str, SchemaName]:
    """The configured topics' value subjects and the schema each one carries."""
    return {
        subject_for(settings.topic_raw): SchemaName.FILING,
        subject_for(settings.topic_analyzed): SchemaName.FILING_ANALYSIS,
        subject_for(settings.topic_dlq): SchemaName.DEAD_LETTER,
        subject_for(settings.topic_text): SchemaName.FILING_TEXT,
    }


@asynccontextmanager
async def open_registry(settings: CommonSettings) -> AsyncIterator[AsyncSchemaRegistryClient]:
    config: dict[str, Any] = {"url": settings.schema_registry_url, "timeout": 10}
    if settings.schema_registry_basic_auth:
        config["basic.auth.user.info"] = settings.schema_registry_basic_auth.get_secret_value()
    async with AsyncSchemaRegistryClient(config) as client:
        yield client


def _translate(exc: Exception, doing: str) -> SchemaRegistryError:
    if isinstance(exc, ClientRegistryError):
        retriable = exc.http_status_code is None or exc.http_status_code >= 500
        return SchemaRegistryError(f"{doing}: {exc.error_message}", retriable=retriable)
    return SchemaRegistryError(f"{doing}: {exc}")


async def schema_id_of(registry: AsyncSchemaRegistryClient, subject: str, name: SchemaName) -> int:
    """The id under which `name` (as in this working tree) is registered in `subject`."""
    try:
        registered = await registry.lookup_schema(subject, Schema(schema_text(name), "AVRO"))
    except ClientRegistryError as exc:
        if exc.error_code in {SUBJECT_NOT_FOUND, SCHEMA_NOT_FOUND}:
            raise SchemaRegistryError(
                f"schema {name} is not registered under subject {subject}: "
                "run `sec-digester schemas register`",
                retriable=False,
            ) from exc
        raise _translate(exc, f"look up {subject}") from exc
    except Exception as exc:  # httpx transport errors and the like
        raise _translate(exc, f"look up {subject}") from exc
    if registered.schema_id is None:
        raise SchemaRegistryError(f"the registry gave no schema id for {subject}")
    return registered.schema_id


async def writer_schema_of(registry: AsyncSchemaRegistryClient, schema_id: int) -> Any:
    """The schema a record was written with, by its id."""
    try:
        schema = await registry.get_schema(schema_id)
    except ClientRegistryError as exc:
        retriable = exc.http_status_code is None or exc.http_status_code >= 500
        raise SchemaRegistryError(
            f"schema id {schema_id} is unknown to the registry: {exc.error_message}",
            retriable=retriable,
        ) from exc
    except Exception as exc:
        raise _translate(exc, f"fetch schema id {schema_id}") from exc
    return _parse_schema_str(schema.schema_str, f"schema id {schema_id}")


def _parse_schema_str(text: str | None, what: str) -> Any:
    try:
        return json.loads(text or "")
    except json.JSONDecodeError as exc:
        raise SchemaRegistryError(f"{what}: the registry returned no valid schema") from exc


@dataclass(frozen=True)
class SubjectReport:
    subject: str
    schema: str
    registered_versions: int
    schema_id: int | None
    problems: tuple[str, ...]


async def _registered_versions(registry: AsyncSchemaRegistryClient, subject: str) -> list[Any]:
    try:
        versions = await registry.get_versions(subject)
    except ClientRegistryError as exc:
        if exc.error_code == SUBJECT_NOT_FOUND:
            return []
        raise _translate(exc, f"list versions of {subject}") from exc
    schemas = []
    for version in sorted(versions):
        registered = await registry.get_version(subject, version)
        schemas.append(_parse_schema_str(registered.schema.schema_str, f"{subject} v{version}"))
    return schemas


async def check_subjects(
    registry: AsyncSchemaRegistryClient,
    settings: CommonSettings,
    level: Level,
    directory: Path | None = None,
) -> list[SubjectReport]:
    """Compare our schemas (or those in `directory`) with what is registered; change nothing."""
    reports = []
    for subject, name in subjects(settings).items():
        try:
            registered = await _registered_versions(registry, subject)
            found = compatibility_problems(schema_dict(name, directory), registered, level)
            proposed = Schema(schema_text(name, directory), "AVRO")
            if (
                registered
                and not found
                and not await registry.test_compatibility(subject, proposed)
            ):
                found = ["the registry refuses it (it gives no detail)"]
        except ClientRegistryError as exc:
            raise _translate(exc, f"check {subject}") from exc
        reports.append(SubjectReport(subject, name, len(registered), None, tuple(found)))
    return reports


async def register_subjects(
    registry: AsyncSchemaRegistryClient, settings: CommonSettings, level: Level
) -> list[SubjectReport]:
    """Set each subject's compatibility level, then register the working-tree schema.

    Idempotent: registering the schema a subject already has returns its existing id.
    """
    reports = []
    for subject, name in subjects(settings).items():
        registered = await _registered_versions(registry, subject)
        found = compatibility_problems(schema_dict(name), registered, level)
        try:
            await registry.set_compatibility(subject, level)
            schema_id = await registry.register_schema(subject, Schema(schema_text(name), "AVRO"))
        except ClientRegistryError as exc:
            if exc.http_status_code == 409:
                detail = "; ".join(found) or exc.error_message
                raise IncompatibleSchemaError(
                    f"{subject}: the registry refused {name} as {level}-incompatible: {detail}"
                ) from exc
            raise _translate(exc, f"register {subject}") from exc
        reports.append(SubjectReport(subject, name, len(registered), schema_id, ()))
    return reports
