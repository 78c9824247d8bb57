"""`sec-digester ingest`: EDGAR (live feed, daily index or a recorded corpus) into the raw topic.

Start-up order matters for exactly-once: the transactional producer is initialised first (it
fences a previous instance and aborts its open transaction), then the emitted set is read back
from the raw topic, then the source runs. SIGTERM/SIGINT stop the source at a safe point; every
client is closed on the way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import structlog

from services.common.avro import AvroCodec
from services.common.edgar import EdgarClient, RetryPolicy
from services.common.errors import UpstreamError
from services.common.health import serve_health
from services.common.kafka import KafkaProducer, producer_config
from services.common.lifecycle import shutdown_event, sleep_or_stop
from services.common.probes import kafka_reachable, registry_reachable
from services.common.ratelimit import RequestLimiter
from services.common.registry import open_registry, subject_for
from services.common.schemas import SchemaName
from services.ingest.backfill import IndexBackfill
from services.ingest.emitted import emitted_accessions
from services.ingest.live import LivePoller
from services.ingest.publisher import FilingPublisher
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


async def _refresh_tickers(
    poller: LivePoller, edgar: EdgarClient, settings: IngestSettings, stop: asyncio.Event
) -> None:
    while not await sleep_or_stop(stop, settings.ingest_tickers_refresh_s):
        poller.tickers = await fetch_tickers(edgar, settings.edgar_base_url)


async def run_ingest(settings: IngestSettings) -> int:
    stop = shutdown_event()
    source_name = settings.ingest_source
    structlog.contextvars.bind_contextvars(
        service="ingest", source=source_name, topic=settings.topic_raw
    )
    # Backfill and replay use their own transactional id: they must not fence live ingest.
    transactional_id = settings.ingest_transactional_id + (
        "" if source_name == "live" else f"-{source_name}"
    )
    limiter = RequestLimiter(settings.ingest_max_requests_per_second)
    started = time.time()
    async with contextlib.AsyncExitStack() as stack:
        registry = await stack.enter_async_context(open_registry(settings))
        codec = await AvroCodec(registry, subject_for(settings.topic_raw), SchemaName.FILING).open()
        producer = await stack.enter_async_context(
            KafkaProducer(producer_config(settings, client_id="sec-digester-ingest",
                                          transactional_id=transactional_id))
        )  # fmt: skip
        publisher = FilingPublisher(
            producer,
            codec,
            settings.topic_raw,
            await emitted_accessions(settings, settings.topic_raw),
        )
        edgar = await stack.enter_async_context(
            EdgarClient(user_agent=settings.user_agent, limiter=limiter,
                        timeout_s=settings.edgar_timeout_s,
                        retry=RetryPolicy(max_attempts=settings.edgar_max_attempts))
        )  # fmt: skip
        source: LivePoller | IndexBackfill | CorpusReplay
        background: list[asyncio.Task[None]] = []
        if source_name == "replay":
            assert settings.ingest_corpus is not None
            source = CorpusReplay(settings.ingest_corpus, publisher, TickerMap.bundled(),
                                  speed=settings.ingest_speed,
                                  max_gap_s=settings.ingest_replay_max_gap_s)  # fmt: skip
        else:
            tickers = await fetch_tickers(edgar, settings.edgar_base_url)
            if source_name == "index":
                source = IndexBackfill(settings, edgar, publisher, tickers)
            else:
                source = LivePoller(settings, edgar, publisher, tickers)
                background.append(
                    asyncio.create_task(_refresh_tickers(source, edgar, settings, stop))
                )

        def alive() -> bool:
            # Live: a poll has succeeded recently (EDGAR failing for long is worth a restart
            # only if it is us; readiness reports it, liveness allows 10 minutes).
            last = source.last_success if isinstance(source, LivePoller) else started
            return time.time() - last < 600

        async def source_healthy() -> bool:
            interval = settings.ingest_poll_interval_s
            return (
                not isinstance(source, LivePoller)
                or time.time() - source.last_success < 30 * interval + 30
            )

        await stack.enter_async_context(serve_health(
            settings.ingest_health_host, settings.ingest_health_port, alive,
            {"kafka": lambda: kafka_reachable(settings),
             "registry": lambda: registry_reachable(settings), "source": source_healthy},
        ))  # fmt: skip
        log.info("ingest started")
        try:
            await source.run(stop)
        finally:
            stop.set()
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
    log.info("ingest stopped")
    return 0
