"""The filings store in PostgreSQL (STORE_DSN): several replicas share it, every one reads,
each partition has one writer at a time (the feeder's consumer group), fenced by its position.

psycopg 3 on asyncio, a small connection pool. The tables mirror layout 2 (layout.py) in a
schema of their own (STORE_PG_SCHEMA), with these differences (LAYOUT_VERSION, PostgreSQL's):
- the full-text index is `filings_text`: a `described` tsvector (summary and names) and a
  `document` tsvector (the document text, which may come after the row), both of the 'simple'
  configuration (lower-cased words, no stemming, no stop words: as near FTS5's unicode61 as
  PostgreSQL comes), with a GIN index on (described || document); the text itself is kept
  too, as FTS5 keeps it;
- the text columns that are compared or sorted are COLLATE "C": times and accession numbers
  sort as their bytes do, whatever the database's locale;
- `filing_tags` rows carry their filing's sort key (`filing_accepted_at`, `filing_accession`,
  written with the row and replaced with it), indexed after (kind, value): a filter on a tag
  many filings have (a transaction code) reads that tag's filings newest first and stops after
  a page, where the planner otherwise fetched and sorted all of them (query.py).

Reads run in REPEATABLE READ READ ONLY transactions: the rows and the positions that give
`as_of` are one snapshot. Each write is one READ COMMITTED transaction that moves the positions
first, compare and set when the writer says what it read (`read`): a writer whose partition the
group gave to another replica blocks on that position's row until the other commits, then finds
it moved and writes nothing (PositionsMovedError). DDL (creating, rebuilding) is done under a
transaction-level advisory lock, so replicas starting together create the tables once.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

import psycopg
import structlog
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from services.store.backend import (
    AfterPage,
    Page,
    PositionsMovedError,
    ReadPositions,
    StoreError,
    cursor_of,
)
from services.store.layout import LAYOUT_VERSION as SQLITE_LAYOUT_VERSION
from services.store.query import POSTGRES, AfterQuery, StoreQuery, next_token
from services.store.rows import FilingRow, TextRow

log = structlog.get_logger(__name__)
T = TypeVar("T")
Connection = psycopg.AsyncConnection[tuple[Any, ...]]
# PostgreSQL's own layout: SQLite's (layout.py) and, since "2.1", each filing's sort key
# (accepted_at, accession) copied into its filing_tags rows, for a tag read newest first.
LAYOUT_VERSION = f"{SQLITE_LAYOUT_VERSION}.1"
_POOL_SIZE = 4
_CONNECT_TIMEOUT_S = 30.0

_CREATE = """
CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE positions (partition integer PRIMARY KEY, next_offset bigint NOT NULL);
CREATE TABLE filings (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    accession text COLLATE "C" NOT NULL UNIQUE,
    partition integer NOT NULL,
    "offset" bigint NOT NULL,
    accepted_at text COLLATE "C" NOT NULL,
    form text COLLATE "C" NOT NULL,
    base_form text COLLATE "C" NOT NULL,
    priority integer NOT NULL,
    max_value_usd double precision,
    stake_percent double precision,
    stake_kind text COLLATE "C",
    analyzed_at text COLLATE "C" NOT NULL,
    body bytea NOT NULL
);
CREATE INDEX filings_newest ON filings (accepted_at DESC, accession DESC);
CREATE INDEX filings_form ON filings (base_form, accepted_at DESC);
CREATE INDEX filings_position ON filings (partition, "offset");
CREATE TABLE filing_tags (
    filing_id bigint NOT NULL REFERENCES filings (id) ON DELETE CASCADE,
    kind text COLLATE "C" NOT NULL,
    value text COLLATE "C" NOT NULL,
    filing_accepted_at text COLLATE "C" NOT NULL,
    filing_accession text COLLATE "C" NOT NULL,
    PRIMARY KEY (kind, value, filing_id)
);
CREATE INDEX filing_tags_of ON filing_tags (filing_id);
CREATE INDEX filing_tags_newest
    ON filing_tags (kind, value, filing_accepted_at DESC, filing_accession DESC);
-- A value is of one kind ('P' is a code): without this the planner multiplies the two columns'
-- frequencies, counts a code's filings 30 times too few, and sorts them all.
CREATE STATISTICS filing_tags_values (mcv) ON kind, value FROM filing_tags;
CREATE TABLE filings_text (
    filing_id bigint PRIMARY KEY REFERENCES filings (id) ON DELETE CASCADE,
    described tsvector NOT NULL,
    document tsvector NOT NULL,
    text text NOT NULL
);
CREATE INDEX filings_text_search ON filings_text USING gin ((described || document));
CREATE TABLE text_positions (partition integer PRIMARY KEY, next_offset bigint NOT NULL);
CREATE TABLE waiting_texts (
    accession text COLLATE "C" NOT NULL,
    analyzed_at text COLLATE "C" NOT NULL,
    text text NOT NULL,
    PRIMARY KEY (accession, analyzed_at)
);
"""
_TABLES = (
    "waiting_texts",
    "text_positions",
    "filings_text",
    "filing_tags",
    "filings",
    "positions",
    "meta",
)
# One statement per batch and table: arrays of the batch's values, unnested.
_UPSERT_FILINGS = (
    'INSERT INTO filings (accession, partition, "offset", accepted_at, form, base_form,'
    " priority, max_value_usd, stake_percent, stake_kind, analyzed_at, body)"
    " SELECT * FROM unnest(%s::text[], %s::integer[], %s::bigint[], %s::text[], %s::text[],"
    " %s::text[], %s::integer[], %s::float8[], %s::float8[], %s::text[], %s::text[],"
    " %s::bytea[])"
    " ON CONFLICT (accession) DO UPDATE SET partition = excluded.partition,"
    ' "offset" = excluded."offset", accepted_at = excluded.accepted_at, form = excluded.form,'
    " base_form = excluded.base_form, priority = excluded.priority,"
    " max_value_usd = excluded.max_value_usd, stake_percent = excluded.stake_percent,"
    " stake_kind = excluded.stake_kind, analyzed_at = excluded.analyzed_at,"
    " body = excluded.body RETURNING accession, id"
)
_INSERT_TAGS = (
    "INSERT INTO filing_tags (filing_id, kind, value, filing_accepted_at, filing_accession)"
    " SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[])"
    " ON CONFLICT DO NOTHING"
)
_INSERT_TEXTS = (
    "INSERT INTO filings_text (filing_id, described, document, text)"
    " SELECT id, to_tsvector('simple', summary) || to_tsvector('simple', names),"
    " to_tsvector('simple', text), text"
    " FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[]) AS t(id, summary, names, text)"
)
_TS = "to_tsvector('simple', %s)"


class PostgresStore:
    def __init__(
        self,
        dsn: str,
        topic: str,
        text_topic: str,
        *,
        schema: str = "sec_digester",
        writer: bool = True,
    ) -> None:
        """A view of `topic` (analyzed) and `text_topic` in `schema`. `writer=False`: only
        reads (creates nothing; reads raise StoreError until a writer has created the tables)."""
        self.topic = topic
        self.text_topic = text_topic
        self.schema = schema
        self._writes = writer
        self._pool = AsyncConnectionPool(
            dsn,
            min_size=1,
            max_size=_POOL_SIZE,
            open=False,
            timeout=_CONNECT_TIMEOUT_S,
            kwargs={"autocommit": True},
            configure=self._configure,
            name="sec-digester-store",
        )
        self._state = "new"
        self.rebuilt = False  # empty or of another layout or topics: fed afresh

    async def __aenter__(self) -> Self:
        if self._state != "new":
            raise RuntimeError("a PostgresStore is opened once")
        self._state = "open"
        try:
            await self._pool.open(wait=False)
        except psycopg.Error as exc:
            raise StoreError(f"store in PostgreSQL: {exc}") from exc
        if self._writes:
            await self._write(self._create)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._state = "closed"
        await self._pool.close()

    async def _configure(self, connection: Connection) -> None:
        await connection.execute(
            sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema))
        )
        # Every read is a page: starting a parallel worker (milliseconds) costs more than it
        # saves, and the planner, misled by a filter's correlation with a tag, chose them.
        await connection.execute("SET max_parallel_workers_per_gather = 0")

    # ------------------------------------------------------------------ writing (the feeder)

    async def positions(self) -> dict[int, int]:
        return await self._read(lambda db: _positions(db, "positions"))

    async def text_positions(self) -> dict[int, int]:
        return await self._read(lambda db: _positions(db, "text_positions"))

    async def waiting_texts(self) -> set[tuple[str, str]]:
        async def waiting(db: Connection) -> set[tuple[str, str]]:
            rows = await (
                await db.execute("SELECT accession, analyzed_at FROM waiting_texts")
            ).fetchall()
            return {(str(a), str(t)) for a, t in rows}

        return await self._read(waiting)

    async def write(
        self,
        rows: Sequence[FilingRow],
        positions: Mapping[int, int],
        texts: Sequence[TextRow] = (),
        text_positions: Mapping[int, int] | None = None,
        *,
        read: ReadPositions | None = None,
    ) -> None:
        """FilingsStore.write: one transaction, the positions first (compare and set on
        `read` when given), then the texts and the rows."""

        async def batch(db: Connection) -> None:
            moved = {
                self.topic: await _move(db, "positions", positions, read and read[0]),
                self.text_topic: await _move(
                    db, "text_positions", text_positions or {}, read and read[1]
                ),
            }
            if any(moved.values()):
                raise PositionsMovedError(moved)
            await _write_texts(db, texts)
            await _write_rows(db, rows)

        await self._write(batch)

    async def rebuild(self, reason: str) -> None:
        log.warning("store rebuilt from the topic's beginning", schema=self.schema, why=reason)
        await self._write(self._recreate)

    # ------------------------------------------------------------------ reading

    async def query(self, query: StoreQuery) -> Page:
        return await self._read(lambda db: self._query(db, query))

    async def after(self, query: AfterQuery) -> AfterPage:
        return await self._read(lambda db: self._after(db, query))

    async def get(self, accession: str) -> tuple[bytes | None, str]:
        async def get(db: Connection) -> tuple[bytes | None, str]:
            found = await (
                await db.execute("SELECT body FROM filings WHERE accession = %s", (accession,))
            ).fetchone()
            return (bytes(found[0]) if found else None), cursor_of(
                await _positions(db, "positions")
            )

        return await self._read(get)

    async def count(self) -> int:
        async def count(db: Connection) -> int:
            found = await (await db.execute("SELECT count(*) FROM filings")).fetchone()
            return int(found[0]) if found else 0

        return await self._read(count)

    # ------------------------------------------------------------------ transactions

    async def _write(self, fn: Callable[[Connection], Awaitable[T]]) -> T:
        """`fn` in one READ COMMITTED transaction: all or nothing."""
        self._check_open()
        try:
            async with self._pool.connection() as db, db.transaction():
                return await fn(db)
        except (psycopg.Error, TimeoutError) as exc:
            raise StoreError(f"store in PostgreSQL ({self.schema}): {exc}") from exc

    async def _read(self, fn: Callable[[Connection], Awaitable[T]]) -> T:
        """`fn` in one REPEATABLE READ READ ONLY transaction: one snapshot."""
        self._check_open()
        try:
            async with self._pool.connection() as db, db.transaction():
                await db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                return await fn(db)
        except (psycopg.Error, TimeoutError) as exc:
            raise StoreError(f"store in PostgreSQL ({self.schema}): {exc}") from exc

    def _check_open(self) -> None:
        if self._state != "open":
            raise RuntimeError(f"the store is {self._state}")

    # ------------------------------------------------------------------ layout

    def _expected_meta(self) -> dict[str, str]:
        return {"layout": LAYOUT_VERSION, "topic": self.topic, "text_topic": self.text_topic}

    async def _lock_layout(self, db: Connection) -> None:
        """One process at a time creates or drops this schema's tables (to the transaction's
        end). The key: the schema's name, hashed to the lock's integer."""
        key = zlib.crc32(f"sec-digester-store:{self.schema}".encode())
        await db.execute("SELECT pg_advisory_xact_lock(%s)", (key,))

    async def _create(self, db: Connection) -> None:
        await self._lock_layout(db)
        await db.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
        )
        exists = await (
            await db.execute("SELECT to_regclass(%s)", (f'"{self.schema}".meta',))
        ).fetchone()
        meta: dict[str, str] = {}
        if exists is not None and exists[0] is not None:
            meta = dict(await (await db.execute("SELECT key, value FROM meta")).fetchall())
        expected = self._expected_meta()
        if meta != expected:
            if meta:
                log.warning(
                    "store is of another layout or topic: rebuilt from the topic's beginning",
                    schema=self.schema,
                    found=meta,
                    expected=expected,
                )
            await self._recreate(db, locked=True)
            self.rebuilt = True

    async def _recreate(self, db: Connection, *, locked: bool = False) -> None:
        if not locked:
            await self._lock_layout(db)
        for table in _TABLES:
            await db.execute(
                sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier(table))
            )
        await db.execute(_CREATE)
        async with db.cursor() as cursor:
            await cursor.executemany(
                "INSERT INTO meta (key, value) VALUES (%s, %s)", list(self._expected_meta().items())
            )

    # ------------------------------------------------------------------ answers

    async def _query(self, db: Connection, query: StoreQuery) -> Page:
        # PostgreSQL's planner chooses between the time index and the matches itself.
        statement, args = query.sql(dialect=POSTGRES)
        rows = await (await db.execute(statement, args)).fetchall()
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        # A walk's later pages answer as of its first: the snapshot the walk continues.
        as_of = (
            cursor_of(query.before[2])
            if query.before
            else cursor_of(await _positions(db, "positions"))
        )
        token = next_token(rows[-1][0], rows[-1][1], as_of) if more and rows else None
        return Page([bytes(body) for _, _, body in rows], token, as_of)

    async def _after(self, db: Connection, query: AfterQuery) -> AfterPage:
        as_of = await _positions(db, "positions")
        offsets = {}
        for partition in sorted(set(as_of) | set(query.after)):
            found = await (await db.execute(*query.offsets_sql(partition, POSTGRES))).fetchall()
            offsets[partition] = [int(offset) for (offset,) in found]
        chosen, more = query.page(offsets)
        found = await (
            await db.execute(
                'SELECT partition, "offset", body FROM filings WHERE (partition, "offset") IN'
                " (SELECT * FROM unnest(%s::integer[], %s::bigint[]))",
                ([p for p, _ in chosen], [o for _, o in chosen]),
            )
        ).fetchall()
        by_position = {(int(p), int(o)): bytes(body) for p, o, body in found}
        bodies = [by_position[position] for position in chosen]  # read in this snapshot
        following = query.next_positions(chosen, more, as_of)
        return AfterPage(bodies, cursor_of(following), more, cursor_of(as_of))


async def _positions(db: Connection, table: str) -> dict[int, int]:
    select = sql.SQL("SELECT partition, next_offset FROM {}").format(sql.Identifier(table))
    return {int(p): int(o) for p, o in await (await db.execute(select)).fetchall()}


async def _move(
    db: Connection, table: str, moving: Mapping[int, int], read: Mapping[int, int] | None
) -> list[int]:
    """Move the positions of `moving`; with `read`, only those still at their read position
    (absent there: none stored). The partitions that moved meanwhile (nothing is moved then:
    the caller rolls back). Each position's row stays locked to the transaction's end."""
    name = sql.Identifier(table)
    moved: list[int] = []
    for partition, offset in sorted(moving.items()):
        if read is None:
            statement = sql.SQL(
                "INSERT INTO {} (partition, next_offset) VALUES (%s, %s) ON CONFLICT (partition)"
                " DO UPDATE SET next_offset = excluded.next_offset"
            ).format(name)
            await db.execute(statement, (partition, offset))
            continue
        was = read.get(partition)
        if was is None:
            statement = sql.SQL(
                "INSERT INTO {} (partition, next_offset) VALUES (%s, %s)"
                " ON CONFLICT (partition) DO NOTHING"
            ).format(name)
            cursor = await db.execute(statement, (partition, offset))
        else:
            statement = sql.SQL(
                "UPDATE {} SET next_offset = %s WHERE partition = %s AND next_offset = %s"
            ).format(name)
            cursor = await db.execute(statement, (offset, partition, was))
        if cursor.rowcount != 1:
            moved.append(partition)
    return moved


def _text(value: str) -> str:
    """PostgreSQL's text holds no NUL; a record's may (FTS5 takes it)."""
    return value.replace("\x00", " ")


async def _write_texts(db: Connection, texts: Sequence[TextRow]) -> None:
    """Each into the index of its row when that row is its analysis's; waiting for its row
    when the analysis is not stored yet; dropped when the row is of a later analysis."""
    if not texts:
        return
    found = {
        str(accession): (int(filing_id), str(analyzed_at))
        for accession, filing_id, analyzed_at in await (
            await db.execute(
                "SELECT accession, id, analyzed_at FROM filings WHERE accession = ANY(%s)",
                (sorted({t.accession for t in texts}),),
            )
        ).fetchall()
    }
    indexed, waiting = [], []
    for text in texts:
        row = found.get(text.accession)
        if row is not None and row[1] == text.analyzed_at:
            indexed.append((_text(text.text), _text(text.text), row[0]))
        elif row is None or row[1] < text.analyzed_at:
            waiting.append((text.accession, text.analyzed_at, _text(text.text)))
    async with db.cursor() as cursor:
        if indexed:
            await cursor.executemany(
                f"UPDATE filings_text SET text = %s, document = {_TS} WHERE filing_id = %s",  # noqa: S608
                indexed,
            )
        if waiting:
            await cursor.executemany(
                "INSERT INTO waiting_texts (accession, analyzed_at, text) VALUES (%s, %s, %s)"
                " ON CONFLICT (accession, analyzed_at) DO UPDATE SET text = excluded.text",
                waiting,
            )


async def _write_rows(db: Connection, rows: Sequence[FilingRow]) -> None:
    """Upserted by accession: a record analyzed again replaces the row, its tags and text.
    Of an accession twice in the batch, the later (in topic order) is the row."""
    if not rows:
        return
    latest = list({row.accession: row for row in rows}.values())
    async with db.cursor() as cursor:
        columns = list(
            zip(
                *(row.columns() for row in latest),
                strict=True,
            )
        )
        await cursor.execute(_UPSERT_FILINGS, [list(column) for column in columns])
        by_accession = {str(a): int(i) for a, i in await cursor.fetchall()}
        ids = [by_accession[row.accession] for row in latest]
        await cursor.execute("DELETE FROM filing_tags WHERE filing_id = ANY(%s)", (ids,))
        await cursor.execute("DELETE FROM filings_text WHERE filing_id = ANY(%s)", (ids,))
        documents = await _take_texts(cursor, latest)
        tags = [
            (filing_id, kind, _text(value), row.accepted_at, row.accession)
            for filing_id, row in zip(ids, latest, strict=True)
            for kind, value in row.tags
        ]
        if tags:
            await cursor.execute(_INSERT_TAGS, [list(column) for column in zip(*tags, strict=True)])
        await cursor.execute(
            _INSERT_TEXTS,
            (
                ids,
                [_text(row.summary) for row in latest],
                [_text(row.names) for row in latest],
                documents,
            ),
        )


async def _take_texts(
    cursor: psycopg.AsyncCursor[tuple[Any, ...]], rows: Sequence[FilingRow]
) -> list[str]:
    """Per row, the waiting text of its analysis ("" when none), and no text older than it
    left waiting. A row that announces no text has none waiting (sqlite.py says why)."""
    awaiting = [row for row in rows if row.awaits_text]
    if not awaiting:
        return [""] * len(rows)
    await cursor.execute(
        "DELETE FROM waiting_texts w USING unnest(%s::text[], %s::text[]) AS r(accession, at)"
        " WHERE w.accession = r.accession AND w.analyzed_at <= r.at"
        " RETURNING w.accession, w.analyzed_at, w.text",
        ([row.accession for row in awaiting], [row.analyzed_at for row in awaiting]),
    )
    taken = {(str(a), str(t)): str(text) for a, t, text in await cursor.fetchall()}
    return [taken.get(row.text_key, "") if row.awaits_text else "" for row in rows]
