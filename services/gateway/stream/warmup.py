"""The start-up read: the last records of a topic, before the shared tail takes over.

The gateway reads them once, decoding each, to fill what must already hold history when the
first client arrives: the REST index (the newest filings by ticker, form and time) and the
tail's ring (so a client replaying recent history is served from memory, not by decoding the
topic again, even right after a restart).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import structlog

from services.common.avro import AvroCodec
from services.common.errors import SecDigesterError
from services.common.kafka import KafkaConsumer, consumer_config, read_range
from services.common.positions import Positions
from services.gateway.settings import GatewaySettings

log = structlog.get_logger(__name__)

RecentRecord = Callable[[int, int, dict[str, Any]], None]  # partition, offset, decoded record


def recent_starts(ends: Positions, count: int) -> Positions:
    """Where to start reading for about `count` records before `ends`, spread evenly."""
    per_partition = max(1, count // max(1, len(ends)))
    return {p: max(0, end - per_partition) for p, end in ends.items()}


async def read_recent(
    settings: GatewaySettings,
    codec: AvroCodec,
    topic: str,
    starts: Positions,
    ends: Positions,
    take: RecentRecord,
) -> None:
    """Every record from `starts` up to `ends` (where the tail starts), each partition in
    order. Records that cannot be decoded are left out: the tail and replays report them."""
    config = consumer_config(settings, client_id="sec-gateway-warmup") | {
        "enable.partition.eof": True
    }
    taken = 0
    async with KafkaConsumer(config) as consumer:
        async for batch in read_range(consumer, topic, starts, ends, max_records=5000):
            for message in batch.records:
                with contextlib.suppress(SecDigesterError):
                    take(message.partition(), message.offset(), await codec.decode(message.value()))
                    taken += 1
    log.info("recent records read", topic=topic, records=taken)
