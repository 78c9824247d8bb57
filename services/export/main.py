"""`sec-digester export`: a range of a topic, read from Kafka (no gateway), to a file."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from services.common.avro import AvroCodec
from services.common.kafka import KafkaAdmin, KafkaConsumer, connection_config, consumer_config
from services.common.positions import describe_gaps
from services.common.registry import open_registry, subject_for, subjects
from services.export.bounds import PartitionRange, parse_bound, resolve_ranges
from services.export.progress import Progress
from services.export.reader import exported_batches
from services.export.settings import ExportSettings
from services.export.sinks import Sink, open_sink, require_parquet

log = structlog.get_logger(__name__)


async def run_export(settings: ExportSettings) -> int:
    # Everything the user typed is checked before Kafka is asked anything.
    start = parse_bound(settings.export_from, "--from")
    end = parse_bound(settings.export_to, "--to")
    if settings.export_format == "parquet":
        require_parquet()
    topic = settings.topic_name()
    subject = subject_for(topic)
    schema = subjects(settings)[subject]
    admin = KafkaAdmin(connection_config(settings))
    plan = await resolve_ranges(admin, topic, start, end)
    ranges = plan.ranges
    structlog.contextvars.bind_contextvars(topic=topic, out=str(settings.export_out))
    if plan.gaps:
        log.warning("export starts after a gap", gaps=describe_gaps(plan.gaps))
    log.debug("export ranges", ranges=_describe(ranges))
    progress = Progress(sum(r.size for r in ranges))
    config = consumer_config(settings, client_id="sec-digester-export") | {
        "enable.partition.eof": True,
        # Retention removing records while the export reads them fails the export rather than
        # leaving a hole in the file that nothing reports.
        "auto.offset.reset": "error",
    }
    async with open_registry(settings) as registry, KafkaConsumer(config) as consumer:
        codec = await AvroCodec(registry, subject, schema).open()
        batches = exported_batches(consumer, codec, topic, ranges, progress)
        with open_sink(settings.export_out, settings.export_format, schema) as sink:
            pending: list[dict[str, Any]] = []
            async for batch in batches:
                pending.extend(batch)
                if len(pending) >= settings.export_batch_size:
                    await _write(sink, pending)
                    pending = []
            await _write(sink, pending)
    gaps = f" (after a gap: {describe_gaps(plan.gaps)})" if plan.gaps else ""
    progress.finish(
        f"exported {progress.records:,} records of {topic} "
        f"({_describe(ranges)}) to {settings.export_out}{gaps}"
    )
    return 0


async def _write(sink: Sink, records: list[dict[str, Any]]) -> None:
    if records:
        await asyncio.to_thread(sink.write, records)


def _describe(ranges: list[PartitionRange]) -> str:
    """partition:start-end (end exclusive), as a user compares them with a cursor."""
    return ", ".join(f"{r.partition}:{r.start}-{r.end}" for r in ranges) or "no partitions"
