"""Analyze benchmarks: the offline analyzer alone, and raw -> analyzed through Kafka.

1. offline analyzer, in process: (a) the corpus documents (8-K submissions and press releases,
   text extracted once beforehand) and (b) every filing of a recorded feed snapshot, analyzed
   from metadata as most feed filings are.
2. pipeline: a feed snapshot seeded on the raw topic, then `sec-digester analyze` (offline, no
   document fetching) as a separate process until every analysis is on the analyzed topic;
   filings/s from the first to the last analysis, at 1 partition (one process) and 3 partitions
   (one and two processes).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench._setup import CORPUS, local_topics, print_header
from services.analyze.judgement.offline import OfflineAnalyzer
from services.analyze.reading.items import detect_items, item_sections
from services.analyze.reading.text import extract_text, parse_submission
from services.common.records import Filing
from tests.support.cli import environment_for
from tests.support.infra import provision
from tests.support.processes import ServiceProcess, free_port
from tests.support.seeding import publish_filings, snapshot_filings
from tests.support.topic_reader import read_topic

SNAPSHOT = "2025-12-12T18-02-33"


def _documents() -> list[tuple[str, tuple[str, ...], dict[str, str]]]:
    """(text, items, item sections) of every corpus document."""
    found = []
    paths = [*CORPUS.glob("documents/*"), *CORPUS.glob("www.sec.gov/Archives/edgar/data/*/*/*")]
    for path in paths:
        data = path.read_bytes()
        if path.suffix == ".txt":
            submission = parse_submission(data)
            text = "\n".join(t.text for d in submission.documents if (t := d.text()) is not None)
            items = detect_items(submission.header.item_titles, text)
        else:
            text = extract_text(data, path.name).text
            items = detect_items((), text)
        found.append((text, items, item_sections(text)))
    return found


Work = Sequence[tuple[Filing, str | None, tuple[str, ...] | None, dict[str, str] | None]]


def _rate(work: Work) -> float:
    analyzer, rates = OfflineAnalyzer(), []
    for _ in range(3):
        start = time.perf_counter()
        for filing, text, items, sections in work:
            analyzer.analyze(filing, text, items, sections)
        rates.append(len(work) / (time.perf_counter() - start))
    return statistics.median(rates)


def bench_offline() -> None:
    filings = snapshot_filings(SNAPSHOT)
    eight_k = next(f for f in filings if f.form_type == "8-K")
    documents = [(eight_k, text, items, sections) for text, items, sections in _documents()]
    metadata_only = [(f, None, None, None) for f in filings]
    print(
        f"   offline analyzer, corpus documents ({len(documents)} documents): "
        f"{_rate(documents):,.0f} filings/s"
    )
    print(
        f"   offline analyzer, feed snapshot from metadata ({len(filings)} filings): "
        f"{_rate(metadata_only):,.0f} filings/s"
    )


def _pipeline(partitions: int, processes: int, log_dir: Path) -> float:
    settings = local_topics().model_copy(update={"topic_partitions": partitions})
    asyncio.run(provision(settings))
    filings = snapshot_filings(SNAPSHOT)
    asyncio.run(publish_filings(settings, filings))
    envs = [
        environment_for(
            settings,
            ANALYZE_FETCH_FORMS="",
            ANALYZE_HEALTH_PORT=str(free_port()),
            ANALYZE_GROUP_ID=f"bench-{settings.topic_raw}",
            ANALYZE_INSTANCE_ID=f"bench-{n}",
        )
        for n in range(processes)
    ]
    running = [
        ServiceProcess(f"analyze-{partitions}p-{n}", ["analyze"], env, log_dir).start()
        for n, env in enumerate(envs)
    ]
    try:
        while True:
            records = read_topic(
                settings.kafka_bootstrap_servers,
                settings.schema_registry_url,
                settings.topic_analyzed,
            )
            if len(records) >= len(filings):
                break
            if not all(process.running() for process in running):
                raise SystemExit(f"analyze exited; see {log_dir}")
            time.sleep(1)
    finally:
        for process in running:
            process.__exit__(None, None, None)
    times = sorted(r.value["analyzed_at"] for r in records)
    elapsed: float = (times[-1] - times[0]).total_seconds()
    return len(records) / max(0.001, elapsed)


def main() -> None:
    print_header("analyze", "make bench  (or: .venv/bin/python -m bench.analyze)")
    bench_offline()
    log_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("bench/results")
    for partitions, processes in ((1, 1), (3, 1), (3, 2)):
        rate = _pipeline(partitions, processes, log_dir)
        print(
            f"   pipeline raw -> analyzed, {partitions} partition(s), {processes} process(es): "
            f"{rate:,.0f} filings/s"
        )


if __name__ == "__main__":
    main()
