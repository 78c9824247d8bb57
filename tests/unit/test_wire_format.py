from __future__ import annotations

import io

import fastavro
import pytest

from services.common.avro import encode_wire, split_wire
from services.common.errors import SerializationError
from services.common.records import Filing
from services.common.schemas import SchemaName, schema_dict
from tests.support.records import sample_filing


def test_confluent_framing_and_avro_body_round_trip() -> None:
    parsed = fastavro.parse_schema(schema_dict(SchemaName.FILING))
    filing = sample_filing()
    data = encode_wire(42, parsed, filing.to_avro())
    assert data[:5] == b"\x00\x00\x00\x00\x2a"
    schema_id, body = split_wire(data)
    assert schema_id == 42
    decoded = fastavro.schemaless_reader(io.BytesIO(body), parsed, None)
    assert isinstance(decoded, dict)
    assert Filing.from_avro(decoded) == filing


@pytest.mark.parametrize("data", [None, b"", b"\x00\x00", b"\x01\x00\x00\x00\x01abc"])
def test_values_that_are_not_confluent_framed_are_refused(data: bytes | None) -> None:
    with pytest.raises(SerializationError):
        split_wire(data)


def test_a_record_that_does_not_fit_the_schema_is_refused() -> None:
    parsed = fastavro.parse_schema(schema_dict(SchemaName.FILING))
    record = sample_filing().to_avro()
    del record["form_type"]
    with pytest.raises(SerializationError, match="does not fit"):
        encode_wire(1, parsed, record)
