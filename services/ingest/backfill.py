"""The index source: backfill from EDGAR's daily form indexes, one day at a time.

Each day's index (`/Archives/edgar/daily-index/YYYY/QTRn/form.YYYYMMDD.idx`) lists every filing
of that day; the filings not emitted yet are published (source = daily_index) by
`reconcile_day`, the same code the live ingest's reconciliation runs. A day without an index
(weekend, holiday: EDGAR answers 404) is reported and skipped.

`sec-digester ingest --source index` hands its days over to a running live ingest (handoff.py)
and only runs `IndexBackfill` itself when none answers. A progress line is shown when stderr is
a terminal.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from collections.abc import Awaitable, Callable, Container

import structlog

from services.common.edgar import EdgarClient
from services.ingest.publisher import FilingPublisher
from services.ingest.reconcile import DayOutcome, DayStatus, reconcile_day
from services.ingest.tickers import TickerMap

log = structlog.get_logger(__name__)


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


async def backfill_days(
    edgar: EdgarClient,
    publisher: FilingPublisher,
    base_url: str,
    tickers: TickerMap,
    days: list[dt.date],
    *,
    stop: asyncio.Event,
    also_emitted: Container[str] = frozenset(),
    on_day: Callable[[DayOutcome], Awaitable[None]] | None = None,
) -> int:
    """Publish what the days' indexes list and the topic lacks; returns how many filings."""
    added = 0

    def progress(day: dt.date, done: int, total: int, added_today: int) -> None:
        if sys.stderr.isatty():
            number = days.index(day) + 1
            print(
                f"\r day {number}/{len(days)} {day}: {done}/{total} filings, "
                f"{added + added_today} new",
                end="",
                file=sys.stderr,
                flush=True,
            )

    for day in days:
        if stop.is_set():
            break
        outcome = await reconcile_day(
            edgar,
            publisher,
            base_url,
            tickers,
            day,
            conditional=False,
            also_emitted=also_emitted,
            progress=progress,
        )
        added += outcome.added
        if outcome.status is DayStatus.NOT_PUBLISHED:
            log.info("no daily index for this day (weekend or holiday)", day=str(day))
        else:
            log.info("day backfilled", day=str(day), found=outcome.listed, added=outcome.added)
        if on_day is not None:
            await on_day(outcome)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    return added
