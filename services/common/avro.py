"""Avro records in the Confluent wire format, with schemas from the registry.

Wire format: magic byte 0, the 4-byte big-endian schema id, then the Avro binary body, so that
confluent-kafka's AvroDeserializer, kcat and Java consumers decode our records with the registry
alone. Encoding uses the one schema this process writes (its id looked up once at start-up);
decoding accepts any registered version, fetching an unknown writer schema once and resolving it
against the reader schema. fastavro writes and cavro reads (`AvroReader`), each directly: the
per-record path is one `schemaless_writer` or `binary_decode` call and a dict lookup.
"""

from __future__ import annotations

import io
import struct
from typing import Any

import cavro
import fastavro

from services.common.errors import SerializationError
from services.common.registry import RegistryClient, schema_id_of, writer_schema_of
from services.common.schemas import SchemaName, schema_dict

MAGIC_BYTE = 0
_HEADER = struct.Struct(">bI")
# Records as dicts (not cavro's record classes), as fastavro writes them.
_CAVRO_OPTIONS = cavro.DEFAULT_OPTIONS.replace(record_decodes_to_dict=True)


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


class AvroReader:
    """Reads records as `schema` from the writer schemas it was given: no registry, no I/O, so
    it works anywhere, a worker process included (services/gateway/stream/transcoding.py).

    cavro reads, fastavro writes: cavro's reader takes half the time of fastavro's for our
    records (bench/serialization.py), and reading is what replays and every consumer do, once
    per record; the two give the same dicts for every version of our schemas
    (tests/unit/test_avro_reader.py)."""

    def __init__(self, schema: SchemaName) -> None:
        self.schema_name = schema
        self._reader = cavro.Schema(schema_dict(schema), options=_CAVRO_OPTIONS)
        self._writer_schemas: dict[int, Any] = {}

    def knows(self, schema_id: int) -> bool:
        return schema_id in self._writer_schemas

    def add_writer(self, schema_id: int, writer: Any) -> None:
        """Read what `writer` (a schema as JSON, from the registry) wrote: resolved against
        our version unless it is ours. `SerializationError` if ours cannot read it."""
        if writer == schema_dict(self.schema_name):
            self._writer_schemas[schema_id] = self._reader
            return
        try:
            written = cavro.Schema(writer, options=_CAVRO_OPTIONS)
            self._writer_schemas[schema_id] = self._reader.reader_for_writer(written)
        except (ValueError, TypeError, KeyError, cavro.CavroException) as exc:
            raise SerializationError(
                f"schema id {schema_id} cannot be read as {self.schema_name}: {exc}"
            ) from exc

    def decode(self, data: bytes | None) -> dict[str, Any]:
        """The record; `SerializationError` if it is not one, or its writer schema is not known."""
        schema_id, _ = split_wire(data)
        assert data is not None  # split_wire refuses None
        writer = self._writer_schemas.get(schema_id)
        if writer is None:
            raise SerializationError(f"schema id {schema_id} is not known to this reader")
        try:
            record = writer.binary_decode(data[_HEADER.size :])
        except (ValueError, TypeError, EOFError, IndexError, KeyError, cavro.CavroException) as exc:
            raise SerializationError(
                f"cannot decode a record of schema id {schema_id} as {self.schema_name}: {exc}"
            ) from exc
        if not isinstance(record, dict):
            raise SerializationError(f"schema id {schema_id} does not describe a record")
        return record


class AvroCodec:
    """Writes `schema` under `subject`; reads any version a writer registered."""

    def __init__(self, registry: RegistryClient, subject: str, schema: SchemaName):
        self._registry = registry
        self._subject = subject
        self._reader = AvroReader(schema)
        self._writer_schema = fastavro.parse_schema(schema_dict(schema))
        self._schema_name = schema
        self._schema_id: int | None = None
        # As the registry gave them, unparsed: what another process needs to read the records.
        self._writer_schema_texts: dict[int, Any] = {}

    async def open(self) -> AvroCodec:
        """Look up the id of our schema; it must have been registered (`schemas register`)."""
        self._schema_id = await schema_id_of(self._registry, self._subject, self._schema_name)
        self._reader.add_writer(self._schema_id, schema_dict(self._schema_name))
        self._writer_schema_texts[self._schema_id] = schema_dict(self._schema_name)
        return self

    @property
    def schema_id(self) -> int:
        if self._schema_id is None:
            raise SerializationError("AvroCodec.open() was not awaited")
        return self._schema_id

    @property
    def schema_name(self) -> SchemaName:
        return self._schema_name

    def encode(self, record: dict[str, Any]) -> bytes:
        return encode_wire(self.schema_id, self._writer_schema, record)

    async def decode(self, data: bytes | None) -> dict[str, Any]:
        schema_id, _ = split_wire(data)
        await self.learn(schema_id)
        return self._reader.decode(data)

    async def learn(self, schema_id: int) -> None:
        """Fetch the writer schema `schema_id` from the registry unless it is known already;
        `SchemaRegistryError` if the registry does not have it."""
        if not self._reader.knows(schema_id):
            writer = await writer_schema_of(self._registry, schema_id)
            self._reader.add_writer(schema_id, writer)
            self._writer_schema_texts[schema_id] = writer

    def writer_schema(self, schema_id: int) -> Any:
        """The writer schema `schema_id` as the registry gave it (learnt before)."""
        return self._writer_schema_texts[schema_id]
