"""A Filing written by the project is readable by the project and by any Kafka client."""

from __future__ import annotations

import re
import subprocess
import uuid
from typing import Any

import pytest
from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from services.common.avro import AvroCodec
from services.common.kafka import (
    KafkaConsumer,
    KafkaProducer,
    SuccessfulMessage,
    consumer_config,
    producer_config,
)
from services.common.records import Filing
from services.common.registry import open_registry, subject_for
from services.common.schemas import SchemaName
from services.common.settings import TopicSettings
from services.infra.artifacts import fetch_artifacts
from services.infra.settings import InfraSettings
from tests.support.records import sample_filing

_BYTES_DESERIALIZER = "org.apache.kafka.common.serialization.BytesDeserializer"


async def _produce(settings: TopicSettings, filing: Filing) -> int:
    """Write one Filing the way ingest does; returns the schema id used."""
    async with open_registry(settings) as registry:
        codec = await AvroCodec(registry, subject_for(settings.topic_raw), SchemaName.FILING).open()
        async with KafkaProducer(producer_config(settings, client_id="test")) as producer:
            await producer.send(
                settings.topic_raw,
                key=filing.accession_number.encode(),
                value=codec.encode(filing.to_avro()),
            )
        return codec.schema_id


@pytest.mark.asyncio
async def test_a_filing_round_trips_through_registry_and_broker(topics: TopicSettings) -> None:
    filing = sample_filing()
    await _produce(topics, filing)
    config = consumer_config(topics, client_id="test", group_id=f"test-{uuid.uuid4()}")
    async with open_registry(topics) as registry, KafkaConsumer(config) as consumer:
        codec = await AvroCodec(registry, subject_for(topics.topic_raw), SchemaName.FILING).open()
        await consumer.subscribe([topics.topic_raw])
        messages: list[SuccessfulMessage] = []
        while not messages:
            messages = await consumer.consume(max_records=10, wait_s=1)
        assert len(messages) == 1
        assert messages[0].key() == filing.accession_number.encode()
        assert Filing.from_avro(await codec.decode(messages[0].value())) == filing


@pytest.mark.asyncio
async def test_a_plain_confluent_consumer_decodes_it_with_the_registry_alone(
    topics: TopicSettings,
) -> None:
    filing = sample_filing(7)
    await _produce(topics, filing)

    # From here on nothing of the project: the addresses, a Consumer and AvroDeserializer.
    bootstrap, registry_url = topics.kafka_bootstrap_servers, topics.schema_registry_url
    with SchemaRegistryClient({"url": registry_url}) as registry:
        deserializer = AvroDeserializer(registry)
        value = _first_value(bootstrap, topics.topic_raw, deserializer)
    assert value["accession_number"] == filing.accession_number
    assert value["entities"][0]["tickers"] == ["JPM"]
    assert value["accepted_at"] == filing.accepted_at
    assert value["filed_date"] == filing.filed_date
    assert value["source"] == "live"


def _first_value(bootstrap: str, topic: str, deserializer: AvroDeserializer) -> Any:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"plain-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
        }
    )
    try:
        consumer.subscribe([topic])
        message = None
        while message is None:
            message = consumer.poll(1.0)
        assert message.error() is None
        return deserializer(message.value(), SerializationContext(topic, MessageField.VALUE))
    finally:
        consumer.close()


@pytest.mark.asyncio
async def test_kafkas_console_consumer_shows_magic_byte_and_schema_id(
    infra: InfraSettings, topics: TopicSettings
) -> None:
    schema_id = await _produce(topics, sample_filing(9))
    libs = fetch_artifacts(infra.infra_cache_dir).kafka_libs
    result = subprocess.run(  # noqa: ASYNC221 (the test waits for it anyway)
        [
            "java",
            "-cp",
            f"{libs}/*",
            "org.apache.kafka.tools.consumer.ConsoleConsumer",
            "--bootstrap-server",
            topics.kafka_bootstrap_servers,
            "--topic",
            topics.topic_raw,
            "--from-beginning",
            "--max-messages",
            "1",
            "--timeout-ms",
            "60000",
            "--property",
            f"value.deserializer={_BYTES_DESERIALIZER}",
            "--property",
            "print.key=true",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    key, value = result.stdout.splitlines()[0].split("\t", 1)
    assert key == "0000019617-26-000009"
    # Bytes are printed with non-printables escaped: magic 0x00, then the id as 4 bytes.
    header = re.match(r"\\x00((?:\\x[0-9A-F]{2}|.){4})", value)
    assert header is not None, value[:60]
    id_bytes = re.findall(r"\\x([0-9A-F]{2})|(.)", header.group(1))
    decoded = bytes(int(hexa, 16) if hexa else ord(char) for hexa, char in id_bytes)
    assert int.from_bytes(decoded, "big") == schema_id
