"""The live source: poll EDGAR's latest-filings Atom feed, newest first, until known ground.

Each poll reads page after page from the newest entry until a page holds an accession number
already emitted (everything below it is older and known) or the feed ends; so a burst of filings
between two polls, or a day of them after an outage, is read in one poll. New filings are
published oldest first, in one transaction.

What the feed cannot give is a gap, never only a log line: it is counted
(`ingest_feed_gaps_total`) and handed to the daily-index reconciliation, which adds every filing
of the day that is not on the topic. A gap is
- the page bound (`INGEST_MAX_PAGES`, a safety limit far above the feed's depth) reached before
  known ground;
- a page after the first failing (after the client's retries): what the pages before it held is
  published, and the next poll reads on past it (below what this poll published) before it
  trusts known ground again.
A bad first page (HTML error page, truncated XML, an HTTP failure) fails only this poll: it is
logged with the URL, counted, and the next poll starts over.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import structlog

from services.common.edgar import EdgarClient
from services.common.errors import UpstreamError
from services.common.lifecycle import sleep_or_stop, until_stopped
from services.common.records import FilingSource
from services.ingest.feed import FeedEntry, merge_entries, parse_feed
from services.ingest.metrics import (
    DETECTION_LATENCY,
    FEED_GAPS,
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
    query = {
        "action": "getcurrent",
        "count": count,
        "start": start,
        "type": "",
        "owner": "include",
        "output": "atom",
    }
    return f"{base_url}/cgi-bin/browse-edgar?{urlencode(query)}"


@dataclass(frozen=True, slots=True)
class FeedRead:
    entries: list[FeedEntry]  # newest first
    pages: int
    gap: str | None = None  # why the read stopped short of known ground, if it did


class LivePoller:
    def __init__(
        self,
        settings: IngestSettings,
        edgar: EdgarClient,
        publisher: FilingPublisher,
        tickers: TickerMap,
        *,
        gap: asyncio.Event,
    ) -> None:
        self._settings = settings
        self._edgar = edgar
        self._publisher = publisher
        self._gap = gap  # set when a poll cannot reach known ground: reconciliation wakes
        self.tickers = tickers
        self.last_success = time.time()
        # Published by a poll that stopped at a failing page: not known ground for the next one.
        self._unfinished: set[str] = set()

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
            read = await self._read_new_entries()
        except UpstreamError as exc:
            POLLS.labels(outcome=type(exc).__name__).inc()
            log.warning("poll failed; the next poll retries", error=str(exc), status=exc.status)
            return 0
        detected_at = dt.datetime.now(dt.UTC)
        filings = merge_entries(
            read.entries, source=FilingSource.LIVE, detected_at=detected_at, tickers=self.tickers
        )
        published = await self._publisher.publish(filings[::-1])
        for filing in published:
            DETECTION_LATENCY.observe(max(0.0, (detected_at - filing.accepted_at).total_seconds()))
        POLLS.labels(outcome="ok" if read.gap is None else "gap").inc()
        PAGES_PER_POLL.observe(read.pages)
        if read.gap is None:
            self._unfinished.clear()
        elif read.gap == "page_failed" and not self._unfinished:
            self._unfinished = {filing.accession_number for filing in published}
        else:
            self._unfinished.clear()  # read past once already: the index closes the rest
        self.last_success = time.time()
        LAST_SUCCESSFUL_POLL.set(self.last_success)
        if published:
            log.info("published new filings", count=len(published), pages=read.pages)
        return len(published)

    async def _read_new_entries(self) -> FeedRead:
        size, entries = self._settings.ingest_page_size, list[FeedEntry]()
        for page in range(self._settings.ingest_max_pages):
            url = feed_url(self._settings.edgar_base_url, page * size, size)
            try:
                response = await self._edgar.get(url)
                parsed = parse_feed(response.body, url=url)
            except UpstreamError as exc:
                if page == 0:
                    raise
                return self._feed_gap(entries, page, "page_failed", url=url, error=str(exc))
            for rejected in parsed.rejected:
                REJECTED_ENTRIES.inc()
                log.warning(
                    "feed entry rejected",
                    url=url,
                    position=rejected.position,
                    reason=rejected.reason,
                    title=rejected.title,
                )
            entries.extend(parsed.entries)
            if any(self._is_known_ground(e.accession_number) for e in parsed.entries):
                return FeedRead(entries, page + 1)
            if len(parsed.entries) + len(parsed.rejected) < size:
                return FeedRead(entries, page + 1)  # the end of the feed
        return self._feed_gap(entries, self._settings.ingest_max_pages, "page_bound")

    def _is_known_ground(self, accession_number: str) -> bool:
        return (
            self._publisher.is_emitted(accession_number)
            and accession_number not in self._unfinished
        )

    def _feed_gap(
        self, entries: list[FeedEntry], pages: int, reason: str, **context: str
    ) -> FeedRead:
        FEED_GAPS.labels(reason=reason).inc()
        log.warning(
            "feed gap: the poll did not reach known ground; reconciliation with the daily "
            "index will add what the feed no longer shows",
            reason=reason,
            pages=pages,
            entries=len(entries),
            **context,
        )
        self._gap.set()
        return FeedRead(entries, pages, gap=reason)
