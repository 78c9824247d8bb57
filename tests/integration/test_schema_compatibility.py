"""Schema evolution: the registry and `schemas check` refuse what breaks FULL_TRANSITIVE."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema
from confluent_kafka.schema_registry.error import SchemaRegistryError

from services.common.registry import open_registry, subject_for
from services.common.schemas import SchemaName, schema_dict
from services.common.settings import TopicSettings
from tests.support.cli import environment_for, run_cli

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def _filing_fields(schema: dict[str, Any]) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = schema["fields"]
    return fields


def _propose(tmp_path: Path, change: Any) -> Path:
    """A copy of schemas/ with the Filing schema changed by `change(fields)`."""
    proposed = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, proposed, ignore=shutil.ignore_patterns("released", "__*"))
    path = proposed / f"{SchemaName.FILING}.avsc"
    filing = json.loads(path.read_text())
    change(_filing_fields(filing))
    path.write_text(json.dumps(filing))
    return proposed


def _remove_form_type(fields: list[dict[str, Any]]) -> None:
    fields[:] = [f for f in fields if f["name"] != "form_type"]


def _retype_size(fields: list[dict[str, Any]]) -> None:
    next(f for f in fields if f["name"] == "size_bytes")["type"] = ["null", "string"]


def _add_with_default(fields: list[dict[str, Any]]) -> None:
    fields.append({"name": "sic_code", "type": ["null", "string"], "default": None})


@pytest.mark.asyncio
@pytest.mark.parametrize("change", [_remove_form_type, _retype_size])
async def test_the_registry_refuses_a_breaking_change(topics: TopicSettings, change: Any) -> None:
    broken = copy.deepcopy(schema_dict(SchemaName.FILING))
    change(_filing_fields(broken))
    async with open_registry(topics) as registry:
        with pytest.raises(SchemaRegistryError) as refused:
            await registry.register_schema(
                subject_for(topics.topic_raw), Schema(json.dumps(broken), "AVRO")
            )
    assert refused.value.http_status_code == 409


@pytest.mark.parametrize(
    ("change", "named"),
    [(_remove_form_type, "/form_type"), (_retype_size, "/size_bytes: long is not readable")],
)
def test_schemas_check_fails_naming_the_field(
    topics: TopicSettings, tmp_path: Path, change: Any, named: str
) -> None:
    result = run_cli(
        "schemas", "check", "--schemas-dir", str(_propose(tmp_path, change)),
        env=environment_for(topics),
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert f"{subject_for(topics.topic_raw)}: INCOMPATIBLE (FULL_TRANSITIVE)" in result.stderr
    assert named in result.stderr


@pytest.mark.asyncio
async def test_a_compatible_change_passes_the_check_and_registers(
    topics: TopicSettings, tmp_path: Path
) -> None:
    proposed = _propose(tmp_path, _add_with_default)
    result = run_cli(
        "schemas", "check", "--schemas-dir", str(proposed), env=environment_for(topics)
    )
    assert result.returncode == 0, result.stderr
    assert f"{subject_for(topics.topic_raw)}: compatible with 1 version(s)" in result.stderr
    new = (proposed / f"{SchemaName.FILING}.avsc").read_text()
    async with open_registry(topics) as registry:
        schema_id = await registry.register_schema(
            subject_for(topics.topic_raw), Schema(json.dumps(json.loads(new)), "AVRO")
        )
        versions = await registry.get_versions(subject_for(topics.topic_raw))
    assert schema_id > 0
    assert len(versions) == 2
