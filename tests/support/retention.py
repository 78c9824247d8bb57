"""Retention removing a topic's early records, on the real broker, as it does in production.

The broker deletes a partition's segments whose newest record is older than the topic's
`retention.ms`, at its retention check (every second on the local infrastructure,
services/infra/local.py); the log start offset (low watermark) then moves past them. Here the
topic is given a retention of one second until every record it holds now is gone, then
unlimited retention again, so that what is written afterwards stays: the topic keeps its later
records and has lost its early ones. Not DeleteRecords: the broker's own retention does it.
"""

from __future__ import annotations

import asyncio
import time

from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource

from services.common.kafka import KafkaAdmin, connection_config
from services.common.positions import Positions
from services.common.settings import CommonSettings
from tests.support.settled import settled_ends


def _set_retention(bootstrap_servers: str, topic: str, retention_ms: int) -> None:
    entry = ConfigEntry(
        "retention.ms", str(retention_ms), incremental_operation=AlterConfigOpType.SET
    )
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic, incremental_configs=[entry])
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    for future in admin.incremental_alter_configs([resource]).values():
        future.result(timeout=30)


async def remove_by_retention(settings: CommonSettings, topic: str) -> Positions:
    """Let retention delete every record `topic` holds now; returns each partition's new log
    start (its end before: every offset below it is gone, transaction markers included)."""
    ends = await settled_ends(settings.kafka_bootstrap_servers, topic)
    assert any(ends.values()), f"{topic} holds nothing retention could remove"
    admin = KafkaAdmin(connection_config(settings))
    servers = settings.kafka_bootstrap_servers
    await asyncio.to_thread(_set_retention, servers, topic, 1000)
    try:
        starts: Positions = {}
        deadline = time.monotonic() + 90
        while starts != ends:
            if time.monotonic() > deadline:
                raise AssertionError(f"retention left {topic} at {starts}, not {ends}")
            await asyncio.sleep(0.5)
            starts = await admin.ends(topic, sorted(ends), earliest=True)
    finally:
        await asyncio.to_thread(_set_retention, servers, topic, -1)
    return ends
