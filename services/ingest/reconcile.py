"""Reconciliation: EDGAR's daily form index closes whatever the live feed missed.

The feed is a window of the latest few thousand filings. A poller that was down, or a burst that
ran past the page bound, can miss filings that have already scrolled out of it; the daily index
(`form.YYYYMMDD.idx`, published in the evening, sometimes later, sometimes amended) lists every
filing of a day. Live ingest reads the index of each of the last `INGEST_RECONCILE_DAYS` business
days at start-up, then re-reads them every `INGEST_RECONCILE_INTERVAL_S` with conditional GETs (an
unchanged index costs a 304, a day whose index is not out yet a 404), and at once when the poller
reports a gap. Every listed filing that was not emitted is published with source = daily_index,
through the same publisher (one transactional producer, one emitted set) as the feed, so the two
can never both emit a filing. Backfills (`--source index`, run here or handed over to the live
process) read days through the same `reconcile_day`.

Business days are Monday to Friday in EDGAR's time zone; a holiday simply has no index (404).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Container
from dataclasses import dataclass
from enum import StrEnum

import structlog

from services.common.edgar import EdgarClient
from services.common.errors import UpstreamError
from services.common.lifecycle import sleep_or_stop, until_stopped
from services.ingest.daily_index import EDGAR_TIME_ZONE, daily_index_path, parse_daily_index
from services.ingest.metrics import RECONCILED_FILINGS, RECONCILIATIONS, REJECTED_ENTRIES
from services.ingest.publisher import FilingPublisher
from services.ingest.settings import IngestSettings
from services.ingest.tickers import TickerMap

log = structlog.get_logger(__name__)

# Filings per transaction when a day is published: a busy day (~7k) takes two.
_BATCH = 5_000


class DayStatus(StrEnum):
    READ = "read"  # the index was read and every filing it lists is now on the topic
    UNCHANGED = "unchanged"  # 304: nothing new since the last read
    NOT_PUBLISHED = "not_published"  # 404: weekend, holiday, or not out yet


@dataclass(frozen=True, slots=True)
class DayOutcome:
    day: dt.date
    status: DayStatus
    listed: int = 0  # filings the index lists
    added: int = 0  # of which were not on the topic and have been published now


Progress = Callable[[dt.date, int, int, int], None]  # day, filings done, listed, added so far


def edgar_today() -> dt.date:
    return dt.datetime.now(EDGAR_TIME_ZONE).date()


def recent_business_days(today: dt.date, count: int) -> list[dt.date]:
    """The last `count` weekdays up to and including `today`, oldest first."""
    days: list[dt.date] = []
    day = today
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= dt.timedelta(days=1)
    return days[::-1]


async def reconcile_day(
    edgar: EdgarClient,
    publisher: FilingPublisher,
    base_url: str,
    tickers: TickerMap,
    day: dt.date,
    *,
    conditional: bool,
    also_emitted: Container[str] = frozenset(),
    progress: Progress | None = None,
) -> DayOutcome:
    """Publish every filing of `day`'s index that is not on the topic yet.

    Raises `UpstreamError` (including `MalformedResponseError`) when EDGAR gives no usable index."""
    url = base_url + daily_index_path(day)
    response = await edgar.get(url, conditional=conditional, not_found_ok=True)
    if response.status == 404:
        return DayOutcome(day, DayStatus.NOT_PUBLISHED)
    if response.not_modified:
        return DayOutcome(day, DayStatus.UNCHANGED)
    index = parse_daily_index(
        response.body,
        base_url=base_url,
        detected_at=dt.datetime.now(dt.UTC),
        tickers=tickers,
        url=url,
    )
    for rejected in index.rejected:
        REJECTED_ENTRIES.inc()
        log.warning(
            "index line rejected",
            url=url,
            line=rejected.line_number,
            reason=rejected.reason,
            text=rejected.text[:120],
        )
    added = 0
    for start in range(0, len(index.filings), _BATCH):
        batch = index.filings[start : start + _BATCH]
        added += len(await publisher.publish(batch, also_emitted=also_emitted))
        if progress is not None:
            progress(day, start + len(batch), len(index.filings), added)
    return DayOutcome(day, DayStatus.READ, listed=len(index.filings), added=added)


class Reconciliation:
    """The live process's reconciliation loop over the recent business days."""

    def __init__(
        self,
        settings: IngestSettings,
        edgar: EdgarClient,
        publisher: FilingPublisher,
        tickers: Callable[[], TickerMap],
        *,
        gap: asyncio.Event,
    ) -> None:
        self._settings = settings
        self._edgar = edgar
        self._publisher = publisher
        self._tickers = tickers
        self._gap = gap  # set by the poller: the feed may have lost filings, read again now

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._gap.clear()
            await until_stopped(stop, self.reconcile_window())
            interval = self._settings.ingest_reconcile_interval_s
            if await sleep_or_stop(stop, interval, wake=self._gap):
                return

    async def reconcile_window(self) -> list[DayOutcome]:
        days = recent_business_days(edgar_today(), self._settings.ingest_reconcile_days)
        outcomes = []
        for day in days:
            try:
                outcome = await reconcile_day(
                    self._edgar,
                    self._publisher,
                    self._settings.edgar_base_url,
                    self._tickers(),
                    day,
                    conditional=True,
                )
            except UpstreamError as exc:
                RECONCILIATIONS.labels(outcome="failed").inc()
                log.warning(
                    "daily index unavailable; the next pass retries",
                    day=str(day),
                    error=str(exc),
                    status=exc.status,
                )
                continue
            RECONCILIATIONS.labels(outcome=outcome.status.value).inc()
            if outcome.status is DayStatus.READ:
                RECONCILED_FILINGS.inc(outcome.added)
                # One line per day read, so a day the feed missed filings of stands out.
                report = log.warning if outcome.added else log.info
                report(
                    "daily index reconciled",
                    day=str(day),
                    found=outcome.listed,
                    added=outcome.added,
                )
            outcomes.append(outcome)
        return outcomes
