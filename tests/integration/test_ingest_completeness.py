"""Completeness: every filing EDGAR lists reaches the raw topic exactly once, at the defaults.

Ingest runs as a separate process with nothing but its defaults changed for where EDGAR, Kafka
and its health port are. Expected accession numbers come from the corpus files by a plain
regex, and the topic is read back by a plain read_committed confluent-kafka consumer with only
the registry (tests/support/topic_reader.py).

Feed states are built from the two recorded snapshots of one afternoon: "snapshot A without its
newest N entries" is the feed as it stood earlier that day, so switching to the full snapshot A
(or to B, a minute later) puts N entries, more than 20 pages of 100, on top of what was seen.
The daily index filings come from the recorded form.20200318.idx, served by the emulator as the
index of a recent business day: its filings never appear in the feed.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import confluent_kafka
import httpx

from services.common.settings import TopicSettings
from services.emulator.server import EmulatorHandle
from services.ingest.reconcile import edgar_today, recent_business_days
from tests.integration.test_ingest import (
    SNAPSHOT_A,
    SNAPSHOT_B,
    accessions_in_snapshot,
    assert_exactly_once,
    feed_requests,
    ingest_env,
    raw_records,
    wait_for_accessions,
)
from tests.support.cli import run_cli
from tests.support.processes import ServiceProcess
from tests.support.records import CORPUS_DIR
from tests.support.waiting import wait_for

RECORDED_INDEX = "/Archives/edgar/daily-index/2020/QTR1/form.20200318.idx"
INDEX_PATH = CORPUS_DIR / "www.sec.gov" / RECORDED_INDEX.lstrip("/")


def accessions_in_index() -> set[str]:
    pattern = rb"edgar/data/\d+/(\d{10}-\d{2}-\d{6})\.txt"
    return {m.group(1).decode() for m in re.finditer(pattern, INDEX_PATH.read_bytes())}


def metric(env: dict[str, str], name: str) -> float:
    """The sum of a metric's samples; NaN while the health server is not up yet."""
    try:
        url = f"http://127.0.0.1:{env['INGEST_HEALTH_PORT']}/metrics"
        text = httpx.get(url, timeout=5).text
    except httpx.TransportError:
        return float("nan")
    values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(name)]
    return sum(values)


def test_a_day_then_more_than_20_new_pages_across_a_sigkill_lands_exactly_once(
    topics: TopicSettings, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    # The afternoon so far: 2,553 entries (26 pages) ...
    emulator.control.switch_snapshot(SNAPSHOT_A, without_newest=2_500)
    everything = accessions_in_snapshot(SNAPSHOT_A) | accessions_in_snapshot(SNAPSHOT_B)
    env = ingest_env(topics, emulator)
    ingest = ServiceProcess("ingest", ["ingest"], env, tmp_path)
    with ingest:
        wait_for(
            lambda: len(raw_records(topics)) >= 1_689 or None,
            timeout_s=120,
            what="the first state on the topic",
        )
        # ... then a minute later, 2,510 entries (25 pages) newer than anything seen.
        polls = feed_requests(emulator)
        emulator.control.switch_snapshot(SNAPSHOT_B)
        # Killed in the middle of reading them (the 10th page of the new state).
        wait_for(
            lambda: feed_requests(emulator) >= polls + 10 or None,
            timeout_s=60,
            what="ten pages of the new state",
        )
        ingest.kill()
        ingest.start()
        wait_for_accessions(topics, everything)
    records = assert_exactly_once(topics, everything)
    assert all(r.value["source"] == "live" for r in records)
    assert "page bound reached" not in ingest.output()


def test_a_burst_of_more_than_20_pages_between_two_polls_misses_nothing(
    topics: TopicSettings, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    emulator.control.switch_snapshot(SNAPSHOT_A, without_newest=2_200)
    env = ingest_env(topics, emulator)
    with ServiceProcess("ingest", ["ingest"], env, tmp_path) as ingest:
        wait_for(
            lambda: len(raw_records(topics)) >= 1_896 or None,
            timeout_s=120,
            what="the feed before the burst",
        )
        emulator.control.switch_snapshot(SNAPSHOT_A)  # 2,200 entries (22 pages) at once
        wait_for_accessions(topics, accessions_in_snapshot(SNAPSHOT_A))
        gaps = metric(env, "ingest_feed_gaps_total")
    assert_exactly_once(topics, accessions_in_snapshot(SNAPSHOT_A))
    assert gaps == 0
    assert "feed gap" not in ingest.output()


def test_a_gap_only_the_daily_index_can_close_is_added_by_reconciliation(
    topics: TopicSettings, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    # While ingest was down, EDGAR published the index of a recent business day listing 2,666
    # filings the feed it polls never shows.
    day = recent_business_days(edgar_today(), 3)[1]
    emulator.control.publish_daily_index(day, RECORDED_INDEX)
    from_feed, from_index = accessions_in_snapshot(SNAPSHOT_A), accessions_in_index()
    env = ingest_env(topics, emulator)
    with ServiceProcess("ingest", ["ingest"], env, tmp_path) as ingest:
        wait_for_accessions(topics, from_feed | from_index)
        reconciled = metric(env, "ingest_reconciled_filings_total")
        read = metric(env, 'ingest_reconciliations_total{outcome="read"}')
    records = assert_exactly_once(topics, from_feed | from_index)
    sources = {r.key: r.value["source"] for r in records}
    assert {sources[a] for a in from_index - from_feed} == {"daily_index"}
    assert {sources[a] for a in from_feed} == {"live"}
    assert reconciled == len(from_index - from_feed)
    assert read == 1
    assert f'"day": "{day.isoformat()}"' in ingest.output()
    assert f'"added": {len(from_index - from_feed)}' in ingest.output()
    # The other days of the window were asked for (404: not published), within the budget.
    asked = {r.target for r in emulator.control.requests.snapshot() if "daily-index" in r.target}
    assert len(asked) == 3


def test_backfill_beside_a_running_live_ingest_writes_nothing_twice(
    topics: TopicSettings, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    from_feed, from_index = accessions_in_snapshot(SNAPSHOT_A), accessions_in_index()
    env = ingest_env(topics, emulator)
    with ServiceProcess("ingest", ["ingest"], env, tmp_path) as live:
        wait_for_accessions(topics, from_feed)
        # A recent day's index appears, and is backfilled by hand while the live ingest's own
        # reconciliation covers the same day; then the same filings as an old day, twice.
        day = recent_business_days(edgar_today(), 3)[-1]
        emulator.control.publish_daily_index(day, RECORDED_INDEX)
        emulator.control.publish_daily_index(dt.date(2020, 3, 17), RECORDED_INDEX)
        for number, backfilled in enumerate([day, dt.date(2020, 3, 17), dt.date(2020, 3, 17)]):
            args = ["ingest", "--source", "index", "--date", backfilled.isoformat()]
            backfill = ServiceProcess(
                f"backfill-{number}", args, ingest_env(topics, emulator), tmp_path
            )
            backfill.start()
            assert backfill.wait(timeout_s=300) == 0, backfill.output()[-3000:]
            assert "backfill done by the live ingest" in backfill.output()
        # Recorded filings do not belong in a topic a live ingest writes: a replay is refused.
        replay = run_cli(
            "ingest",
            "--source",
            "replay",
            "--corpus",
            str(CORPUS_DIR),
            env=ingest_env(topics, emulator),
        )
        assert replay.returncode == 2, replay.stderr[-2000:]
        assert "a live ingest is writing TOPIC_RAW" in replay.stderr
        assert live.running()
    assert_exactly_once(topics, from_feed | from_index)
    assert "backfill handed over" in live.output()


def test_a_live_feed_past_the_page_bound_counts_a_gap_and_reconciles_at_once(
    topics: TopicSettings, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    # A bound of 5 pages (the safety limit set low, not a default raised) on a 51-page feed.
    env = ingest_env(topics, emulator, INGEST_MAX_PAGES="5")
    with ServiceProcess("ingest", ["ingest"], env, tmp_path) as ingest:
        wait_for(
            lambda: metric(env, "ingest_feed_gaps_total") >= 1 or None,
            timeout_s=60,
            what="the gap counted",
        )
        # The gap wakes reconciliation at once: a second pass over the window's three days
        # (without one, the next pass is INGEST_RECONCILE_INTERVAL_S = 300 s away).
        wait_for(
            lambda: (
                sum("daily-index" in r.target for r in emulator.control.requests.snapshot()) >= 6
                or None
            ),
            timeout_s=60,
            what="a reconciliation pass after the gap",
        )
    assert 'reason": "page_bound"' in ingest.output()


def test_a_fenced_live_ingest_rebuilds_its_producer_and_loses_nothing(
    topics: TopicSettings, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    # Another producer takes the live ingest's transactional id (a zombie's restart, an
    # operator's mistake): its init_transactions fences the running ingest. Ingest's next
    # transaction fails as fenced; it starts a new producer under the same id (fencing back),
    # re-reads what is on the topic, and goes on. Nothing is lost and nothing is written twice.
    first, second = accessions_in_snapshot(SNAPSHOT_A), accessions_in_snapshot(SNAPSHOT_B)
    env = ingest_env(topics, emulator)
    with ServiceProcess("ingest", ["ingest"], env, tmp_path) as ingest:
        wait_for_accessions(topics, first)
        intruder = confluent_kafka.Producer(
            {
                "bootstrap.servers": topics.kafka_bootstrap_servers,
                "transactional.id": "sec-digester-ingest",  # INGEST_TRANSACTIONAL_ID's default
            }
        )
        intruder.init_transactions(30)
        emulator.control.switch_snapshot(SNAPSHOT_B)
        wait_for_accessions(topics, first | second)
        assert ingest.running()
    assert_exactly_once(topics, first | second)
    assert "starting a new one with the same transactional id" in ingest.output()
