"""Schema evolution: the registry and `schemas check` refuse what breaks FULL_TRANSITIVE, and
records of v1 and v2 of FilingAnalysis are read by readers of either version."""

from __future__ import annotations

import copy
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from services.analyze.reading.facts import FilingFacts
from services.analyze.reading.forms.earnings_release import extract_earnings
from services.analyze.reading.forms.item_facts import extract_item_facts
from services.analyze.reading.forms.ownership import parse_ownership
from services.common.registry import open_registry, subject_for
from services.common.schemas import SchemaName, schema_dict
from services.common.settings import TopicSettings
from tests.support.cli import environment_for, run_cli
from tests.support.facts_corpus import OWNERSHIP_DIR
from tests.support.records import sample_analysis

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def _filing_fields(schema: dict[str, Any]) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = schema["fields"]
    return fields


def _propose(tmp_path: Path, change: Any) -> Path:
    """A copy of schemas/ with the Filing schema changed by `change(fields)`."""
    proposed = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, proposed, ignore=shutil.ignore_patterns("released", "__*"))
    path = proposed / f"{SchemaName.FILING}.avsc"
    filing = json.loads(path.read_text())
    change(_filing_fields(filing))
    path.write_text(json.dumps(filing))
    return proposed


def _remove_form_type(fields: list[dict[str, Any]]) -> None:
    fields[:] = [f for f in fields if f["name"] != "form_type"]


def _retype_size(fields: list[dict[str, Any]]) -> None:
    next(f for f in fields if f["name"] == "size_bytes")["type"] = ["null", "string"]


def _add_with_default(fields: list[dict[str, Any]]) -> None:
    fields.append({"name": "sic_code", "type": ["null", "string"], "default": None})


@pytest.mark.asyncio
@pytest.mark.parametrize("change", [_remove_form_type, _retype_size])
async def test_the_registry_refuses_a_breaking_change(topics: TopicSettings, change: Any) -> None:
    broken = copy.deepcopy(schema_dict(SchemaName.FILING))
    change(_filing_fields(broken))
    async with open_registry(topics) as registry:
        with pytest.raises(SchemaRegistryError) as refused:
            await registry.register_schema(
                subject_for(topics.topic_raw), Schema(json.dumps(broken), "AVRO")
            )
    assert refused.value.http_status_code == 409


@pytest.mark.parametrize(
    ("change", "named"),
    [(_remove_form_type, "/form_type"), (_retype_size, "/size_bytes: long is not readable")],
)
def test_schemas_check_fails_naming_the_field(
    topics: TopicSettings, tmp_path: Path, change: Any, named: str
) -> None:
    result = run_cli(
        "schemas",
        "check",
        "--schemas-dir",
        str(_propose(tmp_path, change)),
        env=environment_for(topics),
    )
    assert result.returncode == 1, result.stderr
    assert f"{subject_for(topics.topic_raw)}: INCOMPATIBLE (FULL_TRANSITIVE)" in result.stderr
    assert named in result.stderr


@pytest.mark.asyncio
async def test_a_compatible_change_passes_the_check_and_registers(
    topics: TopicSettings, tmp_path: Path
) -> None:
    proposed = _propose(tmp_path, _add_with_default)
    result = run_cli(
        "schemas", "check", "--schemas-dir", str(proposed), env=environment_for(topics)
    )
    assert result.returncode == 0, result.stderr
    assert f"{subject_for(topics.topic_raw)}: compatible with 1 version(s)" in result.stderr
    new = (proposed / f"{SchemaName.FILING}.avsc").read_text()
    async with open_registry(topics) as registry:
        schema_id = await registry.register_schema(
            subject_for(topics.topic_raw), Schema(json.dumps(json.loads(new)), "AVRO")
        )
        versions = await registry.get_versions(subject_for(topics.topic_raw))
    assert schema_id > 0
    assert len(versions) == 2


def _produce_and_read(
    topics: TopicSettings,
    writer_schema: dict[str, Any],
    record: dict[str, Any],
    reader_schema: dict[str, Any],
) -> Any:
    """Write `record` with `writer_schema` (registered under the analyzed subject), read it back
    with a plain confluent-kafka consumer whose AvroDeserializer holds `reader_schema`."""
    topic, key = topics.topic_analyzed, str(uuid.uuid4()).encode()
    context = SerializationContext(topic, MessageField.VALUE)
    with SchemaRegistryClient({"url": topics.schema_registry_url}) as registry:
        serializer = AvroSerializer(registry, json.dumps(writer_schema))
        producer = Producer({"bootstrap.servers": topics.kafka_bootstrap_servers})
        producer.produce(topic, key=key, value=serializer(record, context))
        producer.flush(30)
        consumer = Consumer(
            {
                "bootstrap.servers": topics.kafka_bootstrap_servers,
                "group.id": f"r-{uuid.uuid4()}",
                "auto.offset.reset": "earliest",
            }
        )
        try:
            consumer.subscribe([topic])
            value = None
            while value is None:
                message = consumer.poll(1.0)
                if message is not None and message.error() is None and message.key() == key:
                    value = message.value()
        finally:
            consumer.close()
        reader = AvroDeserializer(registry, json.dumps(reader_schema))
        return reader(value, context)


def _v2_record() -> dict[str, Any]:
    """An analysis of the real Form 4 aapl-4-2.xml with every v2 field filled."""
    ownership = parse_ownership((OWNERSHIP_DIR / "aapl-4-2.xml").read_bytes())
    earnings = extract_earnings("Net sales for the quarter were $1.2 billion, up 5%.")
    facts = FilingFacts(
        ownership=ownership,
        earnings=earnings,
        item_facts=extract_item_facts(
            {"5.02": "Jane Doe will resign as Chief Financial Officer, effective May 1."}
        ),
    )
    return sample_analysis(3, form_type="4") | facts.to_avro_fields()


def test_a_v1_reader_reads_v2_records_on_the_real_registry(topics: TopicSettings) -> None:
    v1 = json.loads(
        (SCHEMAS / "released" / "v1" / f"{SchemaName.FILING_ANALYSIS}.avsc").read_text()
    )
    v2 = schema_dict(SchemaName.FILING_ANALYSIS)
    record = _v2_record()
    read = _produce_and_read(topics, v2, record, reader_schema=v1)
    assert {"ownership", "earnings", "item_facts"}.isdisjoint(read)
    assert read["analysis"] == record["analysis"]  # metrics and all, as v1 consumers had them
    assert read["filing"]["accession_number"] == record["filing"]["accession_number"]


def test_a_v2_reader_reads_v1_records_on_the_real_registry(topics: TopicSettings) -> None:
    v1 = json.loads(
        (SCHEMAS / "released" / "v1" / f"{SchemaName.FILING_ANALYSIS}.avsc").read_text()
    )
    v2 = schema_dict(SchemaName.FILING_ANALYSIS)
    old = sample_analysis(4, form_type="4")
    read = _produce_and_read(topics, v1, old, reader_schema=v2)
    assert (read["ownership"], read["earnings"], read["item_facts"]) == (None, None, [])
    assert read["analysis"] == old["analysis"]
    # And a v2 record through the v2 reader keeps every fact.
    record = _v2_record()
    again = _produce_and_read(topics, v2, record, reader_schema=v2)
    assert again["ownership"]["issuer"]["trading_symbol"] == "AAPL"
    (sale,) = again["ownership"]["transactions"]
    assert (sale["code"], sale["shares"], sale["price_per_share"]) == ("S", 243431.0, 116.89)
    assert sale["rule_10b5_1"] is True
    assert again["earnings"]["figures"][0]["period"] == "quarter"
    assert again["item_facts"][0]["event_type"] == "officer_departure"
