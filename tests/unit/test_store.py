"""The filings store on a real SQLite file and a real PostgreSQL (each test on both: the two
give the same answers): every answer equals filtering the records in Python with the stream's
own Filter (the same filters mean the same on /stream and in the store), pages walk the whole
answer once, `as_of` is what was written with the rows, a record
analyzed again replaces its row, hostile `q` is refused or finds nothing, and a store of
another layout or topic is rebuilt."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from psycopg import sql

from services.common.errors import BadParameterError
from services.common.filters import RecordFacts
from services.common.positions import parse_cursor
from services.infra.postgres import LocalPostgres
from services.store.backend import FilingsStore, PositionsMovedError, cursor_of
from services.store.postgres import PostgresStore
from services.store.query import AfterQuery, StoreQuery
from services.store.rows import FilingRow, TextRow
from services.store.sqlite import SqliteStore
from tests.support.facts_corpus import parsed_record
from tests.support.facts_records import earnings_record, insider_record
from tests.support.records import sample_analysis, with_text

TOPIC = "sec.filings.analyzed"
TEXT_TOPIC = "sec.filings.text"
START = dt.datetime(2026, 6, 1, 14, 0, tzinfo=dt.UTC)


def _records() -> list[dict[str, Any]]:
    records = []
    for n in range(30):
        ticker = ("JPM", "AAPL", "MSFT")[n % 3]
        form = ("8-K", "10-Q", "8-K/A", "SC 13D")[n % 4]
        priority = ("low", "medium", "high", "critical")[n % 4]
        record = sample_analysis(n + 1, ticker=ticker, form_type=form, priority=priority)
        records.append(record)
    records.append(insider_record(101))
    records.append(earnings_record(102))
    stake = sample_analysis(103, ticker="QXO", form_type="SCHEDULE 13D", items=())
    stake["stake"] = parsed_record("stake", "sc13d-qxo.xml")
    records.append(stake)
    for n, record in enumerate(records):
        # Two records in the same second and microsecond: the accession breaks the tie.
        record["filing"]["accepted_at"] = START + dt.timedelta(minutes=n // 2 * 7)
    return records


def _rows(records: list[dict[str, Any]]) -> list[FilingRow]:
    return [FilingRow.of(n % 3, n // 3, record) for n, record in enumerate(records)]


def _positions(rows: list[FilingRow]) -> dict[int, int]:
    positions: dict[int, int] = {}
    for row in rows:
        positions[row.partition] = max(positions.get(row.partition, 0), row.offset + 1)
    return positions


def _expected(records: list[dict[str, Any]], params: dict[str, str]) -> list[str]:
    query = StoreQuery.from_params(params)
    chosen = [
        r
        for r in records
        if query.filter.matches(RecordFacts.of(r))
        and (query.since is None or r["filing"]["accepted_at"] >= query.since)
        and (query.until is None or r["filing"]["accepted_at"] < query.until)
        and (query.cik is None or query.cik in {e["cik"] for e in r["filing"]["entities"]})
    ]
    chosen.sort(
        key=lambda r: (r["filing"]["accepted_at"], r["filing"]["accession_number"]), reverse=True
    )
    return [r["filing"]["accession_number"] for r in chosen][: query.limit]


@dataclass(frozen=True)
class StoreFactory:
    """Opens the test's store, on SQLite or PostgreSQL: both give the same answers."""

    path: Path
    postgres: LocalPostgres | None
    schema: str

    def __call__(self, topic: str = TOPIC, *, writer: bool = True) -> FilingsStore:
        if self.postgres is None:
            return SqliteStore(self.path, topic, TEXT_TOPIC, writer=writer)
        return PostgresStore(
            self.postgres.dsn, topic, TEXT_TOPIC, schema=self.schema, writer=writer
        )

    async def set_layout(self, version: str) -> None:
        """As a store of another layout would have written it."""
        if self.postgres is None:
            with sqlite3.connect(self.path) as db:
                db.execute("UPDATE meta SET value = ? WHERE key = 'layout'", (version,))
            return
        async with await psycopg.AsyncConnection.connect(self.postgres.dsn) as db:
            await db.execute(
                sql.SQL("UPDATE {}.meta SET value = %s WHERE key = 'layout'").format(
                    sql.Identifier(self.schema)
                ),
                (version,),
            )


@pytest.fixture(params=["sqlite", "postgres"])
def new_store(request: pytest.FixtureRequest, tmp_path: Path, pg_schema: str) -> StoreFactory:
    server = request.getfixturevalue("postgres") if request.param == "postgres" else None
    return StoreFactory(tmp_path / "store.sqlite3", server, pg_schema)


async def _answer(store: FilingsStore, params: dict[str, str]) -> list[str]:
    page = await store.query(StoreQuery.from_params(params))
    return [orjson.loads(body)["filing"]["accession_number"] for body in page.filings]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"tickers": "JPM"},
        {"ticker": "aapl", "form": "8-K"},
        {"forms": "8-K"},  # and its amendments
        {"forms": "SC 13D"},  # and SCHEDULE 13D
        {"min_priority": "high"},
        {"items": "2.02"},
        {"transaction_codes": "P"},
        {"insider_roles": "director"},
        {"min_value_usd": "1000"},
        {"min_stake_pct": "5", "stake_kind": "active"},
        {"since": "2026-06-01T14:30:00Z", "until": "2026-06-01T15:10:00Z"},
        {"cik": "19617", "limit": "5"},
        {"tickers": "JPM,MSFT", "min_priority": "medium", "forms": "10-Q"},
    ],
    ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) or "all",
)
async def test_answers_equal_the_streams_filter_over_the_records(
    new_store: StoreFactory, params: dict[str, str]
) -> None:
    records = _records()
    rows = _rows(records)
    async with new_store() as store:
        await store.write(rows[:10], _positions(rows[:10]))
        await store.write(rows[10:], _positions(rows))
        answer = await _answer(store, params)
    assert answer == _expected(records, params)
    assert answer  # every case here matches something


@pytest.mark.asyncio
async def test_pages_walk_the_answer_once_and_as_of_is_what_was_written(
    new_store: StoreFactory,
) -> None:
    records = _records()
    rows = _rows(records)
    async with new_store() as store:
        await store.write(rows, _positions(rows))
        seen: list[bytes] = []
        before: str | None = None
        pages = 0
        while True:
            params = {"limit": "4"} | ({"before": before} if before else {})
            page = await store.query(StoreQuery.from_params(params))
            seen.extend(page.filings)
            pages += 1
            assert page.as_of == "0:11,1:11,2:11"
            if page.next is None:
                break
            before = page.next
        everything = await store.query(StoreQuery.from_params({"limit": "1000"}))
    assert seen == everything.filings
    assert len(seen) == len(records)
    assert pages == -(-len(records) // 4)


@pytest.mark.asyncio
async def test_a_record_analyzed_again_replaces_its_row(new_store: StoreFactory) -> None:
    first = sample_analysis(1, ticker="JPM")
    again = sample_analysis(1, ticker="JPM")
    again["analysis"]["summary"] = "Dividend raised again."
    async with new_store() as store:
        await store.write([FilingRow.of(0, 0, first)], {0: 1})
        await store.write([FilingRow.of(0, 5, again)], {0: 6})
        assert await store.count() == 1
        assert await _answer(store, {"q": "dividend"}) == ["0000019617-26-000001"]
        assert await _answer(store, {"q": "Filing"}) == []  # the old summary is gone
        body, as_of = await store.get("0000019617-26-000001")
    assert body is not None
    assert b"Dividend raised again." in body
    assert as_of == "0:6"


@pytest.mark.asyncio
async def test_full_text_finds_summaries_and_names(new_store: StoreFactory) -> None:
    records = _records()
    rows = _rows(records)
    async with new_store() as store:
        await store.write(rows, _positions(rows))
        kushner = await _answer(store, {"q": "Jared Kushner"})
        insider = await _answer(store, {"q": "mcguirk", "transaction_codes": "P"})
        nothing = await _answer(store, {"q": "zzzz"})
        no_word = await _answer(store, {"q": "!!! ** ()"})
    assert no_word == []  # not every filing: a q without a word matches nothing
    assert kushner == ["0000019617-26-000103"]
    assert insider == ["0000019617-26-000101"]
    assert nothing == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "q",
    [
        '"',
        "a\"b' OR 1=1 --",
        "NEAR(a b)",
        "summary:dividend",
        "* ^ ( ) { }",
        "AND OR NOT",
        "x" * 400,
        "y" * 10_000,
        "a & b | !c <-> d:*",  # tsquery syntax
        "é\u0000\ud7ff",
    ],
)
async def test_hostile_q_is_refused_or_finds_nothing_never_an_error(
    new_store: StoreFactory, q: str
) -> None:
    rows = _rows(_records())
    async with new_store() as store:
        await store.write(rows, _positions(rows))
        try:
            query = StoreQuery.from_params({"q": q})
        except BadParameterError as exc:
            refused: BadParameterError | None = exc
        else:
            refused = None
            page = await store.query(query)
    if refused is not None:
        assert refused.parameter == "q"
        return
    assert isinstance(page.filings, list)


def test_bad_parameters_name_themselves() -> None:
    for params, name in [
        ({"q": "y" * 501}, "q"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"cik": "abc"}, "cik"),
        ({"before": "bm9wZQ"}, "before"),
        ({"min_priority": "urgent"}, "min_priority"),
        ({"stake_kind": "activist"}, "stake_kind"),
    ]:
        with pytest.raises(BadParameterError) as raised:
            StoreQuery.from_params(params)
        assert raised.value.parameter == name, params


@pytest.mark.asyncio
async def test_positions_persist_and_another_layout_or_topic_is_rebuilt(
    new_store: StoreFactory,
) -> None:
    rows = _rows(_records())
    async with new_store() as store:
        assert store.rebuilt  # a new file
        await store.write(rows, _positions(rows))
    async with new_store() as store:
        assert not store.rebuilt
        assert await store.positions() == {0: 11, 1: 11, 2: 11}
        assert await store.count() == len(rows)
    async with new_store("another.topic") as store:
        assert store.rebuilt
        assert await store.positions() == {}
        assert await store.count() == 0
    await new_store.set_layout("0")
    async with new_store("another.topic") as store:
        assert store.rebuilt
    store_once = new_store()
    async with store_once:
        pass
    with pytest.raises(RuntimeError):
        async with store_once:
            pass


@pytest.mark.asyncio
async def test_a_write_moves_the_positions_it_read_or_nothing(new_store: StoreFactory) -> None:
    """Compare and set: a writer whose positions another writer moved since it read them (the
    group gave its partition away) writes nothing and is told which moved."""
    rows = _rows(_records())
    async with new_store() as store:
        await store.write(rows[:3], {0: 1, 1: 1, 2: 1}, read=({}, {}))
        await store.write([], {}, [], {0: 4}, read=({}, {}))
        # Another writer took partition 1 on from 1 to 2.
        await store.write(rows[4:5], {1: 2}, read=({0: 1, 1: 1, 2: 1}, {0: 4}))
        with pytest.raises(PositionsMovedError) as moved:
            await store.write(
                rows[3:5], {0: 2, 1: 2}, [], {0: 5}, read=({0: 1, 1: 1, 2: 1}, {0: 4})
            )
        assert moved.value.moved == {TOPIC: [1], TEXT_TOPIC: []}
        assert not moved.value.retriable
        assert await store.positions() == {0: 1, 1: 2, 2: 1}  # nothing of it written
        assert await store.text_positions() == {0: 4}
        assert await store.count() == 4
        # A partition with no position, read as none: another writer stored one meanwhile.
        await store.write([], {3: 7}, read=({}, {}))
        with pytest.raises(PositionsMovedError):
            await store.write([], {3: 9}, read=({}, {}))
        # What it read: it moves on.
        await store.write(rows[3:4], {0: 2}, read=({0: 1}, {}))
        assert await store.positions() == {0: 2, 1: 2, 2: 1, 3: 7}


@pytest.mark.asyncio
async def test_a_walk_through_pages_is_one_snapshot(new_store: StoreFactory) -> None:
    records = _records()
    rows = _rows(records)
    async with new_store() as store:
        await store.write(rows, _positions(rows))
        first = await store.query(StoreQuery.from_params({"limit": "5"}))
        # Stored after the first page: older by accepted_at than anything on it.
        late = sample_analysis(999, ticker="JPM")
        late["filing"]["accepted_at"] = START - dt.timedelta(days=1)
        await store.write([FilingRow.of(0, 11, late)], {0: 12})
        pages = [first]
        while pages[-1].next is not None:
            params = {"limit": "5", "before": pages[-1].next}
            pages.append(await store.query(StoreQuery.from_params(params)))
        fresh = await store.query(StoreQuery.from_params({"limit": "1000"}))
    walked = [body for page in pages for body in page.filings]
    assert {page.as_of for page in pages} == {"0:11,1:11,2:11"}
    assert len(walked) == len(records)  # the late one is after as_of: the stream's, not ours
    assert all(b"0000019617-26-000999" not in body for body in walked)
    assert fresh.as_of == "0:12,1:11,2:11"
    assert len(fresh.filings) == len(records) + 1


@pytest.mark.asyncio
async def test_a_common_word_or_tag_walks_the_time_index_and_answers_the_same(
    new_store: StoreFactory,
) -> None:
    # More matches than the store sorts (2,000): the newest are found by the time index.
    # "dividend" is in 2,070 summaries; JPM or GS is every filing's ticker.
    records = []
    for n in range(1, 2301):
        record = sample_analysis(n, ticker=("JPM", "GS")[n % 2])
        record["filing"]["accepted_at"] = START + dt.timedelta(seconds=n * 7 % 2300)
        record["analysis"]["summary"] = "dividend declared" if n % 10 else "buyback announced"
        records.append(record)
    rows = [FilingRow.of(0, n, record) for n, record in enumerate(records)]
    async with new_store() as store:
        await store.write(rows, {0: len(rows)})
        for params in (
            {"q": "dividend"},
            {"q": "dividend", "tickers": "GS", "limit": "7"},
            {"q": "buyback", "limit": "1000"},
            {"tickers": "JPM,GS", "limit": "30"},
            {"q": "buyback", "tickers": "GS,JPM", "limit": "100"},
        ):
            want = [
                r["filing"]["accession_number"]
                for r in sorted(
                    records,
                    key=lambda r: (r["filing"]["accepted_at"], r["filing"]["accession_number"]),
                    reverse=True,
                )
                if params.get("q", "") in r["analysis"]["summary"]
                and r["filing"]["tickers"][0] in params.get("tickers", "JPM,GS").split(",")
            ][: int(params.get("limit", "50"))]
            assert await _answer(store, params) == want, params


async def _accessions(store: FilingsStore, q: str) -> list[str]:
    page = await store.query(StoreQuery.from_params({"q": q}))
    return [orjson.loads(body)["filing"]["accession_number"] for body in page.filings]


@pytest.mark.asyncio
async def test_full_text_finds_a_word_only_the_document_text_has_whichever_came_first(
    new_store: StoreFactory,
) -> None:
    early, late, plain = (sample_analysis(n) for n in (1, 2, 3))
    early_text = TextRow.of(
        with_text(early, "Substantial doubt about its ability as a going concern.")
    )
    late_text = TextRow.of(with_text(late, "The Protection-based Vesting of awards."))
    async with new_store() as store:
        # The text of `early` is read before its analysis: it waits for its row.
        await store.write([], {}, [early_text], {0: 1})
        assert await store.waiting_texts() == {early_text.key}
        assert await _accessions(store, "going concern") == []  # no row, no answer
        rows = [FilingRow.of(0, n, record) for n, record in enumerate((early, late, plain))]
        assert [row.awaits_text for row in rows] == [True, True, False]
        await store.write(rows, {0: 3})
        assert await store.waiting_texts() == set()
        assert await _accessions(store, "going concern") == [early["filing"]["accession_number"]]
        # The text of `late` comes after its row (stored without it): the row's index takes it.
        assert await _accessions(store, "vesting") == []
        await store.write([], {}, [late_text], {0: 2})
        assert await _accessions(store, "vesting") == [late["filing"]["accession_number"]]
        assert await store.text_positions() == {0: 2}
        # The summary and the names are searched as before.
        assert await _accessions(store, "Filing 3") == [plain["filing"]["accession_number"]]


@pytest.mark.asyncio
async def test_a_filing_analyzed_again_is_searched_by_its_new_text_only(
    new_store: StoreFactory,
) -> None:
    first = sample_analysis(1)
    first_text = TextRow.of(with_text(first, "Old words: merger agreement."))
    again = sample_analysis(1)
    again["analyzed_at"] = first["analyzed_at"] + dt.timedelta(seconds=5)
    again_text = TextRow.of(with_text(again, "New words: bankruptcy petition."))
    async with new_store() as store:
        await store.write([FilingRow.of(0, 0, first)], {0: 1}, [first_text], {0: 1})
        assert len(await _accessions(store, "merger")) == 1
        # The new text ahead of its analysis waits; the old analysis keeps its old text.
        await store.write([], {}, [again_text], {0: 2})
        assert len(await _accessions(store, "merger")) == 1
        assert await _accessions(store, "bankruptcy") == []
        await store.write([FilingRow.of(0, 1, again)], {0: 2})
        assert await _accessions(store, "merger") == []
        assert len(await _accessions(store, "bankruptcy")) == 1
        # A text older than the row (an earlier analysis's, read again) changes nothing.
        await store.write([], {}, [first_text], {0: 3})
        assert await _accessions(store, "merger") == []
        assert await store.waiting_texts() == set()


@pytest.mark.asyncio
async def test_what_came_after_a_cursor_walks_every_partition_once(new_store: StoreFactory) -> None:
    """Pages after a cursor, across three partitions whose offsets have holes (transaction
    markers), hold each record after it once; the last page's cursor is the store's as_of (past
    the markers), and the walk goes on from there with what is stored next."""
    records = _records()
    # Offsets 0, 2, 4, ... in each partition: a marker after every record.
    rows = [FilingRow.of(n % 3, (n // 3) * 2, record) for n, record in enumerate(records)]
    ends = {partition: offset + 2 for partition, offset in _positions(rows).items()}
    async with new_store() as store:
        await store.write(rows, ends)
        start = {0: 4, 1: 2}  # partition 2 left out: from its beginning
        expected = [row.body for row in rows if row.offset >= start.get(row.partition, 0)]
        seen: list[bytes] = []
        after = dict(start)
        while True:
            page = await store.after(AfterQuery(after, limit=4))
            assert len(page.filings) <= 4
            seen.extend(page.filings)
            after = parse_cursor(page.next)
            if not page.more:
                break
        assert sorted(seen) == sorted(expected)
        assert len(seen) == len(expected)
        assert page.next == page.as_of == cursor_of(ends)
        late = sample_analysis(999, ticker="JPM")
        await store.write([FilingRow.of(1, ends[1], late)], {1: ends[1] + 1})
        following = await store.after(AfterQuery(after, limit=4))
        assert [orjson.loads(body)["filing"]["accession_number"] for body in following.filings] == [
            "0000019617-26-000999"
        ]
        assert following.next == cursor_of(ends | {1: ends[1] + 1})
        # A cursor ahead of the store (the stream is ahead of it): nothing, and it stays.
        ahead = {0: 1000, 1: 1000, 2: 1000}
        nothing = await store.after(AfterQuery(ahead))
        assert (nothing.filings, nothing.next, nothing.more) == ([], cursor_of(ahead), False)


def test_a_page_after_a_cursor_keeps_each_partitions_order() -> None:
    query = AfterQuery({0: 10}, limit=3)
    chosen, more = query.page({0: [10, 11, 12], 1: [0, 5]})
    assert chosen == [(0, 10), (1, 0), (0, 11)]
    assert more
    assert query.next_positions(chosen, more, {0: 13, 1: 6}) == {0: 12, 1: 1}
    with pytest.raises(BadParameterError, match=r"^limit: "):
        AfterQuery({}, limit=0)


@pytest.mark.asyncio
async def test_a_stale_writer_waits_for_the_new_owner_then_writes_nothing(
    postgres: LocalPostgres, pg_schema: str
) -> None:
    """PostgreSQL, two writers at once: the new owner of partition 0 moves its position in a
    transaction still open; the old owner's write (of what it read before) waits on that
    position's row, and once the new owner commits finds it moved: nothing of it is stored."""
    rows = _rows(_records())
    async with PostgresStore(postgres.dsn, TOPIC, TEXT_TOPIC, schema=pg_schema) as stale:
        await stale.write([], {0: 0, 1: 0})
        read = (await stale.positions(), await stale.text_positions())
        async with await psycopg.AsyncConnection.connect(postgres.dsn) as owner:
            await owner.execute(
                sql.SQL("UPDATE {}.positions SET next_offset = 5 WHERE partition = 0").format(
                    sql.Identifier(pg_schema)
                )
            )
            writing = asyncio.create_task(stale.write(rows[:2], {0: 2, 1: 1}, read=read))
            await asyncio.sleep(0.5)
            assert not writing.done()  # waiting on the row the new owner holds
            await owner.commit()
        with pytest.raises(PositionsMovedError) as moved:
            await writing
        assert moved.value.moved[TOPIC] == [0]
        assert await stale.positions() == {0: 5, 1: 0}
        assert await stale.count() == 0
