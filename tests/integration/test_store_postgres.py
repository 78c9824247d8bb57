"""The filings store on PostgreSQL (STORE_DSN), fed by `sec-digester store feed` processes
against the real broker, registry and a real PostgreSQL:
- killed with SIGKILL while it writes, a feeder restarted leaves the store equal to the topics
  (each accession's newest record byte for byte, its text in the index, positions at the ends),
  and a SQLite store fed from the same topics gives the same answers to the same questions;
- two feeders sharing the database while the group moves partitions between them (a second
  joins, then one is SIGKILLed) lose nothing and write nothing twice, and a writer whose
  positions moved since it read them writes nothing (PositionsMovedError)."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import signal
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest
from confluent_kafka import Consumer, TopicPartition
from psycopg import sql

from services.common.record_json import record_json
from services.common.settings import TopicSettings
from services.infra.postgres import LocalPostgres
from services.infra.settings import InfraSettings
from services.store.backend import FilingsStore, PositionsMovedError
from services.store.postgres import PostgresStore
from services.store.query import StoreQuery
from services.store.sqlite import SqliteStore
from tests.support.cli import environment_for
from tests.support.facts_records import earnings_record, insider_record
from tests.support.gateway import publish_analyses
from tests.support.infra import provision, topic_settings
from tests.support.processes import ServiceProcess, free_port
from tests.support.records import sample_analysis, with_text
from tests.support.topic_reader import read_topic
from tests.support.waiting import wait_for_async

START = dt.datetime(2026, 6, 1, 14, 0, tzinfo=dt.UTC)
# The broker's least (group.min.session.timeout.ms): a SIGKILLed replica's partitions move on
# after it, not after the default 45 s.
SESSION_S = "6"
QUESTIONS = (
    {"q": "textonly5"},
    {"q": "document filing", "limit": "1000"},
    {"q": "analyzed again"},
    {"tickers": "JPM", "limit": "1000"},
    {"tickers": "AAPL", "q": "filing"},
    {"transaction_codes": "P"},
    {"items": "2.02", "limit": "7"},
    {"min_priority": "high"},
    {"q": "zzzz"},
)


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
            texts.append(with_text(record, f"The document of filing {n}: textonly{n}."))
    return records, texts


async def _publish(topics: TopicSettings, first: int, count: int, again: int = 0) -> None:
    """`count` filings from `first`, and the first `again` analyzed again (new summary)."""
    records, texts = _records(first, count)
    if again:
        repeated, repeated_texts = _records(1, again)
        for record in repeated:
            record["analysis"]["summary"] = f"Analyzed again after {first}."
        records += repeated
        texts += repeated_texts
    for start in range(0, len(records), 500):
        chunk = records[start : start + 500]
        keys = {r["filing"]["accession_number"] for r in chunk}
        await publish_analyses(topics, chunk, [t for t in texts if t["accession_number"] in keys])


def _query(dsn: str, schema: str, statement: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn, autocommit=True) as db:
        db.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        if db.execute("SELECT to_regclass('meta')").fetchone() == (None,):
            return []  # the feeder is still creating its tables
        return db.execute(statement).fetchall()


def _positions(dsn: str, schema: str) -> tuple[dict[int, int], dict[int, int]]:
    return (
        dict(_query(dsn, schema, "SELECT partition, next_offset FROM positions")),
        dict(_query(dsn, schema, "SELECT partition, next_offset FROM text_positions")),
    )


def _sqlite_positions(path: Path) -> tuple[dict[int, int], dict[int, int]] | None:
    if not path.exists():
        return None
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as db:
        if db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'meta'").fetchone()[0] == 0:
            return None
        return (
            dict(db.execute("SELECT partition, next_offset FROM positions")),
            dict(db.execute("SELECT partition, next_offset FROM text_positions")),
        )


def _count_above(dsn: str, schema: str, count: int) -> bool:
    return _count(dsn, schema) > count


def _count(dsn: str, schema: str) -> int:
    found = _query(dsn, schema, "SELECT count(*) FROM filings")
    return int(found[0][0]) if found else 0


def _ends(infra: InfraSettings, topic: str) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": infra.bootstrap_servers, "group.id": "ends"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in partitions
        }
    finally:
        consumer.close()


def _newest(infra: InfraSettings, topics: TopicSettings) -> tuple[dict[str, Any], dict[str, str]]:
    """Per accession, the newest record's JSON and topic position, and the text written with
    it: what the store must hold."""
    newest: dict[str, Any] = {}
    analyzed_at = {}
    for message in read_topic(infra.bootstrap_servers, infra.registry_url, topics.topic_analyzed):
        newest[message.key] = (record_json(message.value), message.partition, message.offset)
        analyzed_at[message.key] = message.value["analyzed_at"]
    texts = {
        message.key: message.value["text"]
        for message in read_topic(infra.bootstrap_servers, infra.registry_url, topics.topic_text)
        if message.value["analyzed_at"] == analyzed_at[message.key]
    }
    return newest, texts


def _assert_equals_the_topics(
    infra: InfraSettings, topics: TopicSettings, dsn: str, schema: str
) -> None:
    newest, newest_text = _newest(infra, topics)
    stored = {
        accession: (bytes(body), partition, offset)
        for accession, body, partition, offset in _query(
            dsn, schema, 'SELECT accession, body, partition, "offset" FROM filings'
        )
    }
    assert stored == newest  # each accession once, its newest record at its position
    twice = _query(
        dsn,
        schema,
        'SELECT accession, "offset", count(*) FROM written GROUP BY 1, 2 HAVING count(*) > 1',
    )
    assert twice == []  # no record written twice
    indexed = dict(
        _query(
            dsn,
            schema,
            "SELECT accession, text FROM filings JOIN filings_text ON filing_id = id"
            " WHERE text != ''",
        )
    )
    assert indexed == newest_text
    assert _query(dsn, schema, "SELECT count(*) FROM filings_text") == [(len(newest),)]
    assert _query(dsn, schema, "SELECT count(*) FROM waiting_texts") == [(0,)]
    assert _positions(dsn, schema) == (
        _ends(infra, topics.topic_analyzed),
        _ends(infra, topics.topic_text),
    )


async def _count_writes(dsn: str, schema: str, topics: TopicSettings) -> None:
    """The store's tables created as the feeders will find them, and every row write of a
    committed transaction noted (accession, offset): a record written twice, by two feeders or
    one again, is noted twice."""
    async with PostgresStore(dsn, topics.topic_analyzed, topics.topic_text, schema=schema):
        pass
    with psycopg.connect(dsn, autocommit=True) as db:
        db.execute(
            sql.SQL(
                'CREATE TABLE {s}.written (accession text, "offset" bigint);'
                " CREATE FUNCTION {s}.note_write() RETURNS trigger LANGUAGE plpgsql AS $$"
                ' BEGIN INSERT INTO {s}.written VALUES (NEW.accession, NEW."offset");'
                " RETURN NEW; END $$;"
                " CREATE TRIGGER note AFTER INSERT OR UPDATE ON {s}.filings"
                " FOR EACH ROW EXECUTE FUNCTION {s}.note_write();"
            ).format(s=sql.Identifier(schema))
        )


async def _answers(store: FilingsStore) -> list[list[str]]:
    async with store:
        answers = []
        for params in QUESTIONS:
            page = await store.query(StoreQuery.from_params(params))
            answers.append([json.loads(b)["filing"]["accession_number"] for b in page.filings])
        return answers


def _feeder(
    name: str, topics: TopicSettings, postgres: LocalPostgres, schema: str, tmp_path: Path
) -> ServiceProcess:
    env = environment_for(topics) | {
        "STORE_DSN": postgres.dsn,
        "STORE_PG_SCHEMA": schema,
        "STORE_GROUP_ID": f"store-{schema}",
        "STORE_GROUP_SESSION_TIMEOUT_S": SESSION_S,
        "STORE_HEALTH_PORT": str(free_port()),
    }
    return ServiceProcess(name, ["store", "feed"], env, tmp_path)


def _assignments(feeder: ServiceProcess) -> list[list[str]]:
    """The partitions of each assignment the feeder logged ("topic:partition@offset")."""
    events = [json.loads(line) for line in feeder.output().splitlines() if line.startswith("{")]
    return [e["partitions"] for e in events if e.get("event") == "store partitions assigned"]


async def _caught_up(infra: InfraSettings, topics: TopicSettings, dsn: str, schema: str) -> None:
    ends = (_ends(infra, topics.topic_analyzed), _ends(infra, topics.topic_text))
    await wait_for_async(
        lambda: _positions(dsn, schema) == ends, timeout_s=90, what=f"the store at {ends}"
    )


@pytest.mark.asyncio
async def test_sigkilled_mid_write_the_store_equals_the_topic_and_answers_as_sqlite(
    infra: InfraSettings, postgres: LocalPostgres, pg_schema: str, tmp_path: Path
) -> None:
    topics = topic_settings(infra, partitions=3)
    await provision(topics)
    dsn = postgres.dsn
    await _count_writes(dsn, pg_schema, topics)
    feeder = _feeder("store-pg", topics, postgres, pg_schema, tmp_path)
    published = 0
    for round_number in range(2):
        await _publish(topics, published + 1, 1500, again=40 if round_number else 0)
        before = _count(dsn, pg_schema)
        published += 1500
        feeder.start()
        await wait_for_async(
            functools.partial(_count_above, dsn, pg_schema, before), timeout_s=60, what="a write"
        )
        feeder.kill()  # SIGKILL: wherever it was, a transaction included
    with feeder:
        await _caught_up(infra, topics, dsn, pg_schema)
        feeder.signal(signal.SIGTERM)
        assert feeder.wait(timeout_s=30) == 0
    assert "store feeder stopped" in feeder.output()
    _assert_equals_the_topics(infra, topics, dsn, pg_schema)

    # The same topics into SQLite: the same answers to the same questions.
    path = tmp_path / "store.sqlite3"
    env = environment_for(topics) | {"STORE_PATH": str(path), "STORE_HEALTH_PORT": str(free_port())}
    with ServiceProcess("store-sqlite", ["store", "feed"], env, tmp_path):
        ends = (_ends(infra, topics.topic_analyzed), _ends(infra, topics.topic_text))

        await wait_for_async(
            lambda: _sqlite_positions(path) == ends, timeout_s=90, what="the SQLite store"
        )
    sqlite_answers = await _answers(
        SqliteStore(path, topics.topic_analyzed, topics.topic_text, writer=False)
    )
    pg_answers = await _answers(
        PostgresStore(dsn, topics.topic_analyzed, topics.topic_text, schema=pg_schema, writer=False)
    )
    assert pg_answers == sqlite_answers
    assert all(pg_answers[:6])  # the questions that match something do
    assert pg_answers[0] == ["0000019617-26-000005"]  # a word only its text has


@pytest.mark.asyncio
async def test_two_replicas_while_partitions_move_lose_nothing_and_write_nothing_twice(
    infra: InfraSettings, postgres: LocalPostgres, pg_schema: str, tmp_path: Path
) -> None:
    topics = topic_settings(infra, partitions=4)
    await provision(topics)
    dsn = postgres.dsn
    await _count_writes(dsn, pg_schema, topics)
    first = _feeder("store-pg-1", topics, postgres, pg_schema, tmp_path)
    second = _feeder("store-pg-2", topics, postgres, pg_schema, tmp_path)
    await _publish(topics, 1, 1000)
    with first:
        await wait_for_async(lambda: _count(dsn, pg_schema) > 0, timeout_s=60, what="a write")
        # The second joins while records keep coming: the group splits the partitions.
        publishing = asyncio.create_task(_publish(topics, 1001, 1500, again=50))
        with second:
            await wait_for_async(
                lambda: "store partitions assigned" in second.output(),
                timeout_s=60,
                what="the second feeder's assignment",
            )
            await publishing
            await _publish(topics, 2501, 500)
            first.kill()  # its partitions go to the second after the session timeout
            await _publish(topics, 3001, 500)
            await _caught_up(infra, topics, dsn, pg_schema)
            assert second.output().count("store partitions assigned") >= 2  # then took all
    assert "store partitions assigned" in first.output()
    # Range assignment: each feeder was given partition N of both topics, or of neither.
    for feeder in (first, second):
        for assigned in _assignments(feeder):
            by_topic = {
                topic: {
                    int(p.split("@")[0]) for t, p in (a.split(":") for a in assigned) if t == topic
                }
                for topic in (topics.topic_analyzed, topics.topic_text)
            }
            assert by_topic[topics.topic_analyzed] == by_topic[topics.topic_text], assigned
    _assert_equals_the_topics(infra, topics, dsn, pg_schema)

    # A writer whose positions another moved since it read them writes nothing.
    async with (
        PostgresStore(dsn, topics.topic_analyzed, topics.topic_text, schema=pg_schema) as stale,
        PostgresStore(dsn, topics.topic_analyzed, topics.topic_text, schema=pg_schema) as owner,
    ):
        read = (await stale.positions(), await stale.text_positions())
        await owner.write([], {0: read[0][0]}, read=read)  # the same: moves nothing
        await owner.write([], {0: read[0][0] + 1}, read=read)
        with pytest.raises(PositionsMovedError) as moved:
            await stale.write([], {0: read[0][0] + 5, 1: read[0][1] + 5}, read=read)
        assert moved.value.moved[topics.topic_analyzed] == [0]
        assert (await owner.positions())[1] == read[0][1]  # nothing of the stale write
