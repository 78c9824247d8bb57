"""The filings store's feeder as its own process (`sec-digester store feed`) against the real
broker and registry: killed with SIGKILL again and again while records keep arriving (some of
them filings analyzed again), the store ends up equal to the topic: each accession's newest
record, byte for byte the JSON the gateway sends, and its positions at the topic's end. SIGTERM
stops it cleanly."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from services.common.record_json import record_json
from services.infra.settings import InfraSettings
from tests.support.cli import environment_for
from tests.support.facts_records import earnings_record, insider_record
from tests.support.gateway import publish_analyses
from tests.support.infra import provision, topic_settings
from tests.support.processes import ServiceProcess, free_port
from tests.support.records import sample_analysis
from tests.support.topic_reader import read_topic

START = dt.datetime(2026, 6, 1, 14, 0, tzinfo=dt.UTC)


def _records(first: int, count: int) -> list[dict[str, Any]]:
    records = []
    for n in range(first, first + count):
        if n % 97 == 0:
            record = insider_record(n)
        elif n % 89 == 0:
            record = earnings_record(n)
        else:
            record = sample_analysis(n, ticker=("JPM", "AAPL", "MSFT")[n % 3])
        record["filing"]["accepted_at"] = START + dt.timedelta(seconds=n)
        records.append(record)
    return records


def _stored(path: Path) -> tuple[int, dict[int, int]]:
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as db:
        count = db.execute("SELECT count(*) FROM filings").fetchone()[0]
        positions = dict(db.execute("SELECT partition, next_offset FROM positions"))
    return int(count), positions


def _ends(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "ends"})
    try:
        return {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in range(partitions)
        }
    finally:
        consumer.close()


async def _wait_for(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.mark.asyncio
async def test_the_store_equals_the_topic_after_sigkill_mid_feed(
    infra: InfraSettings, tmp_path: Path
) -> None:
    topics = topic_settings(infra, partitions=3)
    await provision(topics)
    path = tmp_path / "store.sqlite3"
    env = environment_for(topics) | {
        "STORE_PATH": str(path),
        "STORE_HEALTH_PORT": str(free_port()),
    }
    feeder = ServiceProcess("store", ["store", "feed"], env, tmp_path)
    published = 0
    kills_behind = 0
    for round_number in range(4):
        batch = _records(published + 1, 1500)
        if round_number:  # and some filings analyzed again, with a new summary
            for record in _records(1, 40):
                record["analysis"]["summary"] = f"Analyzed again in round {round_number}."
                batch.append(record)
        for start in range(0, len(batch), 500):
            await publish_analyses(topics, batch[start : start + 500])
        published += 1500
        feeder.start()
        await _wait_for(lambda: path.exists() and _stored(path)[0] > 0, 60, "a first write")
        count, _ = _stored(path)
        await asyncio.sleep(0.02 * round_number)
        feeder.kill()  # SIGKILL: wherever it was, a transaction included
        kills_behind += _stored(path)[0] < published or count < published
    ends = _ends(infra.bootstrap_servers, topics.topic_analyzed, 3)
    with feeder:
        await _wait_for(lambda: _stored(path)[1] == ends, 120, f"the store at {ends}")
        feeder.signal(signal.SIGTERM)
        assert feeder.wait(timeout_s=30) == 0
    assert "store feeder stopped" in feeder.output()
    assert kills_behind >= 1  # at least one kill landed before the store had caught up

    newest: dict[str, bytes] = {}
    for message in read_topic(infra.bootstrap_servers, infra.registry_url, topics.topic_analyzed):
        newest[message.key] = record_json(message.value)  # offset order within a partition
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as db:
        stored = {
            accession: bytes(body)
            for accession, body in db.execute("SELECT accession, body FROM filings")
        }
        tags = db.execute("SELECT count(*) FROM filing_tags").fetchone()[0]
        texts = db.execute("SELECT count(*) FROM filings_text").fetchone()[0]
    assert len(stored) == published
    assert stored == newest
    assert b"Analyzed again in round 3." in stored["0000019617-26-000001"]
    assert texts == published  # one text row per filing: none left over by a replacement
    assert tags >= 2 * published  # a ticker and a CIK each at least
