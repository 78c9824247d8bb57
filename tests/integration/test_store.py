"""The filings store's feeder as its own process (`sec-digester store feed`) against the real
broker and registry: killed with SIGKILL again and again while records keep arriving (some of
them filings analyzed again, some with their document text on the text topic), the store ends
up equal to the topics: each accession's newest record, byte for byte the JSON the gateway
sends, the text written with it in its full-text index, and its positions at both topics' ends.
SIGTERM stops it cleanly. Deleted and fed again from Kafka, it gives the same answers."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from services.common.record_json import record_json
from services.infra.settings import InfraSettings
from services.store.query import StoreQuery
from services.store.sqlite import SqliteStore
from tests.support.cli import environment_for
from tests.support.facts_records import earnings_record, insider_record
from tests.support.gateway import publish_analyses
from tests.support.infra import provision, topic_settings
from tests.support.processes import ServiceProcess, free_port
from tests.support.records import sample_analysis, with_text
from tests.support.topic_reader import read_topic

START = dt.datetime(2026, 6, 1, 14, 0, tzinfo=dt.UTC)


def _records(first: int, count: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Analyses, and the texts of every fifth (a word only the text has: textonly<n>)."""
    records, texts = [], []
    for n in range(first, first + count):
        if n % 97 == 0:
            record = insider_record(n)
        elif n % 89 == 0:
            record = earnings_record(n)
        else:
            record = sample_analysis(n, ticker=("JPM", "AAPL", "MSFT")[n % 3])
        record["filing"]["accepted_at"] = START + dt.timedelta(seconds=n)
        records.append(record)
        if n % 5 == 0:
            texts.append(with_text(record, f"The document of filing {n}: textonly{n} é漢."))
    return records, texts


async def _answers(path: Path, analyzed: str, text: str) -> dict[str, list[str]]:
    """The store's answers to a few questions (full text of each kind, a filter)."""
    found = {}
    async with SqliteStore(path, analyzed, text, writer=False) as store:
        for q in ("q=textonly5", "q=textonly3000", "q=document filing", "tickers=JPM&q=漢"):
            params = dict(pair.split("=") for pair in q.split("&")) | {"limit": "1000"}
            page = await store.query(StoreQuery.from_params(params))
            found[q] = [json.loads(b)["filing"]["accession_number"] for b in page.filings]
    return found


def _stored(path: Path) -> tuple[int, dict[int, int], dict[int, int]]:
    """Rows and positions; nothing yet while the feeder is still creating its tables."""
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as db:
        if db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'meta'").fetchone()[0] == 0:
            return 0, {}, {}
        count = db.execute("SELECT count(*) FROM filings").fetchone()[0]
        positions = dict(db.execute("SELECT partition, next_offset FROM positions"))
        text_positions = dict(db.execute("SELECT partition, next_offset FROM text_positions"))
    return int(count), positions, text_positions


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
        batch, texts = _records(published + 1, 1500)
        if round_number:  # and some filings analyzed again, with a new summary (and text)
            again, again_texts = _records(1, 40)
            for record in again:
                record["analysis"]["summary"] = f"Analyzed again in round {round_number}."
            batch += again
            texts += again_texts
        for start in range(0, len(batch), 500):
            chunk = batch[start : start + 500]
            keys = {r["filing"]["accession_number"] for r in chunk}
            chunk_texts = [t for t in texts if t["accession_number"] in keys]
            await publish_analyses(topics, chunk, chunk_texts)
        published += 1500
        feeder.start()
        await _wait_for(lambda: path.exists() and _stored(path)[0] > 0, 60, "a first write")
        count = _stored(path)[0]
        await asyncio.sleep(0.02 * round_number)
        feeder.kill()  # SIGKILL: wherever it was, a transaction included
        kills_behind += _stored(path)[0] < published or count < published
    ends = _ends(infra.bootstrap_servers, topics.topic_analyzed, 3)
    text_ends = _ends(infra.bootstrap_servers, topics.topic_text, 3)
    with feeder:
        await _wait_for(lambda: _stored(path)[1:] == (ends, text_ends), 120, f"the store at {ends}")
        feeder.signal(signal.SIGTERM)
        assert feeder.wait(timeout_s=30) == 0
    assert "store feeder stopped" in feeder.output()
    assert kills_behind >= 1  # at least one kill landed before the store had caught up

    newest: dict[str, bytes] = {}
    analyzed_at: dict[str, dt.datetime] = {}
    for message in read_topic(infra.bootstrap_servers, infra.registry_url, topics.topic_analyzed):
        newest[message.key] = record_json(message.value)  # offset order within a partition
        analyzed_at[message.key] = message.value["analyzed_at"]
    # The text each newest analysis was written with.
    newest_text = {
        message.key: message.value["text"]
        for message in read_topic(infra.bootstrap_servers, infra.registry_url, topics.topic_text)
        if message.value["analyzed_at"] == analyzed_at[message.key]
    }
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as db:
        stored = {
            accession: bytes(body)
            for accession, body in db.execute("SELECT accession, body FROM filings")
        }
        tags = db.execute("SELECT count(*) FROM filing_tags").fetchone()[0]
        texts = db.execute("SELECT count(*) FROM filings_text").fetchone()[0]
        indexed_text = dict(
            db.execute(
                "SELECT accession, filings_text.text FROM filings JOIN filings_text"
                " ON filings_text.rowid = filings.id WHERE filings_text.text != ''"
            )
        )
        waiting = db.execute("SELECT count(*) FROM waiting_texts").fetchone()[0]
    assert len(stored) == published
    assert stored == newest
    assert b"Analyzed again in round 3." in stored["0000019617-26-000001"]
    assert texts == published  # one text row per filing: none left over by a replacement
    assert tags >= 2 * published  # a ticker and a CIK each at least
    assert len(newest_text) == published // 5
    assert indexed_text == newest_text  # each filing's document text is in its index
    assert waiting == 0  # every text found its analysis

    answers = await _answers(path, topics.topic_analyzed, topics.topic_text)
    assert answers["q=textonly5"] == ["0000019617-26-000005"]  # a word only its text has
    assert len(answers["q=document filing"]) == 1000  # a full page of the 1,200 with a text
    # A view, never a source of truth: deleted and fed again, the same answers.
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        file.unlink(missing_ok=True)
    with feeder:
        await _wait_for(
            lambda: path.exists() and _stored(path)[1:] == (ends, text_ends), 120, "a rebuild"
        )
        assert await _answers(path, topics.topic_analyzed, topics.topic_text) == answers
