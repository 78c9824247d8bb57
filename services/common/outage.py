"""Riding out a Kafka outage: every service keeps running while the brokers are away, and only
an outage longer than `KAFKA_OUTAGE_TOLERANCE_S` ends the process.

Inside the tolerance nothing gives up: librdkafka reconnects by itself, consumers keep polling
(transient errors are not raised: services/common/kafka/consumer.py), transactional producers
retry, abort or rebuild (services/common/kafka/transactions.py), metrics probes log and skip.
So the one thing that decides to stop is this watch, with the same probe as `/readyz` (a
metadata request answered by any broker): one clock per process, one clear message.
"""

from __future__ import annotations

import asyncio
import time

import structlog

from services.common.errors import KafkaOutageError
from services.common.lifecycle import sleep_or_stop
from services.common.probes import kafka_reachable
from services.common.settings import CommonSettings

log = structlog.get_logger(__name__)

PROBE_INTERVAL_S = 5.0


async def watch_kafka_outages(settings: CommonSettings, stop: asyncio.Event) -> None:
    """Return on shutdown; raise `KafkaOutageError` once Kafka has been unreachable for longer
    than the tolerance."""
    tolerance_s = settings.kafka_outage_tolerance_s
    away_since: float | None = None
    while not await sleep_or_stop(stop, PROBE_INTERVAL_S):
        if await kafka_reachable(settings):
            if away_since is not None:
                log.warning("Kafka is reachable again", away_s=round(time.monotonic() - away_since))
            away_since = None
            continue
        now = time.monotonic()
        if away_since is None:
            away_since = now
            log.warning(
                "Kafka is unreachable; waiting for it (not ready meanwhile)",
                bootstrap_servers=settings.kafka_bootstrap_servers,
                tolerance_s=tolerance_s,
            )
        elif now - away_since > tolerance_s:
            raise KafkaOutageError(
                f"Kafka ({settings.kafka_bootstrap_servers}) has been unreachable for "
                f"{now - away_since:.0f} s, longer than KAFKA_OUTAGE_TOLERANCE_S="
                f"{tolerance_s:g}: giving up (raise the setting to ride out longer outages)",
                code="OUTAGE",
            )
