"""Ingest benchmarks: feed parsing, daily-index backfill into Kafka, and detection latency.

1. parse + merge: every recorded page of a feed snapshot through parse_feed and merge_entries.
2. backfill: the 2020-03-18 daily index (2,666 filings) and a 10x copy of it (accession numbers
   made distinct) published through the transactional publisher into a fresh topic.
3. detection latency: `sec-digester ingest` (defaults: 1 poll/s, 4 req/s) runs against the EDGAR
   emulator with the raw topic already holding snapshot A; the emulator switches to snapshot B
   (5 new filings at the top) and the time from the switch to each new filing's `detected_at`
   is measured. Repeated on fresh topics.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

from bench._setup import CORPUS, local_topics, print_header
from services.common.records import Filing, FilingSource
from services.common.settings import TopicSettings
from services.emulator.server import run_emulator
from services.ingest.corpus import list_snapshots
from services.ingest.daily_index import parse_daily_index
from services.ingest.feed import FeedEntry, merge_entries, parse_feed
from services.ingest.tickers import TickerMap
from tests.support.cli import environment_for
from tests.support.infra import provision
from tests.support.processes import ServiceProcess, free_port
from tests.support.seeding import publish_filings, snapshot_filings
from tests.support.topic_reader import read_topic

INDEX = CORPUS / "www.sec.gov/Archives/edgar/daily-index/2020/QTR1/form.20200318.idx"
TRIALS = 12


def bench_parse() -> None:
    snapshot = list_snapshots(CORPUS)[0]
    pages = [p.read_bytes() for p in sorted((CORPUS / "getcurrent" / snapshot).glob("*.xml"))]
    tickers, rates = TickerMap.bundled(), []
    for _ in range(5):
        start, entries = time.perf_counter(), list[FeedEntry]()
        for page in pages:
            try:
                entries.extend(parse_feed(page).entries)
            except Exception:
                continue
        merge_entries(entries, source=FilingSource.LIVE, detected_at=dt.datetime.now(dt.UTC),
                      tickers=tickers)  # fmt: skip
        rates.append(len(entries) / (time.perf_counter() - start))
    print(f"   parse + merge: {statistics.median(rates):,.0f} entries/s "
          f"({len(entries)} entries in {len(pages)} pages, median of 5)")  # fmt: skip


def _renumbered(filing: Filing, copy: int) -> Filing:
    """The same filing under another (made-up) sequence number, so copies are distinct."""
    accession = f"{filing.accession_number[:-6]}{copy}{filing.accession_number[-5:]}"
    return dataclasses.replace(filing, accession_number=accession)


async def _publish_all(settings: TopicSettings, filings: list[Filing]) -> float:
    await provision(settings)
    start = time.perf_counter()
    await publish_filings(settings, filings)
    return time.perf_counter() - start


async def bench_backfill() -> None:
    now, tickers = dt.datetime.now(dt.UTC), TickerMap.bundled()
    index = parse_daily_index(
        INDEX.read_bytes(), base_url="https://www.sec.gov", detected_at=now, tickers=tickers
    )
    one_day = list(index.filings)
    ten_days = [_renumbered(f, n) for n in range(10) for f in one_day]
    for label, filings in (("1 day", one_day), ("10x", ten_days)):
        seconds = await _publish_all(local_topics(), filings)
        print(f"   backfill into Kafka ({label}): {len(filings):,} filings in {seconds:.2f} s "
              f"= {len(filings) / seconds:,.0f} filings/s")  # fmt: skip


async def _seed(settings: TopicSettings, snapshot: str) -> None:
    await _publish_all(settings, snapshot_filings(snapshot))


def bench_detection(log_dir: Path) -> None:
    snapshot_a, snapshot_b = list_snapshots(CORPUS)
    latencies: list[float] = []
    for trial in range(TRIALS):
        settings = local_topics()
        asyncio.run(_seed(settings, snapshot_a))
        with run_emulator(CORPUS, snapshot_a) as emulator:
            env = environment_for(settings, EDGAR_BASE_URL=emulator.base_url,
                                  EDGAR_DATA_URL=emulator.data_url,
                                  INGEST_HEALTH_PORT=str(free_port()))  # fmt: skip
            with ServiceProcess(f"ingest-{trial}", ["ingest"], env, log_dir):
                # Ingest is polling (it has read page 0 at least twice): switch at a random phase.
                while (
                    sum("getcurrent" in r.target for r in emulator.control.requests.snapshot()) < 2
                ):
                    time.sleep(0.05)
                time.sleep((trial % 4) * 0.25)
                switched = dt.datetime.now(dt.UTC)
                emulator.control.switch_snapshot(snapshot_b)
                new: list[float] = []
                while len(new) < 5:
                    time.sleep(0.2)
                    records = read_topic(
                        settings.kafka_bootstrap_servers,
                        settings.schema_registry_url,
                        settings.topic_raw,
                    )
                    new = [(r.value["detected_at"] - switched).total_seconds()
                           for r in records if r.value["detected_at"] > switched]  # fmt: skip
        latencies += new
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"   detection latency, snapshot switch to detected_at ({len(ordered)} filings, "
          f"{TRIALS} trials): p50 {statistics.median(ordered):.2f} s, p99 {p99:.2f} s, "
          f"max {ordered[-1]:.2f} s")  # fmt: skip


def main() -> None:
    print_header("ingest", "make bench  (or: .venv/bin/python -m bench.ingest)")
    bench_parse()
    asyncio.run(bench_backfill())
    bench_detection(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("bench/results"))


if __name__ == "__main__":
    main()
