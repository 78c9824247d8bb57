"""`sec-digester ingest` as a separate process, against the EDGAR emulator and real Kafka.

Expected accession numbers are computed here from the corpus files with a plain regex, not by
the project's parser, and the raw topic is read back by a plain confluent-kafka consumer.
"""

from __future__ import annotations

import re
import signal
from collections import Counter
from pathlib import Path

import httpx
import pytest

from services.common.settings import TopicSettings
from services.emulator.faults import Fault, FaultKind
from services.emulator.server import EmulatorHandle
from tests.support.cli import edgar_environment, environment_for, run_cli
from tests.support.processes import ServiceProcess, free_port
from tests.support.records import CORPUS_DIR
from tests.support.topic_reader import TopicRecord, read_topic
from tests.support.waiting import wait_for

SNAPSHOT_A, SNAPSHOT_B = "2025-12-12T18-02-33", "2025-12-12T18-03-31"
FEED_PATH = "/cgi-bin/browse-edgar"
_ACCESSION_ID = re.compile(rb"accession-number=(\d{10}-\d{2}-\d{6})")


def accessions_in_snapshot(snapshot: str) -> set[str]:
    found: set[str] = set()
    for page in (CORPUS_DIR / "getcurrent" / snapshot).glob("*.xml"):
        found |= {m.decode() for m in _ACCESSION_ID.findall(page.read_bytes())}
    return found


def ingest_env(topics: TopicSettings, emulator: EmulatorHandle, **extra: str) -> dict[str, str]:
    # Only where EDGAR is and the health port: every other setting at its default.
    defaults = {**edgar_environment(emulator), "INGEST_HEALTH_PORT": str(free_port())}
    return environment_for(topics, **(defaults | extra))


def raw_records(topics: TopicSettings) -> list[TopicRecord]:
    return read_topic(topics.kafka_bootstrap_servers, topics.schema_registry_url, topics.topic_raw)


def wait_for_accessions(topics: TopicSettings, expected: set[str], timeout_s: float = 120) -> None:
    wait_for(
        lambda: {r.key for r in raw_records(topics)} >= expected or None,
        timeout_s=timeout_s,
        what=f"{len(expected)} accession numbers on {topics.topic_raw}",
        interval_s=1.0,
    )


def assert_exactly_once(topics: TopicSettings, expected: set[str]) -> list[TopicRecord]:
    records = raw_records(topics)
    counts = Counter(r.key for r in records)
    assert {k: n for k, n in counts.items() if n > 1} == {}
    assert set(counts) == expected
    assert all(r.value["accession_number"] == r.key for r in records)
    return records


def feed_requests_after(emulator: EmulatorHandle, count: int) -> int | None:
    """How many feed requests were logged, once there are more than `count`."""
    seen = sum(FEED_PATH in r.target for r in emulator.control.requests.snapshot())
    return seen if seen > count else None


def stalled(emulator: EmulatorHandle) -> bool:
    return any(r.fault == FaultKind.STALL for r in emulator.control.requests.snapshot())


def feed_requests(emulator: EmulatorHandle) -> int:
    return sum(FEED_PATH in r.target for r in emulator.control.requests.snapshot())


def test_two_snapshots_give_their_union_each_exactly_once(
    topics: TopicSettings, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    first, second = accessions_in_snapshot(SNAPSHOT_A), accessions_in_snapshot(SNAPSHOT_B)
    with ServiceProcess("ingest", ["ingest"], ingest_env(topics, emulator), tmp_path):
        wait_for_accessions(topics, first)
        emulator.control.switch_snapshot(SNAPSHOT_B)
        wait_for_accessions(topics, first | second)
        # A few more polls of the unchanged feed must add nothing.
        polls = feed_requests(emulator)
        wait_for(
            lambda: feed_requests_after(emulator, polls + 3), timeout_s=30, what="3 more polls"
        )
    records = assert_exactly_once(topics, first | second)
    assert all(r.value["source"] == "live" for r in records)


def test_killed_and_restarted_during_and_between_polls_still_exactly_once(
    topics: TopicSettings, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    first, second = accessions_in_snapshot(SNAPSHOT_A), accessions_in_snapshot(SNAPSHOT_B)
    ingest = ServiceProcess("ingest", ["ingest"], ingest_env(topics, emulator), tmp_path)
    # During a poll: the first feed page stalls, and ingest dies while waiting for it.
    emulator.control.faults.add(Fault(FaultKind.STALL, path_prefix=FEED_PATH, stall_seconds=30))
    with ingest:
        wait_for(lambda: stalled(emulator), timeout_s=60, what="the stalled page")
        ingest.kill()
        ingest.start()
        wait_for_accessions(topics, first)
        # Between polls: the feed has been read to known ground, then the process dies.
        polls = feed_requests(emulator)
        wait_for(lambda: feed_requests_after(emulator, polls + 1), timeout_s=30, what="a poll")
        ingest.kill()
        emulator.control.switch_snapshot(SNAPSHOT_B)
        polls = feed_requests(emulator)
        ingest.start()
        # At an arbitrary moment of the next run (once it polls again): again.
        wait_for(
            lambda: feed_requests_after(emulator, polls),
            timeout_s=60,
            what="the restarted ingest polling",
        )
        ingest.kill()
        ingest.start()
        wait_for_accessions(topics, first | second)
        polls = feed_requests(emulator)
        wait_for(
            lambda: feed_requests_after(emulator, polls + 2), timeout_s=30, what="2 more polls"
        )
    assert ingest.starts == 4
    assert_exactly_once(topics, first | second)


def test_a_form_4_is_one_record_with_issuer_and_reporting_owner(
    topics: TopicSettings, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    # In the first recorded page: "4 - BREAUX PAUL W. (Reporting)" and "4 - CARVANA CO. (Issuer)".
    accession = "0001700545-25-000020"
    with ServiceProcess("ingest", ["ingest"], ingest_env(topics, emulator), tmp_path):
        wait_for_accessions(topics, {accession})
    matching = [r for r in raw_records(topics) if r.key == accession]
    assert len(matching) == 1
    filing = matching[0].value
    assert filing["form_type"] == "4"
    roles = {(e["name"], e["role"]) for e in filing["entities"]}
    assert roles == {("CARVANA CO.", "issuer"), ("BREAUX PAUL W.", "reporting")}
    assert filing["entities"][0]["role"] == "issuer"
    assert "CVNA" in filing["tickers"]


def test_retry_after_is_honoured_and_no_second_holds_more_than_ten_requests(
    topics: TopicSettings, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    env = ingest_env(topics, emulator, INGEST_POLL_INTERVAL_S="0.05")
    with ServiceProcess("ingest", ["ingest"], env, tmp_path):
        wait_for_accessions(topics, accessions_in_snapshot(SNAPSHOT_A))
        emulator.control.faults.add(
            Fault(FaultKind.RATE_LIMITED, path_prefix=FEED_PATH, retry_after=2)
        )
        wait_for(
            lambda: any(r.status == 429 for r in emulator.control.requests.snapshot()),
            timeout_s=30,
            what="the 429",
        )
        polls = feed_requests(emulator)
        wait_for(lambda: feed_requests_after(emulator, polls + 5), timeout_s=30, what="more polls")
    log = emulator.control.requests.snapshot()
    refused = next(i for i, r in enumerate(log) if r.status == 429)
    assert log[refused + 1].monotonic - log[refused].monotonic >= 2.0
    assert emulator.control.requests.max_in_window(1.0) <= 10
    assert {r.user_agent for r in log} == {"sec-digester tests contact@example.com"}


@pytest.mark.parametrize(
    ("fault", "logged"),
    [
        (FaultKind.MALFORMED, "poll failed; the next poll retries"),
        (FaultKind.TRUNCATE, "poll failed; the next poll retries"),
        (FaultKind.FORBIDDEN, "poll failed; the next poll retries"),
        # A reset connection is retried at once (with backoff) within the same poll.
        (FaultKind.RESET, "edgar request retried"),
    ],
)
def test_bad_pages_fail_one_poll_and_the_next_good_poll_proceeds(
    topics: TopicSettings, emulator: EmulatorHandle, tmp_path: Path, fault: FaultKind, logged: str
) -> None:
    first, second = accessions_in_snapshot(SNAPSHOT_A), accessions_in_snapshot(SNAPSHOT_B)
    # The very first page ingest asks for is bad, and so are the first pages after the switch.
    emulator.control.faults.add(Fault(fault, path_prefix=FEED_PATH, count=2))
    ingest = ServiceProcess("ingest", ["ingest"], ingest_env(topics, emulator), tmp_path)
    with ingest:
        wait_for_accessions(topics, first)
        emulator.control.faults.add(Fault(fault, path_prefix=FEED_PATH, count=2))
        emulator.control.switch_snapshot(SNAPSHOT_B)
        wait_for_accessions(topics, first | second)
        assert ingest.running()
    assert_exactly_once(topics, first | second)
    output = ingest.output()
    assert logged in output
    assert f"{emulator.base_url}{FEED_PATH}" in output  # the URL is in the log line


def test_backfill_of_a_daily_index_emits_each_accession_once(
    topics: TopicSettings, emulator: EmulatorHandle
) -> None:
    index = CORPUS_DIR / "www.sec.gov/Archives/edgar/daily-index/2020/QTR1/form.20200318.idx"
    expected = {
        m.group(1).decode()
        for m in re.finditer(rb"edgar/data/\d+/(\d{10}-\d{2}-\d{6})\.txt", index.read_bytes())
    }
    env = ingest_env(topics, emulator)
    for _ in range(2):  # the second run finds everything emitted and adds nothing
        result = run_cli("ingest", "--source", "index", "--date", "2020-03-18", env=env)
        assert result.returncode == 0, result.stderr[-2000:]
    records = assert_exactly_once(topics, expected)
    assert all(r.value["source"] == "daily_index" for r in records)
    # A day without an index (a Sunday) is reported, not an error.
    sunday = run_cli("ingest", "--source", "index", "--date", "2020-03-22", env=env)
    assert sunday.returncode == 0
    assert "no daily index for this day" in sunday.stderr


def test_a_missing_user_agent_is_refused_against_sec_gov(topics: TopicSettings) -> None:
    env = environment_for(topics, INGEST_HEALTH_PORT=str(free_port()))
    result = run_cli("ingest", env=env)
    assert result.returncode == 2
    assert "EDGAR_USER_AGENT" in result.stderr


def test_sigterm_stops_ingest_cleanly(
    topics: TopicSettings, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    ingest = ServiceProcess("ingest", ["ingest"], ingest_env(topics, emulator), tmp_path)
    with ingest:
        wait_for_accessions(topics, accessions_in_snapshot(SNAPSHOT_A))
        ingest.signal(signal.SIGTERM)
        assert ingest.wait(timeout_s=30) == 0
    assert "ingest stopped" in ingest.output()


def test_replay_plays_the_recorded_corpus_once_and_ends(topics: TopicSettings) -> None:
    env = environment_for(topics, INGEST_HEALTH_PORT=str(free_port()))
    args = ["ingest", "--source", "replay", "--corpus", str(CORPUS_DIR), "--speed", "100000"]
    for _ in range(2):  # a second replay finds everything emitted
        result = run_cli(*args, env=env)
        assert result.returncode == 0, result.stderr[-2000:]
    records = assert_exactly_once(
        topics, accessions_in_snapshot(SNAPSHOT_A) | accessions_in_snapshot(SNAPSHOT_B)
    )
    assert all(r.value["source"] == "replay" for r in records)
    # Oldest first within the first snapshot: the topic's order follows acceptance times.
    accepted = [r.value["accepted_at"] for r in records[: len(accessions_in_snapshot(SNAPSHOT_A))]]
    assert accepted == sorted(accepted)


def test_health_and_metrics_endpoints(
    topics: TopicSettings, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    env = ingest_env(topics, emulator)
    health = f"http://127.0.0.1:{env['INGEST_HEALTH_PORT']}"
    with ServiceProcess("ingest", ["ingest"], env, tmp_path):
        wait_for_accessions(topics, accessions_in_snapshot(SNAPSHOT_A))
        assert httpx.get(f"{health}/healthz", timeout=5).status_code == 200
        ready = httpx.get(f"{health}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {
            "kafka": True,
            "registry": True,
            "source": True,
            "started": True,
        }
        metrics = httpx.get(f"{health}/metrics", timeout=5).text
    assert 'ingest_filings_emitted_total{form_type="4",source="live"}' in metrics
    assert 'ingest_polls_total{outcome="ok"}' in metrics
    assert "ingest_detection_latency_seconds_bucket" in metrics
    assert "ingest_last_successful_poll_timestamp_seconds" in metrics
    assert 'edgar_http_responses_total{status="200"}' in metrics
