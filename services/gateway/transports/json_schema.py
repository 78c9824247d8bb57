"""JSON Schema (2020-12, as OpenAPI 3.1 uses it) of a record as the gateway serves it in JSON.

Derived from the Avro schema in schemas/, so the OpenAPI document cannot drift from the
records: a field added to the .avsc appears in the API description with its `doc`. The JSON
mapping is the protocol's: timestamps are ISO-8601 UTC strings, dates `YYYY-MM-DD`, enums their
symbol, maps objects, a union with null a value that may be null. Every field of a record is
present in the JSON (Avro has no absent fields), so all are required; other properties are
allowed, since a reader must accept fields that a newer schema version adds.
"""

from __future__ import annotations

from typing import Any

_PRIMITIVES = {
    "null": "null",
    "boolean": "boolean",
    "int": "integer",
    "long": "integer",
    "float": "number",
    "double": "number",
    "string": "string",
}
_LOGICAL_FORMATS = {
    "timestamp-millis": "date-time",
    "timestamp-micros": "date-time",
    "date": "date",
}


def record_schemas(avro: dict[str, Any], ref_prefix: str) -> dict[str, dict[str, Any]]:
    """Every record type of `avro` by its short name, nested ones as `{"$ref": ref_prefix+name}`.

    `avro` is a schema with its named types inlined (services.common.schemas.schema_dict).
    """
    converter = _Converter(ref_prefix)
    converter.convert(avro)
    return converter.records


class _Converter:
    def __init__(self, ref_prefix: str) -> None:
        self._ref_prefix = ref_prefix
        self.records: dict[str, dict[str, Any]] = {}
        self._named: dict[str, dict[str, Any]] = {}  # what a later reference by name stands for

    def convert(self, avro: Any) -> dict[str, Any]:
        if isinstance(avro, list):
            return {"anyOf": [self.convert(member) for member in avro]}
        if isinstance(avro, str):
            if avro in _PRIMITIVES:
                return {"type": _PRIMITIVES[avro]}
            return self._named[_short(avro)]
        kind = avro["type"]
        if (form := _LOGICAL_FORMATS.get(avro.get("logicalType", ""))) is not None:
            return {"type": "string", "format": form}
        if kind == "record":
            return self._record(avro)
        if kind == "enum":
            return self._define(avro, _described({"type": "string", "enum": avro["symbols"]}, avro))
        if kind == "array":
            return {"type": "array", "items": self.convert(avro["items"])}
        if kind == "map":
            return {"type": "object", "additionalProperties": self.convert(avro["values"])}
        if kind in _PRIMITIVES:  # {"type": "string"}
            return {"type": _PRIMITIVES[kind]}
        raise ValueError(f"Avro type {kind!r} has no JSON mapping in the gateway")

    def _record(self, avro: dict[str, Any]) -> dict[str, Any]:
        name = _short(avro["name"])
        reference = self._define(avro, {"$ref": self._ref_prefix + name})
        fields = avro["fields"]
        self.records[name] = _described(
            {
                "type": "object",
                "properties": {
                    field["name"]: _described(self.convert(field["type"]), field)
                    for field in fields
                },
                "required": [field["name"] for field in fields],
            },
            avro,
        )
        return reference

    def _define(self, avro: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
        self._named[_short(avro["name"])] = schema
        return schema


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _described(schema: dict[str, Any], avro: dict[str, Any]) -> dict[str, Any]:
    if "doc" not in avro:
        return schema
    return {**schema, "description": avro["doc"]}
