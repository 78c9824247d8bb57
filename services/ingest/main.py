"""`sec-digester ingest`: EDGAR (live feed, daily index or a recorded corpus) into the raw topic.

Start-up order matters for exactly-once: a backfill or replay first asks on the control topic
whether a live ingest is running (a backfill is then handed over to it, a replay refused:
handoff.py); then the transactional producer is initialised (it fences a previous instance and
aborts its open transaction); then the emitted set is read back from the raw topic's recent end
(emitted.py); then the sources run. Live ingest runs the feed poller, the daily-index
reconciliation and the control listener as tasks of one process, through one publisher.
SIGTERM/SIGINT stop every task at a safe point; every client is closed on the way out.

A broker outage is ridden out (services/common/outage.py): the publisher's transactions retry,
abort or replace the producer (publisher.py), the control listener polls on, /readyz answers
503; only an outage longer than KAFKA_OUTAGE_TOLERANCE_S ends the process, non-zero.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import structlog

from services.common.avro import AvroCodec
from services.common.edgar import EdgarClient
from services.common.errors import ConfigurationError, KafkaClientError, UpstreamError
from services.common.health import serve_health
from services.common.kafka import TransactionalProducer, producer_config
from services.common.lifecycle import shutdown_event, sleep_or_stop
from services.common.outage import watch_kafka_outages
from services.common.probes import kafka_reachable, registry_reachable
from services.common.ratelimit import RequestLimiter
from services.common.registry import open_registry, subject_for
from services.common.retry import RetryPolicy
from services.common.schemas import SchemaName
from services.common.startup import Needs, wait_for_infrastructure
from services.ingest.backfill import backfill_days, days_between
from services.ingest.emitted import emitted_accessions, written_since
from services.ingest.handoff import ControlListener, hand_over_backfill, live_ingest_running
from services.ingest.live import LivePoller
from services.ingest.publisher import FilingPublisher
from services.ingest.reconcile import (
    DayOutcome,
    Reconciliation,
    edgar_today,
    recent_business_days,
)
from services.ingest.replay import CorpusReplay
from services.ingest.settings import IngestSettings
from services.ingest.tickers import TickerMap

log = structlog.get_logger(__name__)


async def fetch_tickers(edgar: EdgarClient, base_url: str) -> TickerMap:
    """SEC's current ticker map, or the bundled copy when EDGAR cannot give it."""
    url = f"{base_url}/files/company_tickers.json"
    try:
        response = await edgar.get(url, conditional=True)
        return TickerMap.from_json(response.body, url=url)
    except UpstreamError as exc:
        log.warning("using the bundled ticker map", url=url, error=str(exc))
        return TickerMap.bundled()


Task = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


def _live_tasks(
    settings: IngestSettings, edgar: EdgarClient, publisher: FilingPublisher, tickers: TickerMap
) -> tuple[LivePoller, list[Task]]:
    """The live ingest's tasks: the feed poller, the reconciliation it reports gaps to, the
    control listener that runs handed-over backfills, and the daily ticker refresh."""
    gap = asyncio.Event()
    poller = LivePoller(settings, edgar, publisher, tickers, gap=gap)
    reconciliation = Reconciliation(settings, edgar, publisher, lambda: poller.tickers, gap=gap)

    async def run_backfill(
        first: dt.date, last: dt.date, on_day: Callable[[DayOutcome], Awaitable[None]]
    ) -> int:
        # Days may be older than this process's memory: read the topic since then first.
        history = await emitted_accessions(settings, settings.topic_raw, since=written_since(first))
        # No stop event of its own: on shutdown the listener cancels it (the open transaction
        # is aborted) and the requester sees the live ingest fall silent.
        return await backfill_days(
            edgar,
            publisher,
            settings.edgar_base_url,
            poller.tickers,
            days_between(first, last),
            stop=asyncio.Event(),
            also_emitted=history,
            on_day=on_day,
        )

    async def refresh_tickers(stop: asyncio.Event) -> None:
        while not await sleep_or_stop(stop, settings.ingest_tickers_refresh_s):
            poller.tickers = await fetch_tickers(edgar, settings.edgar_base_url)

    listener = ControlListener(
        settings, run_backfill, look_back_s=settings.ingest_handoff_timeout_s
    )
    return poller, [poller.run, reconciliation.run, listener.run, refresh_tickers]


async def run_ingest(settings: IngestSettings) -> int:
    stop = shutdown_event()
    source_name = settings.ingest_source
    structlog.contextvars.bind_contextvars(
        service="ingest", source=source_name, topic=settings.topic_raw
    )
    started = time.time()
    poller: LivePoller | None = None

    def alive() -> bool:
        # Live: a poll has succeeded recently (EDGAR failing for long is worth a restart
        # only if it is us; readiness reports it, liveness allows 10 minutes).
        last = poller.last_success if poller is not None else started
        return time.time() - last < 600

    async def source_healthy() -> bool:
        interval = settings.ingest_poll_interval_s
        return poller is None or time.time() - poller.last_success < 30 * interval + 30

    running = asyncio.Event()  # set once the clients are open and the sources run

    async def sources_started() -> bool:
        return running.is_set()

    async with contextlib.AsyncExitStack() as stack:
        # Health first: while the infrastructure is awaited, /healthz is 200 and /readyz 503.
        await stack.enter_async_context(
            serve_health(
                settings.ingest_health_host,
                settings.ingest_health_port,
                alive,
                {
                    "kafka": lambda: kafka_reachable(settings),
                    "registry": lambda: registry_reachable(settings),
                    "source": source_healthy,
                    "started": sources_started,
                },
            )
        )
        needs = Needs(
            topics=[settings.topic_raw, settings.topic_ingest_control],
            schema_topics=[settings.topic_raw],
        )
        if not await wait_for_infrastructure(settings, needs, stop):
            return 0
        if source_name == "index" and await _handed_over(settings):
            return 0
        if source_name == "replay" and await live_ingest_running(
            settings, settings.ingest_handoff_timeout_s
        ):
            raise ConfigurationError(
                f"a live ingest is writing TOPIC_RAW={settings.topic_raw}: a replay of recorded "
                "filings needs topics of its own (TOPIC_RAW, TOPIC_INGEST_CONTROL)"
            )
        limiter = RequestLimiter(settings.ingest_max_requests_per_second)
        registry = await stack.enter_async_context(open_registry(settings))
        codec = await AvroCodec(registry, subject_for(settings.topic_raw), SchemaName.FILING).open()
        producer = await stack.enter_async_context(
            TransactionalProducer(
                producer_config(
                    settings,
                    client_id="sec-digester-ingest",
                    transactional_id=settings.ingest_transactional_id,
                ),
                # A backfill fenced by a live ingest has been taken over: it must not fence back.
                rebuild_when_fenced=source_name != "index",
            )
        )

        async def read_emitted() -> set[str]:
            return await emitted_accessions(
                settings, settings.topic_raw, since=_recovery_start(settings)
            )

        publisher = FilingPublisher(
            producer, codec, settings.topic_raw, await read_emitted(), read_emitted
        )
        edgar = await stack.enter_async_context(
            EdgarClient(
                user_agent=settings.user_agent,
                limiter=limiter,
                timeout_s=settings.edgar_timeout_s,
                retry=RetryPolicy(max_attempts=settings.edgar_max_attempts),
            )
        )
        tasks: list[Task]
        if source_name == "replay":
            assert settings.ingest_corpus is not None
            replay = CorpusReplay(
                settings.ingest_corpus,
                publisher,
                TickerMap.bundled(),
                speed=settings.ingest_speed,
                max_gap_s=settings.ingest_replay_max_gap_s,
            )
            tasks = [replay.run]
        elif source_name == "index":
            tickers = await fetch_tickers(edgar, settings.edgar_base_url)
            days = days_between(*_requested_days(settings))

            async def backfill(stop: asyncio.Event) -> None:
                await backfill_days(
                    edgar, publisher, settings.edgar_base_url, tickers, days, stop=stop
                )

            tasks = [_fenced_means_taken_over(backfill)]
        else:
            poller, tasks = _live_tasks(
                settings, edgar, publisher, await fetch_tickers(edgar, settings.edgar_base_url)
            )

        running.set()
        log.info("ingest started")
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(watch_kafka_outages(settings, stop))
                await asyncio.wait([group.create_task(task(stop)) for task in tasks])
                stop.set()  # the sources are done (a replay ends): so is the watch
        finally:
            stop.set()
    log.info("ingest stopped")
    return 0


def _requested_days(settings: IngestSettings) -> tuple[dt.date, dt.date]:
    assert settings.ingest_date is not None  # the settings validator guarantees it
    return settings.ingest_date, settings.ingest_date_to or settings.ingest_date


def _recovery_start(settings: IngestSettings) -> dt.datetime | None:
    """How far back the emitted set must reach for what this source will look at."""
    match settings.ingest_source:
        case "live":
            today = edgar_today()
            return written_since(recent_business_days(today, settings.ingest_reconcile_days)[0])
        case "index":
            return written_since(_requested_days(settings)[0])
        case _:
            return None  # a replay's corpus may be of any date: read all (demo-sized topics)


async def _handed_over(settings: IngestSettings) -> bool:
    first, last = _requested_days(settings)

    def on_day(answer: dict[str, Any]) -> None:
        log.info(
            "day backfilled by the live ingest",
            day=answer.get("day"),
            status=answer.get("status"),
            found=answer.get("listed"),
            added=answer.get("added"),
        )

    handed = await hand_over_backfill(
        settings, first, last, settings.ingest_handoff_timeout_s, on_day
    )
    if handed is None:
        log.info("no live ingest answered: backfilling in this process")
        return False
    log.info("backfill done by the live ingest", added=handed.added)
    return True


def _fenced_means_taken_over(task: Task) -> Task:
    async def guarded(stop: asyncio.Event) -> None:
        try:
            await task(stop)
        except KafkaClientError as exc:
            if "fenced" not in str(exc).lower():
                raise
            raise KafkaClientError(
                "a live ingest started and took over INGEST_TRANSACTIONAL_ID; nothing was "
                "written twice. Run the backfill again: it will be handed over to the live "
                f"ingest ({exc})",
                retriable=False,
            ) from exc

    return guarded
