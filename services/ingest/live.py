"""The live source: poll EDGAR's latest-filings Atom feed, newest first, until known ground.

Each poll reads page after page from the newest entry until a page holds an accession number
already emitted (everything below it is older and known), the feed ends, or the page bound is
reached; so a burst of filings between two polls is never missed. New filings are published
oldest first, in one transaction. A bad page (HTML error page, truncated XML, an HTTP failure)
fails only this poll: it is logged with the URL, counted, and the next poll starts over.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from urllib.parse import urlencode

import structlog

from services.common.edgar import EdgarClient
from services.common.errors import UpstreamError
from services.common.lifecycle import sleep_or_stop, until_stopped
from services.common.records import FilingSource
from services.ingest.feed import FeedEntry, merge_entries, parse_feed
from services.ingest.metrics import (
    DETECTION_LATENCY,
    LAST_SUCCESSFUL_POLL,
    PAGES_PER_POLL,
    POLLS,
    REJECTED_ENTRIES,
)
from services.ingest.publisher import FilingPublisher
from services.ingest.settings import IngestSettings
from services.ingest.tickers import TickerMap

log = structlog.get_logger(__name__)


def feed_url(base_url: str, start: int, count: int) -> str:
    query = {"action": "getcurrent", "count": count, "start": start, "type": "", "owner": "include",
             "output": "atom"}  # fmt: skip
    return f"{base_url}/cgi-bin/browse-edgar?{urlencode(query)}"


class LivePoller:
    def __init__(
        self,
        settings: IngestSettings,
        edgar: EdgarClient,
        publisher: FilingPublisher,
        tickers: TickerMap,
    ) -> None:
        self._settings = settings
        self._edgar = edgar
        self._publisher = publisher
        self.tickers = tickers
        self.last_success = time.time()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            await until_stopped(stop, self.poll_once())
            elapsed = time.monotonic() - started
            if await sleep_or_stop(stop, max(0.0, self._settings.ingest_poll_interval_s - elapsed)):
                return

    async def poll_once(self) -> int:
        """One poll; returns how many filings it published (0 on a failed poll)."""
        try:
            entries, pages = await self._read_new_entries()
        except UpstreamError as exc:
            POLLS.labels(outcome=type(exc).__name__).inc()
            log.warning("poll failed; the next poll retries", error=str(exc), status=exc.status)
            return 0
        detected_at = dt.datetime.now(dt.UTC)
        filings = merge_entries(
            entries, source=FilingSource.LIVE, detected_at=detected_at, tickers=self.tickers
        )
        published = await self._publisher.publish(filings[::-1])
        for filing in published:
            DETECTION_LATENCY.observe(max(0.0, (detected_at - filing.accepted_at).total_seconds()))
        POLLS.labels(outcome="ok").inc()
        PAGES_PER_POLL.observe(pages)
        self.last_success = time.time()
        LAST_SUCCESSFUL_POLL.set(self.last_success)
        if published:
            log.info("published new filings", count=len(published), pages=pages)
        return len(published)

    async def _read_new_entries(self) -> tuple[list[FeedEntry], int]:
        size, entries = self._settings.ingest_page_size, list[FeedEntry]()
        for page in range(self._settings.ingest_max_pages):
            url = feed_url(self._settings.edgar_base_url, page * size, size)
            response = await self._edgar.get(url)
            parsed = parse_feed(response.body, url=url)
            for rejected in parsed.rejected:
                REJECTED_ENTRIES.inc()
                log.warning("feed entry rejected", url=url, position=rejected.position,
                            reason=rejected.reason, title=rejected.title)  # fmt: skip
            entries.extend(parsed.entries)
            reached_known = any(
                self._publisher.is_emitted(e.accession_number) for e in parsed.entries
            )
            if reached_known or len(parsed.entries) + len(parsed.rejected) < size:
                return entries, page + 1
        log.warning(
            "page bound reached before known filings", pages=self._settings.ingest_max_pages
        )
        return entries, self._settings.ingest_max_pages
