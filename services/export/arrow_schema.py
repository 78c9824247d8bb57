"""The Arrow schema of an Avro record schema, so Parquet columns are typed by the record's
schema rather than guessed from whatever values a batch happens to hold (an empty map, a null
in every row of a row group).

Avro unions with null become nullable fields, enums strings, maps Arrow maps keyed by string,
timestamp-millis UTC timestamps and date date32: what an analytics reader expects of each.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from services.common.errors import SerializationError

_PRIMITIVES: dict[str, pa.DataType] = {
    "null": pa.null(),
    "boolean": pa.bool_(),
    "int": pa.int32(),
    "long": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
    "bytes": pa.binary(),
    "string": pa.string(),
}
_LOGICAL: dict[str, pa.DataType] = {
    "timestamp-millis": pa.timestamp("ms", tz="UTC"),
    "timestamp-micros": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
}


def arrow_schema(record_schema: dict[str, Any]) -> pa.Schema:
    converter = _Converter()
    return pa.schema([converter.field(f) for f in record_schema["fields"]])


class _Converter:
    def __init__(self) -> None:
        # Named types (records, enums, fixed) by short name: a schema may define one once and
        # refer to it by name afterwards. Our schemas use one namespace, so short names are
        # unique.
        self._named: dict[str, pa.DataType] = {}

    def field(self, avro_field: dict[str, Any]) -> pa.Field:
        arrow_type, nullable = self._type(avro_field["type"])
        return pa.field(avro_field["name"], arrow_type, nullable=nullable)

    def _type(self, avro: Any) -> tuple[pa.DataType, bool]:
        if isinstance(avro, list):
            branches = [b for b in avro if b != "null"]
            if len(branches) != 1:
                raise SerializationError(f"no Arrow type for the union {avro} (one non-null only)")
            return self._type(branches[0])[0], len(branches) < len(avro)
        if isinstance(avro, str):
            # A reference may be the full name or, within its namespace, the short one.
            known = _PRIMITIVES.get(avro) or self._named.get(avro.rsplit(".", 1)[-1])
            if known is None:
                raise SerializationError(f"unknown Avro type {avro!r}")
            return known, False
        return self._complex(avro), False

    def _complex(self, avro: dict[str, Any]) -> pa.DataType:
        kind = avro["type"]
        if avro.get("logicalType") in _LOGICAL:
            return _LOGICAL[avro["logicalType"]]
        if kind == "record":
            arrow_type: pa.DataType = pa.struct([self.field(f) for f in avro["fields"]])
        elif kind == "enum":
            arrow_type = pa.string()
        elif kind == "fixed":
            arrow_type = pa.binary(avro["size"])
        elif kind == "array":
            return pa.list_(self._type(avro["items"])[0])
        elif kind == "map":
            return pa.map_(pa.string(), self._type(avro["values"])[0])
        else:
            return self._type(kind)[0]  # {"type": "string"} and the like
        self._named[avro["name"].rsplit(".", 1)[-1]] = arrow_type
        return arrow_type
