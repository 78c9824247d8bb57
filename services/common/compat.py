"""Avro schema compatibility, checked locally so a refusal can name the field.

The registry is the authority (`schemas register` is refused by it), but a Confluent-compatible
registry answers a compatibility test with a bare true/false. This module applies the Avro
specification's schema-resolution rules to say *what* breaks: `problems(reader, writer)` lists
every place where data written with `writer` cannot be read with `reader`, as "path: reason".

BACKWARD means the new schema reads data of the old one; FORWARD the old reads the new; FULL
both; the *_TRANSITIVE forms check against every registered version, not only the latest.
"""

from __future__ import annotations

from typing import Any, Literal

Level = Literal[
    "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"
]

# Writer type -> reader types it may be promoted to (Avro spec, "Schema Resolution").
_PROMOTIONS = {
    "int": {"int", "long", "float", "double"},
    "long": {"long", "float", "double"},
    "float": {"float", "double"},
    "string": {"string", "bytes"},
    "bytes": {"bytes", "string"},
}
_NAMED = {"record", "enum", "fixed"}


def _type_of(schema: Any) -> str:
    if isinstance(schema, list):
        return "union"
    if isinstance(schema, dict):
        return str(schema["type"])
    return str(schema)


def _short_name(schema: Any) -> str:
    return str(schema.get("name", "")).rsplit(".", 1)[-1]


def problems(reader: Any, writer: Any, path: str = "") -> list[str]:
    """Why `reader` cannot read data written with `writer` (empty list: it can)."""
    here = path or "/"
    reader_type, writer_type = _type_of(reader), _type_of(writer)
    if writer_type == "union":
        # Every branch the writer may have used must be readable.
        return [p for branch in writer for p in problems(reader, branch, path)]
    if reader_type == "union":
        if any(not problems(branch, writer, path) for branch in reader):
            return []
        return [f"{here}: {writer_type} is not readable as any of the union's branches"]
    if reader_type != writer_type:
        if writer_type in _PROMOTIONS and reader_type in _PROMOTIONS[writer_type]:
            return []
        return [f"{here}: type changed from {writer_type} to {reader_type}"]
    if reader_type in _NAMED and _short_name(reader) != _short_name(writer):
        old, new = _short_name(writer), _short_name(reader)
        return [f"{here}: {reader_type} name changed from {old} to {new}"]
    if reader_type == "record":
        return _record_problems(reader, writer, path)
    if reader_type == "enum":
        missing = [s for s in writer["symbols"] if s not in reader["symbols"]]
        if missing and "default" not in reader:
            return [f"{here}: enum symbols {missing} unknown to the reader, which has no default"]
        return []
    if reader_type == "array":
        return problems(reader["items"], writer["items"], f"{path}/items")
    if reader_type == "map":
        return problems(reader["values"], writer["values"], f"{path}/values")
    if reader_type == "fixed" and reader["size"] != writer["size"]:
        return [f"{here}: fixed size changed from {writer['size']} to {reader['size']}"]
    return []


def _record_problems(reader: dict[str, Any], writer: dict[str, Any], path: str) -> list[str]:
    writer_fields = {field["name"]: field for field in writer["fields"]}
    for field in writer["fields"]:
        for alias in field.get("aliases", []):
            writer_fields.setdefault(alias, field)
    found: list[str] = []
    for field in reader["fields"]:
        field_path = f"{path}/{field['name']}"
        names = [field["name"], *field.get("aliases", [])]
        source = next((writer_fields[n] for n in names if n in writer_fields), None)
        if source is None:
            if "default" not in field:
                found.append(
                    f"{field_path}: the reader needs this field (no default), the writer lacks it"
                )
            continue
        found += problems(field["type"], source["type"], field_path)
    return found


def compatibility_problems(new: Any, registered: list[Any], level: Level) -> list[str]:
    """Problems of `new` against the registered versions (oldest first) under `level`."""
    against = registered if level.endswith("_TRANSITIVE") else registered[-1:]
    base = level.removesuffix("_TRANSITIVE")
    found: list[str] = []
    for version, old in enumerate(against, start=len(registered) - len(against) + 1):
        if base in {"BACKWARD", "FULL"}:
            found += [f"new schema cannot read v{version}: {p}" for p in problems(new, old)]
        if base in {"FORWARD", "FULL"}:
            found += [f"v{version} cannot read the new schema: {p}" for p in problems(old, new)]
    return found
