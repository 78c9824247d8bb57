"""The index source: backfill from EDGAR's daily form indexes, one day at a time.

Each day's index (`/Archives/edgar/daily-index/YYYY/QTRn/form.YYYYMMDD.idx`) lists every filing
of that day; the filings not emitted yet are published (source = daily_index) in transactions of
at most `_BATCH` records. A day without an index (weekend, holiday: EDGAR answers 404) is
reported and skipped. A progress line is shown when stderr is a terminal.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys

import structlog

from services.common.edgar import EdgarClient
from services.ingest.daily_index import daily_index_path, parse_daily_index
from services.ingest.metrics import REJECTED_ENTRIES
from services.ingest.publisher import FilingPublisher
from services.ingest.settings import IngestSettings
from services.ingest.tickers import TickerMap

log = structlog.get_logger(__name__)
_BATCH = 5_000


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


class IndexBackfill:
    def __init__(
        self,
        settings: IngestSettings,
        edgar: EdgarClient,
        publisher: FilingPublisher,
        tickers: TickerMap,
    ) -> None:
        assert settings.ingest_date is not None  # the settings validator guarantees it
        self._settings = settings
        self._edgar = edgar
        self._publisher = publisher
        self._tickers = tickers
        self._days = _days(settings.ingest_date, settings.ingest_date_to or settings.ingest_date)
        self.published = 0

    async def run(self, stop: asyncio.Event) -> None:
        for number, day in enumerate(self._days, start=1):
            if stop.is_set():
                return
            url = self._settings.edgar_base_url + daily_index_path(day)
            response = await self._edgar.get(url, not_found_ok=True)
            if response.status == 404:
                log.info("no daily index for this day (weekend or holiday)", day=str(day), url=url)
                continue
            index = parse_daily_index(
                response.body, base_url=self._settings.edgar_base_url,
                detected_at=dt.datetime.now(dt.UTC), tickers=self._tickers, url=url,
            )  # fmt: skip
            for rejected in index.rejected:
                REJECTED_ENTRIES.inc()
                log.warning("index line rejected", url=url, line=rejected.line_number,
                            reason=rejected.reason, text=rejected.text[:120])  # fmt: skip
            for start in range(0, len(index.filings), _BATCH):
                if stop.is_set():
                    return
                written = await self._publisher.publish(index.filings[start : start + _BATCH])
                self.published += len(written)
                self._progress(
                    number, day, min(start + _BATCH, len(index.filings)), len(index.filings)
                )
            log.info("day backfilled", day=str(day), filings=len(index.filings))
        if sys.stderr.isatty():
            print(file=sys.stderr)

    def _progress(self, number: int, day: dt.date, done: int, total: int) -> None:
        if sys.stderr.isatty():
            print(f"\r day {number}/{len(self._days)} {day}: {done}/{total} filings, "
                  f"{self.published} new", end="", file=sys.stderr, flush=True)  # fmt: skip
