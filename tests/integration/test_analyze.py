"""`sec-digester analyze` as separate processes on real Kafka, the registry and the emulator.

The analyzed and dead-letter topics are read back by a plain read_committed confluent-kafka
consumer (tests/support/topic_reader.py), which is what "exactly once" is judged by.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from functools import partial
from pathlib import Path

import confluent_kafka
import httpx
import pytest
from confluent_kafka import Producer

from services.common.records import Entity, Filing, FilingSource
from services.common.settings import TopicSettings
from services.emulator.server import EmulatorHandle, run_emulator
from services.infra.settings import InfraSettings
from tests.support.cli import edgar_environment, environment_for
from tests.support.infra import provision, topic_settings
from tests.support.openai_stub import answer, serve_openai_stub
from tests.support.ownership_corpus import ISABELLA_PURCHASE, corpus_with_ownership
from tests.support.processes import ServiceProcess, free_port
from tests.support.records import sample_filing
from tests.support.seeding import publish_filings, snapshot_filings
from tests.support.topic_reader import TopicRecord, read_topic
from tests.support.waiting import wait_for

SNAPSHOT = "2025-12-12T18-02-33"


def analyze_env(topics: TopicSettings, emulator: EmulatorHandle, **extra: str) -> dict[str, str]:
    defaults = {
        **edgar_environment(emulator),
        "ANALYZE_MAX_REQUESTS_PER_SECOND": "10",
        "ANALYZE_HEALTH_PORT": str(free_port()),
        "ANALYZE_BATCH_SIZE": "100",
        "EDGAR_MAX_ATTEMPTS": "2",
        "ANALYZE_GROUP_ID": f"analyze-{topics.topic_raw}",
    }
    return environment_for(topics, **(defaults | extra))


def topic_records(topics: TopicSettings, topic: str) -> list[TopicRecord]:
    return read_topic(topics.kafka_bootstrap_servers, topics.schema_registry_url, topic)


def wait_for_count(topics: TopicSettings, topic: str, count: int, timeout_s: float = 180) -> None:
    wait_for(
        lambda: len({r.key for r in topic_records(topics, topic)}) >= count or None,
        timeout_s=timeout_s,
        what=f"{count} records on {topic}",
        interval_s=1.0,
    )


def metrics_of(env: dict[str, str]) -> str:
    try:
        return httpx.get(f"http://127.0.0.1:{env['ANALYZE_HEALTH_PORT']}/metrics", timeout=5).text
    except httpx.HTTPError:
        return ""


def dead_letter_gauge(env: dict[str, str]) -> float:
    for line in metrics_of(env).splitlines():
        if line.startswith("analyze_dead_letter_topic_records "):
            return float(line.split()[1])
    return 0.0


def has_assignment(env: dict[str, str]) -> bool:
    return "analyze_consumer_lag{" in metrics_of(env)


def assert_each_once(records: list[TopicRecord], expected: set[str]) -> None:
    counts = Counter(r.key for r in records)
    assert {k: n for k, n in counts.items() if n > 1} == {}
    assert set(counts) == expected


def test_kill_9_mid_stream_loses_and_duplicates_nothing(
    topics: TopicSettings, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    filings = snapshot_filings(SNAPSHOT)
    asyncio.run(publish_filings(topics, filings))
    # Documents are not fetched here: this is about the transactions, not about EDGAR.
    env = analyze_env(topics, emulator, ANALYZE_FETCH_FORMS="")
    analyze = ServiceProcess("analyze", ["analyze"], env, tmp_path)
    with analyze:
        for progress in (300, 1500):
            wait_for_count(topics, topics.topic_analyzed, progress)
            analyze.kill()
            analyze.start()
        wait_for_count(topics, topics.topic_analyzed, len(filings))
    records = topic_records(topics, topics.topic_analyzed)
    assert_each_once(records, {f.accession_number for f in filings})
    assert {r.value["document_status"] for r in records} == {"skipped"}
    assert all(r.value["analyzer"]["name"] == "offline" for r in records)
    # Same key, same partitioner: an analysis lands in the partition of its filing.
    assert all(r.value["filing"]["accession_number"] == r.key for r in records)


def test_a_corrupt_record_is_dead_lettered_and_the_partition_moves_on(
    topics: TopicSettings, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    good = [sample_filing(n, form_type="4") for n in range(1, 6)]
    asyncio.run(publish_filings(topics, good[:3]))
    corrupt = {b"not-avro": b"this is not Avro", b"unknown-schema": b"\x00\x7f\xff\xff\xf0garbage"}
    producer = Producer({"bootstrap.servers": topics.kafka_bootstrap_servers})
    for key, value in corrupt.items():
        producer.produce(topics.topic_raw, key=key, value=value)
    producer.flush(10)
    asyncio.run(publish_filings(topics, good[3:]))
    env = analyze_env(topics, emulator)
    with ServiceProcess("analyze", ["analyze"], env, tmp_path):
        wait_for_count(topics, topics.topic_analyzed, len(good))
        wait_for_count(topics, topics.topic_dlq, len(corrupt))
        # What the "DLQ not empty" alert watches (deploy/prometheus/alerts.yaml).
        wait_for(
            lambda: dead_letter_gauge(env) >= len(corrupt) or None,
            timeout_s=30,
            what="the dead-letter gauge",
        )
    assert_each_once(
        topic_records(topics, topics.topic_analyzed), {f.accession_number for f in good}
    )
    letters = {r.key: r.value for r in topic_records(topics, topics.topic_dlq)}
    assert set(letters) == {k.decode() for k in corrupt}
    for key, value in corrupt.items():
        letter = letters[key.decode()]
        assert letter["value"] == value  # the original bytes, untouched
        assert letter["topic"] == topics.topic_raw
        assert letter["service"] == "analyze"
        assert letter["error_type"] in {"SerializationError", "SchemaRegistryError"}
        assert letter["reason"]


_JPM_FOLDER = "https://www.sec.gov/Archives/edgar/data/19617/000001961726000241"


def _jpmorgan_8k() -> Filing:
    """The JPMorgan 8-K whose complete submission and documents are in the corpus."""
    accession = "0000019617-26-000241"
    return Filing(
        accession_number=accession,
        form_type="8-K",
        accepted_at=dt.datetime(2026, 6, 24, 16, 5, tzinfo=dt.UTC),
        filed_date=dt.date(2026, 6, 24),
        entities=(Entity("0000019617", "JPMORGAN CHASE & CO", "filer", ("JPM",)),),
        tickers=("JPM",),
        index_url=f"{_JPM_FOLDER}/{accession}-index.htm",
        size_bytes=60_000,
        source=FilingSource.LIVE,
        detected_at=dt.datetime.now(dt.UTC),
    )


def test_documents_present_absent_and_skipped(
    topics: TopicSettings, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    absent = next(f for f in snapshot_filings(SNAPSHOT) if f.form_type == "8-K")
    skipped = sample_filing(77, form_type="D")  # not in the fetched forms
    asyncio.run(publish_filings(topics, [_jpmorgan_8k(), absent, skipped]))
    with ServiceProcess("analyze", ["analyze"], analyze_env(topics, emulator), tmp_path):
        wait_for_count(topics, topics.topic_analyzed, 3)
    by_key = {r.key: r.value for r in topic_records(topics, topics.topic_analyzed)}
    jpm = by_key["0000019617-26-000241"]
    assert jpm["document_status"] == "fetched"
    assert "5.02" in jpm["items"]
    assert jpm["analysis"]["priority"] in {"high", "critical"}
    assert jpm["analysis"]["summary"]
    missing = by_key[absent.accession_number]
    assert missing["document_status"] == "not_found"
    assert missing["analysis"]["summary"]  # analyzed from its metadata
    assert by_key[skipped.accession_number]["document_status"] == "skipped"
    # The text analyze read is on the text topic, committed with its analysis; the filings
    # whose documents were not read have none, and their analyses say so (text_bytes null).
    texts = topic_records(topics, topics.topic_text)
    assert [r.key for r in texts] == ["0000019617-26-000241"]
    text = texts[0].value
    assert text["document_url"] == jpm["document_url"]
    assert text["analyzed_at"] == jpm["analyzed_at"]  # what pairs the two
    assert "Protection-based Vesting" in text["text"]  # the document's words, not the summary's
    assert text["truncated"] is False  # an 8-K is well under the default bound
    assert text["full_bytes"] == len(text["text"].encode()) == jpm["text_bytes"]
    assert text["max_bytes"] == 262_144
    assert missing["text_bytes"] is None
    assert by_key[skipped.accession_number]["text_bytes"] is None


def test_the_text_bound_cuts_a_long_document_and_marks_it(
    topics: TopicSettings, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    asyncio.run(publish_filings(topics, [_jpmorgan_8k()]))
    env = analyze_env(topics, emulator, ANALYZE_TEXT_MAX_BYTES="2048")
    with ServiceProcess("analyze", ["analyze"], env, tmp_path):
        wait_for_count(topics, topics.topic_text, 1)
    (analysis,) = topic_records(topics, topics.topic_analyzed)
    (text,) = topic_records(topics, topics.topic_text)
    cut = text.value["text"]
    assert text.value["truncated"] is True
    assert len(cut.encode()) <= 2048 < text.value["full_bytes"]
    assert len(cut.encode()) > 2048 - 1024  # cut at a space near the bound, not far from it
    assert text.value["max_bytes"] == 2048
    assert analysis.value["text_bytes"] == len(cut.encode())
    assert analysis.value["analysis"]["summary"]  # the analyzer read the whole text


def test_replicas_share_the_group_through_a_kill_and_a_join_within_the_sec_budget(
    infra: InfraSettings, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    """Three replicas (ANALYZE_REPLICAS=3) share a three-partition topic while filings flow,
    documents fetched from the emulator for the default forms. One is killed with SIGKILL and a
    fourth joins, as a rescheduled pod with a new name would. Every filing is analyzed once
    (read_committed), the newcomer is given a share, and the requests the emulator saw stay
    within analyze's share in every second.

    The share is SEC's whole 10/s here (ANALYZE_MAX_REQUESTS_PER_SECOND, the limit under test)
    so that a slice of the day (the snapshot's oldest 450 filings, about 270 with documents to
    fetch) flows in about a minute; the whole snapshot at the 5/s default is bench.soak's."""
    topics = topic_settings(infra, partitions=3)
    asyncio.run(provision(topics))
    filings = snapshot_filings(SNAPSHOT)[:450]
    envs = [
        analyze_env(topics, emulator, ANALYZE_INSTANCE_ID=f"instance-{n}", ANALYZE_REPLICAS="3")
        for n in range(4)
    ]
    processes = [
        ServiceProcess(f"analyze-{n}", ["analyze"], env, tmp_path) for n, env in enumerate(envs)
    ]
    first, second, third, newcomer = processes
    with first, second, third:
        # All three are in the group (each reports lag for the partitions it was given)
        # before the filings arrive, so the work is shared rather than won by whoever joined
        # first.
        for env in envs[:3]:
            wait_for(partial(has_assignment, env), timeout_s=90, what="a partition assignment")
        emulator.control.requests.clear()
        asyncio.run(publish_filings(topics, filings))
        wait_for_count(topics, topics.topic_analyzed, len(filings) // 4)
        first.kill()  # mid-transaction, most likely: its records wait for the abort
        with newcomer:
            # Once the dead member's session ends (20 s), the group is the three live ones,
            # a partition each.
            wait_for(partial(has_assignment, envs[3]), timeout_s=90, what="the newcomer's share")
            wait_for_count(topics, topics.topic_analyzed, len(filings), timeout_s=240)
            done = [metrics_of(envs[n]) for n in (1, 2)]
    assert_each_once(
        topic_records(topics, topics.topic_analyzed), {f.accession_number for f in filings}
    )
    assert all('analyze_records_total{outcome="analyzed"}' in text for text in done)
    requests = emulator.control.requests.snapshot()
    assert len(requests) > 200  # documents were fetched: the budget below was put to the test
    assert emulator.control.requests.max_in_window(1.0) <= 10


@pytest.mark.asyncio
async def test_the_llm_path_and_its_cache_survive_a_restart(
    topics: TopicSettings, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    filing = sample_filing(5, form_type="4")
    await publish_filings(topics, [filing])
    verdict = {
        "summary": "Director bought shares.",
        "sentiment": 0.4,
        "priority": "medium",
        "keywords": ["purchase"],
        "event_types": ["insider_trade"],
        "metrics": {},
    }
    async with serve_openai_stub() as stub:
        stub.script(answer(verdict, completion_tokens=42))
        env = analyze_env(
            topics,
            emulator,
            LLM_MODEL="openai/test-model",
            LLM_API_BASE=stub.api_base,
            OPENAI_API_KEY="test-key",
        )
        with ServiceProcess("analyze", ["analyze"], env, tmp_path):
            await asyncio.to_thread(wait_for_count, topics, topics.topic_analyzed, 1)
        first = topic_records(topics, topics.topic_analyzed)[0].value
        assert first["analyzer"]["name"] == "llm"
        assert first["analyzer"]["model"] == "openai/test-model"
        assert first["analyzer"]["completion_tokens"] == 42
        assert first["analysis"]["summary"] == "Director bought shares."
        # Replaying the raw topic (a new group reads it from the start) pays nothing again.
        replay_env = env | {"ANALYZE_GROUP_ID": "replay", "ANALYZE_HEALTH_PORT": str(free_port())}
        with ServiceProcess("analyze-replay", ["analyze"], replay_env, tmp_path):
            await asyncio.to_thread(wait_for_count, topics, topics.topic_analyzed, 1)
            await asyncio.to_thread(
                wait_for,
                lambda: len(topic_records(topics, topics.topic_analyzed)) >= 2 or None,
                timeout_s=120,
                what="the replayed analysis",
            )
        assert len(stub.requests) == 1
    second = topic_records(topics, topics.topic_analyzed)[1].value
    assert second["analyzer"]["note"] == "cached"
    assert second["analysis"]["summary"] == "Director bought shares."


_ISBA_ACCESSION = ISABELLA_PURCHASE.accession
_ISBA_FOLDER = ISABELLA_PURCHASE.folder


def test_a_form_4_is_analyzed_from_its_transactions(topics: TopicSettings, tmp_path: Path) -> None:
    filing = Filing(
        accession_number=_ISBA_ACCESSION,
        form_type="4",
        accepted_at=dt.datetime(2024, 5, 1, 14, 0, tzinfo=dt.UTC),
        filed_date=dt.date(2024, 5, 1),
        entities=(
            Entity("0001849440", "McGuirk Richard L", "reporting"),
            Entity("0000842517", "ISABELLA BANK Corp", "issuer", ("ISBA",)),
        ),
        tickers=("ISBA",),
        index_url=f"https://www.sec.gov{_ISBA_FOLDER}/{_ISBA_ACCESSION}-index.htm",
        size_bytes=6_000,
        source=FilingSource.LIVE,
        detected_at=dt.datetime.now(dt.UTC),
    )
    asyncio.run(publish_filings(topics, [filing]))
    with run_emulator(corpus_with_ownership(tmp_path, [ISABELLA_PURCHASE])) as emulator:
        analyze = ServiceProcess("analyze", ["analyze"], analyze_env(topics, emulator), tmp_path)
        with analyze:
            wait_for_count(topics, topics.topic_analyzed, 1)
    (record,) = topic_records(topics, topics.topic_analyzed)
    value = record.value
    assert value["document_status"] == "fetched"
    assert value["document_url"].endswith(f"{_ISBA_ACCESSION}.txt")
    ownership = value["ownership"]
    assert ownership["issuer"] == {
        "cik": "0000842517",
        "name": "ISABELLA BANK Corp",
        "trading_symbol": "ISBA",
    }
    purchase, *holdings = ownership["transactions"]
    assert (purchase["code"], purchase["shares"], purchase["price_per_share"]) == (
        "P",
        275.634,
        18.14,
    )
    assert purchase["rule_10b5_1"] is False
    assert [h["nature_of_ownership"] for h in holdings] == ["Held by minor child", "Held by LLC"]
    assert value["analysis"]["summary"].startswith(
        "Form 4 for ISABELLA BANK Corp (ISBA): Director McGuirk Richard L bought 275.634 shares"
    )
    assert value["analysis"]["priority"] == "medium"
    assert "insider_purchase" in value["analysis"]["event_types"]
    assert (value["earnings"], value["item_facts"]) == (None, [])
    # An XML form's text is the prose analyze kept of it (footnotes, remarks).
    (text,) = topic_records(topics, topics.topic_text)
    assert (text.key, text.value["analyzed_at"]) == (_ISBA_ACCESSION, value["analyzed_at"])
    assert text.value["form_type"] == "4"
    assert value["text_bytes"] == len(text.value["text"].encode())


def test_a_fenced_analyze_rebuilds_its_producer_and_reprocesses_from_its_offsets(
    topics: TopicSettings, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    # Another producer takes analyze's transactional id (a zombie of the same instance id):
    # its init_transactions fences the running analyze mid-stream. Analyze starts a new
    # producer under the same id, goes back to its group's committed offsets and carries on:
    # the process stays up, and every filing is analyzed exactly once.
    filings = snapshot_filings(SNAPSHOT)
    env = analyze_env(topics, emulator, ANALYZE_FETCH_FORMS="", ANALYZE_INSTANCE_ID="fenced")
    asyncio.run(publish_filings(topics, filings[:1500]))
    with ServiceProcess("analyze", ["analyze"], env, tmp_path) as analyze:
        wait_for_count(topics, topics.topic_analyzed, 300)
        intruder = confluent_kafka.Producer(
            {
                "bootstrap.servers": topics.kafka_bootstrap_servers,
                "transactional.id": f"{env['ANALYZE_GROUP_ID']}-fenced",  # analyze's own id
            }
        )
        intruder.init_transactions(30)
        asyncio.run(publish_filings(topics, filings[1500:]))
        wait_for_count(topics, topics.topic_analyzed, len(filings))
        assert analyze.running()
    assert_each_once(
        topic_records(topics, topics.topic_analyzed), {f.accession_number for f in filings}
    )
    assert "starting a new one with the same transactional id" in analyze.output()
