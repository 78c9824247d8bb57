"""AvroReader (cavro) reads what fastavro writes exactly as fastavro reads it, for every
released version of our schemas, and says clearly what it cannot read; the replay workers'
`transcode` turns a batch into the JSON a client gets, or into notices."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import fastavro
import pytest

from services.common.avro import AvroReader
from services.common.errors import SerializationError
from services.common.filters import Filter
from services.common.positions import RunningCursor, format_cursor
from services.common.record_json import record_json
from services.common.schemas import SchemaName, schema_dict
from services.gateway.stream.transcoding import Undecodable, transcode
from tests.support.facts_records import SALE_DOCUMENT, insider_record
from tests.support.records import sample_analysis, sample_filing

RELEASED = Path(__file__).resolve().parents[2] / "schemas" / "released"


def _released(name: SchemaName) -> list[dict[str, Any]]:
    found = sorted(RELEASED.glob(f"*/{name.value}.avsc"))
    assert found, f"no released version of {name}"
    return [json.loads(path.read_text()) for path in found]


def _wire(schema_id: int, writer: dict[str, Any], record: dict[str, Any]) -> bytes:
    body = io.BytesIO()
    fastavro.schemaless_writer(body, fastavro.parse_schema(writer), record)
    return b"\x00" + schema_id.to_bytes(4, "big") + body.getvalue()


def _fastavro_reads(writer: dict[str, Any], name: SchemaName, value: bytes) -> Any:
    reader = fastavro.parse_schema(schema_dict(name))
    return fastavro.schemaless_reader(io.BytesIO(value[5:]), fastavro.parse_schema(writer), reader)


ANALYSES = [sample_analysis(1), insider_record(2), insider_record(3, SALE_DOCUMENT)]


@pytest.mark.parametrize("name", [SchemaName.FILING_ANALYSIS, SchemaName.FILING])
def test_every_released_and_the_current_version_reads_as_fastavro_reads_it(
    name: SchemaName,
) -> None:
    records = ANALYSES if name is SchemaName.FILING_ANALYSIS else [sample_filing(4).to_avro()]
    reader = AvroReader(name)
    writers = [*_released(name), schema_dict(name)]
    for schema_id, writer in enumerate(writers, start=1):
        reader.add_writer(schema_id, writer)
        fields = {field["name"] for field in writer["fields"]}
        for record in records:
            value = _wire(schema_id, writer, {k: v for k, v in record.items() if k in fields})
            decoded = reader.decode(value)
            assert decoded == _fastavro_reads(writer, name, value)
            assert record_json(decoded) == record_json(_fastavro_reads(writer, name, value))


@pytest.mark.parametrize(
    "value",
    [None, b"", b"\x01\x00\x00\x00\x01abc", b"\x00\x00\x00\x00\x09abc", b"\x00\x00\x00\x00\x01"],
    ids=["none", "empty", "magic", "unknown-id", "no-body"],
)
def test_what_is_not_a_record_is_a_serialization_error(value: bytes | None) -> None:
    reader = AvroReader(SchemaName.FILING_ANALYSIS)
    reader.add_writer(1, schema_dict(SchemaName.FILING_ANALYSIS))
    with pytest.raises(SerializationError):
        reader.decode(value)


def test_a_writer_schema_ours_cannot_read_is_refused_by_name() -> None:
    reader = AvroReader(SchemaName.FILING_ANALYSIS)
    with pytest.raises(SerializationError, match="schema id 7"):
        reader.add_writer(7, {"type": "record", "name": "Other", "fields": []})
    assert not reader.knows(7)


def test_transcode_gives_the_json_of_what_the_filter_wants_and_notices_in_place() -> None:
    name, analyzed = SchemaName.FILING_ANALYSIS, schema_dict(SchemaName.FILING_ANALYSIS)
    apple = _wire(1, analyzed, sample_analysis(1, ticker="AAPL"))
    jpm = _wire(1, analyzed, sample_analysis(2, ticker="JPM"))
    values = [apple, b"not Avro", b"\x00\x00\x00\x00\x05" + jpm[5:], jpm]
    everything = transcode(name, {1: analyzed}, {5: "gone"}, values, Filter())
    assert everything == [
        record_json(_fastavro_reads(analyzed, name, apple)),
        Undecodable("unknown magic byte 110 (not Confluent wire format)"),
        Undecodable("gone"),  # why the registry had no schema 5
        record_json(_fastavro_reads(analyzed, name, jpm)),
    ]
    apple_only = Filter(tickers=frozenset({"AAPL"}))
    filtered = transcode(name, {1: analyzed}, {5: "gone"}, values, apple_only)
    assert filtered == [everything[0], everything[1], everything[2], None]


def test_a_running_cursor_is_format_cursor_as_partitions_move() -> None:
    positions = {2: 5, 0: 7, 10: 0, 1: 3}
    cursor = RunningCursor(positions)
    for partition, offset in [(0, 8), (10, 1), (2, 6), (0, 9), (1, 4)]:
        positions[partition] = offset
        assert cursor.move(partition, offset) == format_cursor(positions)
