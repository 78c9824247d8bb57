"""Ingest benchmarks: feed parsing, backfill and reconciliation into Kafka, start-up, detection.

1. parse + merge: every recorded page of a feed snapshot through parse_feed and merge_entries.
2. backfill: the 2020-03-18 daily index (2,666 filings) and a 10x copy of it (accession numbers
   made distinct) published through the transactional publisher into a fresh topic.
3. reconciliation: `reconcile_day` (conditional GET from the EDGAR emulator, parse, publish what
   the topic lacks) on a day's index of 5,332 filings (the recorded day and a renumbered copy of
   it), into a topic that holds none of them, then the same day again (all known, 304).
4. start-up: the emitted set read back from a raw topic holding 1M and 5M keys of history plus a
   recent week (30,000 keys), read whole (the way ingest started before) and from the recent end
   (`offsets_for_times`, what ingest does now), side by side.
5. detection latency: `sec-digester ingest` at its defaults (1 poll/s, 4 req/s) against the EDGAR
   emulator; the emulator switches to snapshot B (new filings at the top) and the time from the
   switch to each new filing's `detected_at` is measured, on fresh topics,
   - steady: the topic already holds snapshot A (the whole feed, 51 pages, is known);
   - catch-up: the topic lacks the newest 2,500 entries of A (25 pages, as after an outage) and
     the switch comes while ingest reads them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import confluent_kafka
from confluent_kafka.admin import AdminClient, NewTopic

from bench._setup import CORPUS, local_topics, print_header
from services.common.avro import AvroCodec
from services.common.edgar import EdgarClient
from services.common.kafka import TransactionalProducer, producer_config
from services.common.ratelimit import RequestLimiter
from services.common.records import Filing, FilingSource
from services.common.registry import open_registry, subject_for
from services.common.schemas import SchemaName
from services.common.settings import TopicSettings
from services.emulator.server import run_emulator
from services.ingest.corpus import list_snapshots, load_snapshot
from services.ingest.daily_index import daily_index_path, parse_daily_index
from services.ingest.emitted import emitted_accessions, written_since
from services.ingest.feed import FeedEntry, merge_entries, parse_feed
from services.ingest.publisher import FilingPublisher
from services.ingest.reconcile import edgar_today, recent_business_days, reconcile_day
from services.ingest.tickers import TickerMap
from tests.support.cli import environment_for
from tests.support.infra import provision
from tests.support.processes import ServiceProcess, free_port
from tests.support.seeding import publish_filings
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
        merge_entries(
            entries, source=FilingSource.LIVE, detected_at=dt.datetime.now(dt.UTC), tickers=tickers
        )
        rates.append(len(entries) / (time.perf_counter() - start))
    print(
        f"   parse + merge: {statistics.median(rates):,.0f} entries/s "
        f"({len(entries)} entries in {len(pages)} pages, median of 5)"
    )


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
        print(
            f"   backfill into Kafka ({label}): {len(filings):,} filings in {seconds:.2f} s "
            f"= {len(filings) / seconds:,.0f} filings/s"
        )


def bench_detection(log_dir: Path, *, catch_up: bool) -> None:
    snapshot_a, snapshot_b = list_snapshots(CORPUS)
    unread = 2_500 if catch_up else 0
    # The filings B has on top of A: what arrives at the switch (the catch-up reads more).
    arriving = {e.accession_number for e in load_snapshot(CORPUS, snapshot_b)} - {
        e.accession_number for e in load_snapshot(CORPUS, snapshot_a)
    }
    latencies: list[float] = []
    trials = TRIALS // 3 if catch_up else TRIALS
    for trial in range(trials):
        settings = local_topics()
        asyncio.run(_publish_all(settings, _oldest_first(snapshot_a, without_newest=unread)))
        with run_emulator(CORPUS, snapshot_a) as emulator:
            env = environment_for(
                settings,
                EDGAR_BASE_URL=emulator.base_url,
                EDGAR_DATA_URL=emulator.data_url,
                INGEST_HEALTH_PORT=str(free_port()),
            )
            with ServiceProcess(f"ingest-{trial}", ["ingest"], env, log_dir):
                # Steady: ingest is polling (it has read page 0 at least twice); switch at a
                # random phase. Catch-up: switch while its first poll reads the backlog.
                pages = 3 if catch_up else 2
                while (
                    sum("getcurrent" in r.target for r in emulator.control.requests.snapshot())
                    < pages
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
                    new = [
                        (r.value["detected_at"] - switched).total_seconds()
                        for r in records
                        if r.key in arriving
                    ]
        latencies += new
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    mode = f"catch-up, {unread:,} entries unread" if catch_up else "steady, whole feed known"
    print(
        f"   detection latency ({mode}), snapshot switch to detected_at ({len(ordered)} "
        f"filings, {trials} trials): p50 {statistics.median(ordered):.2f} s, "
        f"p99 {p99:.2f} s, max {ordered[-1]:.2f} s"
    )


def _oldest_first(snapshot: str, *, without_newest: int) -> list[Filing]:
    """What ingest had published of the feed as it stood before its newest entries."""
    entries = load_snapshot(CORPUS, snapshot)[without_newest:]
    filings = merge_entries(
        entries,
        source=FilingSource.LIVE,
        detected_at=dt.datetime.now(dt.UTC),
        tickers=TickerMap.bundled(),
    )
    return filings[::-1]


def _doubled_index_corpus(directory: Path) -> dt.date:
    """A copy of the corpus whose 2020-03-19 index lists 2020-03-18's filings twice over:
    as recorded, and again under accession numbers of another year (so all are distinct)."""
    shutil.copytree(CORPUS, directory, dirs_exist_ok=True)
    recorded = INDEX.read_bytes()
    rows = recorded.partition(b"-" * 40)[2].split(b"\n", 1)[1]
    copy = re.sub(rb"(\d{10})-20-(\d{6})\.txt", rb"\1-19-\2.txt", rows)
    day = dt.date(2020, 3, 19)
    path = "www.sec.gov" + daily_index_path(day)
    (directory / path).write_bytes(recorded + copy)
    url = "https://www.sec.gov" + daily_index_path(day)
    line = {"url": url, "status": 200, "content_type": "text/plain", "path": path}
    with (directory / "manifest.jsonl").open("a") as manifest:
        manifest.write(json.dumps(line) + "\n")
    return day


async def bench_reconciliation(work_dir: Path) -> None:
    day = _doubled_index_corpus(work_dir / "corpus")
    settings = local_topics()
    await provision(settings)
    with run_emulator(work_dir / "corpus") as emulator:
        async with (
            open_registry(settings) as registry,
            TransactionalProducer(
                producer_config(
                    settings, client_id="bench", transactional_id=f"bench-{uuid.uuid4()}"
                )
            ) as producer,
            EdgarClient(user_agent="bench bench@example.com", limiter=RequestLimiter(4)) as edgar,
        ):
            codec = await AvroCodec(
                registry, subject_for(settings.topic_raw), SchemaName.FILING
            ).open()
            publisher = FilingPublisher(
                producer,
                codec,
                settings.topic_raw,
                set(),
                read_emitted=lambda: emitted_accessions(settings, settings.topic_raw, since=None),
            )
            for label in ("into an empty topic", "again, unchanged (304)"):
                start = time.perf_counter()
                outcome = await reconcile_day(
                    edgar,
                    publisher,
                    emulator.base_url,
                    TickerMap.bundled(),
                    day,
                    conditional=True,
                )
                seconds = time.perf_counter() - start
                rate = f" = {outcome.added / seconds:,.0f} filings/s" if outcome.added else ""
                print(
                    f"   reconciliation of one day's index {label}: listed {outcome.listed:,}, "
                    f"added {outcome.added:,} in {seconds:.2f} s{rate}"
                )


def _fill_history(settings: TopicSettings, old_keys: int, recent_keys: int) -> None:
    """Keys written over six years before the recent week, then the recent week's."""
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap_servers})
    # Unlimited retention, as the raw topic has: the broker's default of 7 days would delete
    # the history written with old timestamps.
    admin.create_topics([NewTopic(settings.topic_raw, 3, 1, config={"retention.ms": "-1"})])[
        settings.topic_raw
    ].result()
    producer = confluent_kafka.Producer(
        {
            "bootstrap.servers": settings.kafka_bootstrap_servers,
            "linger.ms": 50,
            "compression.type": "zstd",
            "batch.size": 1_000_000,
        }
    )
    value = bytes(range(256)) + bytes(60)  # about the size of a Filing record
    now_ms = int(time.time() * 1000)
    six_years_ms, week_ms = 6 * 365 * 86_400_000, 7 * 86_400_000
    for n in range(old_keys + recent_keys):
        if n < old_keys:
            written = now_ms - six_years_ms + (six_years_ms - week_ms) * n // old_keys
        else:
            written = now_ms - week_ms + week_ms * (n - old_keys) // max(1, recent_keys)
        key = f"{n // 1_000_000:010d}-{n // 100_000 % 10:02d}-{n % 100_000:06d}".encode()
        while True:
            try:
                producer.produce(settings.topic_raw, key=key, value=value, timestamp=written)
                break
            except BufferError:
                producer.poll(0.1)
    producer.flush()


async def bench_startup() -> None:
    recent = 30_000
    window_start = written_since(recent_business_days(edgar_today(), 3)[0])
    for history in (1_000_000, 5_000_000):
        settings = local_topics()
        _fill_history(settings, history, recent)
        figures = []
        for label, since in (("whole topic", None), ("recent end", window_start)):
            start = time.perf_counter()
            keys = await emitted_accessions(settings, settings.topic_raw, since=since)
            figures.append(time.perf_counter() - start)
            print(
                f"   start-up, {history:,} keys of history + {recent:,} recent, read from the "
                f"{label}: {len(keys):,} keys in {figures[-1]:.2f} s"
            )
        print(f"      ratio whole / recent end: {figures[0] / figures[1]:,.0f}x")


def main() -> None:
    print_header("ingest", "make bench  (or: .venv/bin/python -m bench.ingest [LOG_DIR])")
    log_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("bench/results")
    bench_parse()
    asyncio.run(bench_backfill())
    with tempfile.TemporaryDirectory() as work_dir:
        asyncio.run(bench_reconciliation(Path(work_dir)))
    asyncio.run(bench_startup())
    bench_detection(log_dir, catch_up=False)
    bench_detection(log_dir, catch_up=True)


if __name__ == "__main__":
    main()
