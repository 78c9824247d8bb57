"""Avro records in the Confluent wire format, with schemas from the registry.

Wire format: magic byte 0, the 4-byte big-endian schema id, then the Avro binary body, so that
confluent-kafka's AvroDeserializer, kcat and Java consumers decode our records with the registry
alone. Encoding uses the one schema this process writes (its id looked up once at start-up);
decoding accepts any registered version, fetching an unknown writer schema once and resolving it
against the reader schema. fastavro does the Avro work directly: the per-record path is one
`schemaless_writer`/`schemaless_reader` call and a dict lookup.
"""

from __future__ import annotations

import io
import struct
from typing import Any

import fastavro

from services.common.errors import SerializationError
from services.common.registry import RegistryClient, schema_id_of, writer_schema_of
from services.common.schemas import SchemaName, schema_dict

MAGIC_BYTE = 0
_HEADER = struct.Struct(">bI")


def encode_wire(schema_id: int, parsed_schema: Any, record: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    buffer.write(_HEADER.pack(MAGIC_BYTE, schema_id))
    try:
        fastavro.schemaless_writer(buffer, parsed_schema, record, strict_allow_default=True)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise SerializationError(f"record does not fit schema id {schema_id}: {exc}") from exc
    return buffer.getvalue()


def split_wire(data: bytes | None) -> tuple[int, memoryview]:
    """(schema id, Avro body) of a Confluent-framed value."""
    if data is None or len(data) < _HEADER.size:
        raise SerializationError("value is empty or shorter than the 5-byte Confluent header")
    magic, schema_id = _HEADER.unpack_from(data)
    if magic != MAGIC_BYTE:
        raise SerializationError(f"unknown magic byte {magic} (not Confluent wire format)")
    return schema_id, memoryview(data)[_HEADER.size :]


class AvroCodec:
    """Writes `schema` under `subject`; reads any version a writer registered."""

    def __init__(self, registry: RegistryClient, subject: str, schema: SchemaName):
        self._registry = registry
        self._subject = subject
        self._reader_schema = fastavro.parse_schema(schema_dict(schema))
        self._schema_name = schema
        self._schema_id: int | None = None
        self._writer_schemas: dict[int, Any] = {}

    async def open(self) -> AvroCodec:
        """Look up the id of our schema; it must have been registered (`schemas register`)."""
        self._schema_id = await schema_id_of(self._registry, self._subject, self._schema_name)
        self._writer_schemas[self._schema_id] = self._reader_schema
        return self

    @property
    def schema_id(self) -> int:
        if self._schema_id is None:
            raise SerializationError("AvroCodec.open() was not awaited")
        return self._schema_id

    def encode(self, record: dict[str, Any]) -> bytes:
        return encode_wire(self.schema_id, self._reader_schema, record)

    async def decode(self, data: bytes | None) -> dict[str, Any]:
        schema_id, body = split_wire(data)
        writer = self._writer_schemas.get(schema_id)
        if writer is None:
            writer = fastavro.parse_schema(await writer_schema_of(self._registry, schema_id))
            self._writer_schemas[schema_id] = writer
        return self._decode_body(schema_id, writer, body)

    def _decode_body(self, schema_id: int, writer: Any, body: memoryview) -> dict[str, Any]:
        # Resolution is only needed when the writer used another version than ours.
        reader = None if writer is self._reader_schema else self._reader_schema
        try:
            record = fastavro.schemaless_reader(io.BytesIO(body), writer, reader)
        except (ValueError, TypeError, EOFError, IndexError, KeyError, StopIteration) as exc:
            raise SerializationError(
                f"cannot decode a record of schema id {schema_id} as {self._schema_name}: {exc}"
            ) from exc
        if not isinstance(record, dict):
            raise SerializationError(f"schema id {schema_id} does not describe a record")
        return record
