"""`sec-digester alerts`: each filing at or above a priority, posted once to every sink.

Built on the client library with a durable client id: a record is acknowledged only after
every sink accepted it (or refused it for good, see delivery.py), so a restart resumes right
after the last alert delivered everywhere. Records are handled one at a time, in stream order.

Shutdown (SIGTERM, Ctrl-C) never cuts a record's deliveries short: it waits until the handler
is between two records, then stops; the client's close sends the last acknowledgement. Only a
sink still being retried is interrupted, and that record is delivered again after the restart.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

import httpx
import structlog
from sec_digester_client import FilingAnalysis, Gap, StreamClient

from services.alerts.delivery import DeliveryInterruptedError, Poster, Sink
from services.alerts.settings import AlertsSettings
from services.common.lifecycle import shutdown_event
from services.common.retry import RetryPolicy
from services.tail.stream_client import client_errors

log = structlog.get_logger(__name__)


def sinks_of(settings: AlertsSettings) -> list[Sink]:
    return [Sink("discord", url) for url in settings.discord_webhooks] + [
        Sink("webhook", url, settings.webhook_secret) for url in settings.webhooks
    ]


async def run_alerts(settings: AlertsSettings) -> int:
    config = settings.client_config(
        client_id=settings.alerts_client_id,
        min_priority=settings.alerts_min_priority,
        start=settings.alerts_from,
        # A gap is told in the log and the alerts go on: raising would stop the service at
        # every restart, since its position stays before a gap it has not gone past.
        on_gap="report",
    )
    sinks = sinks_of(settings)
    stop = shutdown_event()
    # An alert is held back, never dropped: a failing sink is retried for as long as it takes.
    policy = RetryPolicy.forever(
        base_delay_s=settings.alerts_backoff_initial_s, max_delay_s=settings.alerts_backoff_max_s
    )
    structlog.contextvars.bind_contextvars(client_id=settings.alerts_client_id)
    log.info(
        "alerts: following the stream",
        gateway=settings.gateway_url,
        sinks=[sink.name for sink in sinks],
        min_priority=settings.alerts_min_priority,
    )
    # Between two records: held by the handler while it delivers one.
    between_records = asyncio.Lock()
    with client_errors():
        async with (
            httpx.AsyncClient(timeout=settings.alerts_timeout_s) as http,
            StreamClient(config, gap_handler=_log_gap) as client,
        ):
            poster = Poster(http, stop, policy)

            async def handle(record: FilingAnalysis) -> None:
                async with between_records:
                    for sink in sinks:
                        await poster.deliver(sink, record)

            await _run_until_stopped(client.run(handle), stop, between_records)
    log.info("alerts: stopped")
    return 0


def _log_gap(gap: Gap) -> None:
    log.warning("records removed before they were alerted on", gap=gap.describe())


async def _run_until_stopped(
    work: Coroutine[Any, Any, None], stop: asyncio.Event, between_records: asyncio.Lock
) -> None:
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if not task.done():
        async with between_records:
            task.cancel()
    with contextlib.suppress(asyncio.CancelledError, DeliveryInterruptedError):
        await task
