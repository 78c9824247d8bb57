"""FilingAnalysis records as the gateway serves them: the protocol's JSON (`data` of a frame)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import fastavro
import orjson

from services.common.record_json import record_json
from services.common.schemas import SchemaName, schema_dict
from tests.support.records import sample_analysis

_SCHEMA = fastavro.parse_schema(schema_dict(SchemaName.FILING_ANALYSIS))


def as_decoded(record: dict[str, Any]) -> dict[str, Any]:
    """An Avro record as a reader of the topic decodes it: written and read back (a record the
    schema rejects fails here; datetimes come back in UTC)."""
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, _SCHEMA, record)
    buffer.seek(0)
    decoded = fastavro.schemaless_reader(buffer, _SCHEMA, _SCHEMA)
    assert isinstance(decoded, dict)
    return decoded


def as_served(record: dict[str, Any]) -> dict[str, Any]:
    """The JSON the gateway makes of an Avro record: decoded as on the topic, then encoded as
    the shared tail encodes it."""
    served: dict[str, Any] = orjson.loads(record_json(as_decoded(record)))
    return served


def filing_record(
    sequence: int,
    *,
    tickers: tuple[str, ...] = ("JPM",),
    form_type: str = "8-K",
    accepted_at: dt.datetime | None = None,
    priority: str = "medium",
) -> dict[str, Any]:
    """An analyzed filing as decoded from the topic; accession 0000019617-26-<sequence>."""
    record = sample_analysis(sequence, ticker=tickers[0], form_type=form_type, priority=priority)
    record["filing"]["tickers"] = list(tickers)
    if accepted_at is not None:
        record["filing"]["accepted_at"] = accepted_at
    # Deterministic, so a record built twice is the same record.
    record["analyzed_at"] = record["filing"]["accepted_at"] + dt.timedelta(seconds=2)
    return as_decoded(record)


def filing_json(
    sequence: int,
    *,
    tickers: tuple[str, ...] = ("JPM",),
    form_type: str = "8-K",
    accepted_at: dt.datetime | None = None,
    priority: str = "medium",
) -> dict[str, Any]:
    """An analyzed filing as served; accession 0000019617-26-<sequence>."""
    decoded = filing_record(
        sequence, tickers=tickers, form_type=form_type, accepted_at=accepted_at, priority=priority
    )
    served: dict[str, Any] = orjson.loads(record_json(decoded))
    return served
