from __future__ import annotations

import copy
from typing import Any

from services.common.compat import compatibility_problems, problems
from services.common.schemas import SchemaName, schema_dict

_NEEDS_FIELD = "the reader needs this field (no default), the writer lacks it"


def _record(*fields: dict[str, Any]) -> dict[str, Any]:
    return {"type": "record", "name": "R", "fields": list(fields)}


def test_identical_and_promoted_types_are_compatible() -> None:
    old = _record({"name": "n", "type": "int"})
    new = _record({"name": "n", "type": "long"})
    assert problems(new, old) == []  # a long reader reads ints
    assert problems(old, new) == ["/n: type changed from long to int"]


def test_field_added_without_default_breaks_backward() -> None:
    old = _record({"name": "a", "type": "string"})
    new = _record({"name": "a", "type": "string"}, {"name": "b", "type": "int"})
    assert compatibility_problems(new, [old], "BACKWARD") == [
        "new schema cannot read v1: /b: " + _NEEDS_FIELD
    ]
    with_default = _record(
        {"name": "a", "type": "string"}, {"name": "b", "type": "int", "default": 0}
    )
    assert compatibility_problems(with_default, [old], "FULL_TRANSITIVE") == []


def test_field_removed_without_default_breaks_forward_not_backward() -> None:
    old = _record({"name": "a", "type": "string"}, {"name": "b", "type": "int"})
    new = _record({"name": "a", "type": "string"})
    assert compatibility_problems(new, [old], "BACKWARD") == []
    assert compatibility_problems(new, [old], "FULL") == [
        "v1 cannot read the new schema: /b: " + _NEEDS_FIELD
    ]


def test_transitive_checks_every_version() -> None:
    v1 = _record({"name": "a", "type": "string"})
    v2 = _record({"name": "a", "type": "string"}, {"name": "b", "type": "int", "default": 0})
    v3 = _record({"name": "b", "type": "int", "default": 0})  # drops a: v1 data unreadable
    assert compatibility_problems(v3, [v1, v2], "BACKWARD") == []
    assert compatibility_problems(v3, [v1, v2], "FORWARD_TRANSITIVE") != []


def test_enum_symbol_and_union_rules() -> None:
    old = {"type": "enum", "name": "E", "symbols": ["a", "b"]}
    narrower = {"type": "enum", "name": "E", "symbols": ["a"]}
    assert problems(narrower, old) == [
        "/: enum symbols ['b'] unknown to the reader, which has no default"
    ]
    assert problems({**narrower, "default": "a"}, old) == []
    assert problems(["null", "string"], "string") == []
    assert problems("string", ["null", "string"]) == ["/: type changed from null to string"]


def test_nested_paths_name_the_field() -> None:
    analysis = schema_dict(SchemaName.FILING_ANALYSIS)
    broken = copy.deepcopy(analysis)
    filing = broken["fields"][0]["type"]
    for field in filing["fields"]:
        if field["name"] == "size_bytes":
            field["type"] = "string"
    found = compatibility_problems(broken, [analysis], "FULL")
    assert any("/filing/size_bytes: type changed" in p for p in found)


def test_working_tree_schemas_stay_compatible_with_every_released_version() -> None:
    """The project's own check: a change that breaks FULL_TRANSITIVE fails here, in CI."""
    import json
    from pathlib import Path

    released = Path(__file__).resolve().parents[2] / "schemas" / "released"
    for name in SchemaName:
        versions = [
            json.loads((directory / f"{name}.avsc").read_text())
            for directory in sorted(released.iterdir())
            if (directory / f"{name}.avsc").exists()
        ]
        assert versions, f"no released version of {name}"
        assert compatibility_problems(schema_dict(name), versions, "FULL_TRANSITIVE") == []
