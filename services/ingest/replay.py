"""The replay source: a recorded corpus played back as if EDGAR were live (offline demo).

Snapshots are played oldest first. Within a snapshot, the filings not emitted yet are published
oldest first, spaced by the gaps between their EDGAR acceptance times divided by `speed` (a gap
longer than `max_gap_s` is cut short, so a quiet night does not stall a demo); filings that fall
due together are published in one transaction. The pause between two snapshots is the time
between their recording, divided by `speed`. The run ends after the last snapshot.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
from pathlib import Path

import structlog

from services.common.lifecycle import sleep_or_stop
from services.common.records import Filing, FilingSource
from services.ingest.corpus import list_snapshots, load_snapshot
from services.ingest.feed import merge_entries
from services.ingest.publisher import FilingPublisher
from services.ingest.tickers import TickerMap

log = structlog.get_logger(__name__)


def snapshot_time(name: str) -> dt.datetime:
    """Snapshot names are their recording time, e.g. 2025-12-12T18-02-33 (UTC)."""
    return dt.datetime.strptime(name, "%Y-%m-%dT%H-%M-%S").replace(tzinfo=dt.UTC)


class CorpusReplay:
    def __init__(
        self,
        corpus: Path,
        publisher: FilingPublisher,
        tickers: TickerMap,
        *,
        speed: float,
        max_gap_s: float,
    ) -> None:
        self._corpus = corpus
        self._publisher = publisher
        self._tickers = tickers
        self._speed = speed
        self._max_gap_s = max_gap_s
        self.published = 0

    async def run(self, stop: asyncio.Event) -> None:
        snapshots = list_snapshots(self._corpus)
        for number, name in enumerate(snapshots):
            if number and await sleep_or_stop(stop, self._gap(snapshots[number - 1], name)):
                return
            filings = merge_entries(
                load_snapshot(self._corpus, name),
                source=FilingSource.REPLAY,
                detected_at=dt.datetime.now(dt.UTC),
                tickers=self._tickers,
            )
            new = [f for f in filings if not self._publisher.is_emitted(f.accession_number)]
            log.info("replaying snapshot", snapshot=name, filings=len(filings), new=len(new))
            if await self._play(sorted(new, key=lambda f: f.accepted_at), stop):
                return
        log.info("replay finished", snapshots=len(snapshots), published=self.published)

    def _gap(self, previous: str, current: str) -> float:
        seconds = (snapshot_time(current) - snapshot_time(previous)).total_seconds()
        return min(self._max_gap_s, seconds / self._speed)

    async def _play(self, filings: list[Filing], stop: asyncio.Event) -> bool:
        """Publish on the scaled clock; True if shutdown interrupted it."""
        clock_start, origin = time.monotonic(), filings[0].accepted_at if filings else None
        shift = 0.0  # time cut from long gaps so far
        due: list[Filing] = []
        for filing in filings:
            assert origin is not None
            offset = (filing.accepted_at - origin).total_seconds() / self._speed - shift
            wait = offset - (time.monotonic() - clock_start)
            if wait > 0 and due:
                await self._publish(due)
                due = []
                wait = offset - (time.monotonic() - clock_start)
            if wait > self._max_gap_s:
                shift += wait - self._max_gap_s
                wait = self._max_gap_s
            if wait > 0 and await sleep_or_stop(stop, wait):
                return True
            due.append(filing)
        if due:
            await self._publish(due)
        return stop.is_set()

    async def _publish(self, filings: list[Filing]) -> None:
        # As if live: a filing is detected when it is played, not when its snapshot was loaded.
        now = dt.datetime.now(dt.UTC)
        played = [dataclasses.replace(filing, detected_at=now) for filing in filings]
        self.published += len(await self._publisher.publish(played))
