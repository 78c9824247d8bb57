"""Avro (Confluent wire format, registry-aware) against JSON (orjson) on the same records.

Encodes and decodes every filing of a recorded feed snapshot, several rounds, with:
  - the project's AvroCodec (fastavro writes, cavro reads; schema id looked up once in the
    registry), and fastavro's reader on the same bytes (what AvroCodec read with before),
  - confluent-kafka's own AvroSerializer / AvroDeserializer against the same registry,
  - orjson dumps / loads of the same dicts (no schema, no registry; the baseline).
Prints records/s for each and the size of the encoded records.
"""

from __future__ import annotations

import asyncio
import io
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import fastavro
import orjson
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from bench._setup import corpus_filings, local_topics, print_header
from services.common.avro import AvroCodec
from services.common.registry import open_registry, subject_for
from services.common.schemas import SchemaName, schema_dict, schema_text
from tests.support.infra import provision

ROUNDS = 5


def _rate(records: list[Any], work: Callable[[Any], Any]) -> float:
    """Median records/s over ROUNDS passes."""
    rates = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for record in records:
            work(record)
        rates.append(len(records) / (time.perf_counter() - start))
    return statistics.median(rates)


async def _async_rate(records: list[Any], work: Callable[[Any], Awaitable[Any]]) -> float:
    """The same for the codec's decode, which is a coroutine (it may fetch a writer schema)."""
    rates = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for record in records:
            await work(record)
        rates.append(len(records) / (time.perf_counter() - start))
    return statistics.median(rates)


async def main() -> None:
    print_header(
        "Avro vs JSON serialization", "make bench  (or: .venv/bin/python -m bench.serialization)"
    )
    settings = local_topics()
    await provision(settings)
    records = [filing.to_avro() for filing in corpus_filings()]
    context = SerializationContext(settings.topic_raw, MessageField.VALUE)
    async with open_registry(settings) as registry:
        codec = await AvroCodec(registry, subject_for(settings.topic_raw), SchemaName.FILING).open()
        ours = [codec.encode(r) for r in records]
        encode_ours = _rate(records, codec.encode)
        decode_ours = await _async_rate(ours, codec.decode)
    parsed = fastavro.parse_schema(schema_dict(SchemaName.FILING))
    decode_fastavro = _rate(
        ours, lambda data: fastavro.schemaless_reader(io.BytesIO(data[5:]), parsed, None)
    )

    with SchemaRegistryClient({"url": settings.schema_registry_url}) as client:
        serializer = AvroSerializer(
            client,
            schema_text(SchemaName.FILING),
            conf={"auto.register.schemas": False, "use.latest.version": False},
        )
        deserializer = AvroDeserializer(client)
        theirs = [serializer(r, context) for r in records]
        encode_theirs = _rate(records, lambda r: serializer(r, context))
        decode_theirs = _rate(theirs, lambda data: deserializer(data, context))

    # orjson writes datetimes and dates natively (ISO 8601), so the same dicts serve.
    as_json = [orjson.dumps(r) for r in records]
    encode_json = _rate(records, orjson.dumps)
    decode_json = _rate(as_json, orjson.loads)

    def size(blobs: list[bytes]) -> float:
        return statistics.mean(len(b) for b in blobs)

    print(f"   {len(records)} real filings (one feed snapshot), median of {ROUNDS} passes")
    print(f"   {'codec':38} {'encode rec/s':>14} {'decode rec/s':>14} {'bytes/rec':>10}")
    for name, enc, dec, blobs in [
        ("sec-digester AvroCodec (fastavro, cavro)", encode_ours, decode_ours, ours),
        ("fastavro schemaless_reader", float("nan"), decode_fastavro, ours),
        ("confluent-kafka AvroSerializer", encode_theirs, decode_theirs, theirs),
        ("orjson (no schema, no registry)", encode_json, decode_json, as_json),
    ]:
        print(f"   {name:38} {enc:14,.0f} {dec:14,.0f} {size(blobs):10.0f}")


if __name__ == "__main__":
    asyncio.run(main())
