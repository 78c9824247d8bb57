"""`sec-digester export` as a user runs it: its own process, reading the real topics.

What an export holds is compared with what is on the topic as a plain Kafka client reads it
(tests/support/topic_reader.py: confluent-kafka and the registry only), so the range arithmetic
(markers of transactions take offsets, a cursor is exclusive) is checked against the broker's
own offsets, not against the export's idea of them.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from services.common.avro import AvroCodec
from services.common.kafka import KafkaProducer, producer_config
from services.common.registry import open_registry, subject_for
from services.common.schemas import SchemaName
from services.common.settings import TopicSettings
from tests.support.cli import environment_for, run_cli
from tests.support.facts_records import earnings_record, insider_record
from tests.support.filing_json import as_served
from tests.support.gateway import publish_analyses
from tests.support.records import sample_analysis, with_text
from tests.support.topic_reader import TopicRecord, read_topic

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(240)]


def _analyses(first: int, count: int) -> list[dict[str, Any]]:
    records = []
    for sequence in range(first, first + count):
        record = sample_analysis(sequence, ticker=f"T{sequence % 7}", priority="high")
        # A map with an entry, so Parquet's map column is checked with content.
        record["analysis"]["metrics"] = {
            "revenue": {"value": 1.5e9 + sequence, "unit": "USD", "text": f"rev {sequence}"}
        }
        records.append(record)
    return records


def _on_topic(settings: TopicSettings) -> list[TopicRecord]:
    return read_topic(
        settings.kafka_bootstrap_servers, settings.schema_registry_url, settings.topic_analyzed
    )


def _export(settings: TopicSettings, out: Path, *args: str) -> str:
    result = run_cli("export", "--out", str(out), *args, env=environment_for(settings))
    assert result.returncode == 0, result.stderr
    return result.stderr


def _files(directory: Path, pattern: str) -> list[Path]:
    return list(directory.glob(pattern))


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _by_accession(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(records, key=lambda r: str(r["filing"]["accession_number"]))


def _served(records: list[TopicRecord]) -> list[dict[str, Any]]:
    return _by_accession([as_served(r.value) for r in records])


def _parquet_rows(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    for row in rows:  # Arrow hands maps back as (key, value) pairs
        row["analysis"]["metrics"] = dict(row["analysis"]["metrics"])
    return _by_accession(rows)


async def test_whole_topic_of_several_partitions_to_jsonl_and_parquet(
    three_partitions: TopicSettings, tmp_path: Path
) -> None:
    # Two transactions: each leaves a commit marker that takes an offset in every partition.
    await publish_analyses(three_partitions, _analyses(1, 20))
    await publish_analyses(three_partitions, _analyses(21, 20))
    on_topic = _on_topic(three_partitions)
    assert len(on_topic) == 40
    assert len({r.partition for r in on_topic}) == 3

    summary = _export(three_partitions, tmp_path / "all.jsonl", "--from", "earliest")
    exported = _jsonl(tmp_path / "all.jsonl")
    assert _by_accession(exported) == _served(on_topic)
    assert "exported 40 records" in summary
    assert "\r" not in summary  # stderr is not a terminal: no progress bar, only the summary

    _export(three_partitions, tmp_path / "all.parquet", "--format", "parquet")
    decoded = _by_accession([r.value for r in on_topic])
    assert _parquet_rows(tmp_path / "all.parquet") == decoded
    assert not _files(tmp_path, "*.partial")


async def test_a_time_range(three_partitions: TopicSettings, tmp_path: Path) -> None:
    boundaries = []
    for batch in range(3):
        if batch:
            # Record timestamps are milliseconds: keep each boundary clear of both batches.
            await asyncio.sleep(0.05)
            boundaries.append(dt.datetime.now(dt.UTC))
            await asyncio.sleep(0.05)
        await publish_analyses(three_partitions, _analyses(100 + 10 * batch, 10))
    middle = {f"0000019617-26-{n:06d}" for n in range(110, 120)}
    on_topic = [r for r in _on_topic(three_partitions) if r.key in middle]

    start, end = (moment.isoformat(timespec="milliseconds") for moment in boundaries)
    out = tmp_path / "middle.parquet"
    _export(three_partitions, out, "--from", start, "--to", end, "--format", "parquet")
    assert _parquet_rows(out) == _by_accession([r.value for r in on_topic])

    # A start after everything: an empty export, still a valid file.
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    _export(three_partitions, tmp_path / "none.jsonl", "--from", later)
    assert _jsonl(tmp_path / "none.jsonl") == []


async def test_offset_ranges(
    topics: TopicSettings, three_partitions: TopicSettings, tmp_path: Path
) -> None:
    # One partition: bare offsets, --to exclusive.
    await publish_analyses(topics, _analyses(200, 8))
    single = _on_topic(topics)
    _export(topics, tmp_path / "single.jsonl", "--from", "2", "--to", "5")
    expected = [r for r in single if 2 <= r.offset < 5]
    assert len(expected) == 3
    assert _jsonl(tmp_path / "single.jsonl") == [as_served(r.value) for r in expected]

    # Several partitions: cursors; a partition the --from cursor leaves out starts at 0.
    await publish_analyses(three_partitions, _analyses(300, 30))
    several = _on_topic(three_partitions)
    _export(
        three_partitions, tmp_path / "several.jsonl", "--from", "0:2,1:1", "--to", "0:6,1:4,2:3"
    )
    start, end = {0: 2, 1: 1, 2: 0}, {0: 6, 1: 4, 2: 3}
    expected = [r for r in several if start[r.partition] <= r.offset < end[r.partition]]
    assert expected
    assert _by_accession(_jsonl(tmp_path / "several.jsonl")) == _served(expected)


async def test_the_text_topic_exports_as_json_lines_and_typed_parquet(
    topics: TopicSettings, tmp_path: Path
) -> None:
    records = _analyses(1, 3)
    texts = [
        with_text(record, f"Document {n} text: going concern doubt é漢.")
        for n, record in enumerate(records)
    ]
    await publish_analyses(topics, records, texts)
    on_topic = read_topic(
        topics.kafka_bootstrap_servers, topics.schema_registry_url, topics.topic_text
    )
    assert len(on_topic) == 3
    _export(topics, tmp_path / "text.jsonl", "--topic", "text")
    exported = sorted(_jsonl(tmp_path / "text.jsonl"), key=lambda r: str(r["accession_number"]))
    assert [r["text"] for r in exported] == [t["text"] for t in texts]
    assert exported[0]["analyzed_at"].endswith("Z")
    assert {r["accession_number"] for r in exported} == {r.key for r in on_topic}

    _export(topics, tmp_path / "text.parquet", "--topic", "text", "--format", "parquet")
    schema = pq.read_schema(tmp_path / "text.parquet")
    assert schema.field("text").type == pa.string()
    assert schema.field("truncated").type == pa.bool_()
    assert schema.field("full_bytes").type == pa.int64()
    assert schema.field("analyzed_at").type == pa.timestamp("ms", tz="UTC")
    rows = sorted(
        pq.read_table(tmp_path / "text.parquet").to_pylist(),
        key=lambda r: str(r["accession_number"]),
    )
    assert rows == sorted((r.value for r in on_topic), key=lambda r: str(r["accession_number"]))


async def test_dead_letters_keep_their_bytes_as_base64(
    topics: TopicSettings, tmp_path: Path
) -> None:
    letter = {
        "topic": topics.topic_raw,
        "partition": 0,
        "offset": 41,
        "key": b"k\xff",
        "value": b"\x00not avro",
        "error_type": "SerializationError",
        "reason": "bad magic",
        "service": "analyze",
        "failed_at": dt.datetime(2026, 11, 20, 14, 0, tzinfo=dt.UTC),
    }
    async with open_registry(topics) as registry:
        codec = await AvroCodec(
            registry, subject_for(topics.topic_dlq), SchemaName.DEAD_LETTER
        ).open()
        async with KafkaProducer(producer_config(topics, client_id="dlq-test")) as producer:
            await producer.send(topics.topic_dlq, key=b"k", value=codec.encode(letter))
    _export(topics, tmp_path / "dlq.jsonl", "--topic", "dlq")
    (exported,) = _jsonl(tmp_path / "dlq.jsonl")
    assert base64.b64decode(exported["value"]) == letter["value"]
    assert base64.b64decode(exported["key"]) == letter["key"]
    assert exported["failed_at"] == "2026-11-20T14:00:00Z"
    assert exported["reason"] == "bad magic"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "yesterday"], "--from: 'yesterday' is not earliest, latest"),
        (["--from", "committed"], "--from: committed is a stream client's position"),
        (["--to", "2026-13-45T00:00:00Z"], "--to: '2026-13-45T00:00:00Z' is not a valid time"),
        (["--from", "3"], "--from: a bare offset needs a single-partition topic"),
        (["--from", "9:0"], "--from: the topic has no partition [9]"),
    ],
)
async def test_bad_positions_are_refused_by_name(
    three_partitions: TopicSettings, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "never.jsonl"
    result = run_cli("export", "--out", str(out), *args, env=environment_for(three_partitions))
    assert result.returncode == 1
    assert message in result.stderr
    assert not _files(tmp_path, "*")  # neither the file nor a partial one


async def test_the_facts_of_schema_v2_export_as_typed_nested_columns(
    three_partitions: TopicSettings, tmp_path: Path
) -> None:
    records = [insider_record(1), earnings_record(2), sample_analysis(3)]  # the last: no facts
    await publish_analyses(three_partitions, records)
    on_topic = _on_topic(three_partitions)
    out = tmp_path / "facts.parquet"
    _export(three_partitions, out, "--format", "parquet")

    schema = pq.read_schema(out)
    ownership = schema.field("ownership").type
    transaction = ownership.field("transactions").type.value_type
    assert pa.types.is_struct(transaction)
    assert transaction.field("code").type == pa.string()
    assert transaction.field("value_usd").type == pa.float64()
    assert transaction.field("rule_10b5_1").type == pa.bool_()
    assert ownership.field("owners").type.value_type.field("is_officer").type == pa.bool_()
    figure = schema.field("earnings").type.field("figures").type.value_type
    assert figure.field("prior_value").type == pa.float64()
    assert figure.field("period").type == pa.string()  # an enum: its symbol
    assert schema.field("item_facts").type.value_type.field("role").type == pa.string()

    rows = _parquet_rows(out)
    assert rows == _by_accession([r.value for r in on_topic])
    purchase, results, plain = rows
    assert purchase["ownership"]["transactions"][0]["code"] == "P"
    assert results["earnings"]["figures"][0]["name"] == "revenue"
    assert (plain["ownership"], plain["earnings"], plain["item_facts"]) == (None, None, [])
    # An analytics reader reaches the nested columns with Arrow's compute, no JSON decoding.
    owned = pq.read_table(out, columns=["ownership"]).column("ownership")
    transactions = pc.list_flatten(pc.struct_field(owned, "transactions"))
    assert pc.struct_field(transactions, "code").to_pylist() == ["P", None, None]  # 2 holdings
