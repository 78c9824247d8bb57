"""The filings store in one SQLite file: WAL, one writer (the feeder), any number of readers.

sqlite3 is blocking, so every call runs on a thread: writes on one thread of their own (one
connection, in the order they were made), reads on a small pool, each thread with its own
read-only connection. WAL lets the readers read while the writer writes, each read in a
transaction of its own: the rows and the positions it reports are one snapshot, so `as_of` is
exactly what the answer reflects.

Opened by `async with`; closed once, it cannot be reopened (a new SqliteStore is). A store
opened with `writer=False` only reads: several gateway processes share the file one of them
(or `sec-digester store feed`) feeds; until that one has created it, reads raise StoreError.
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

import structlog

from services.store.backend import (
    AfterPage,
    Page,
    PositionsMovedError,
    ReadPositions,
    StoreError,
    cursor_of,
    moved_since,
)
from services.store.layout import CREATE, DROP, LAYOUT_VERSION
from services.store.query import AfterQuery, StoreQuery, WordMatches, next_token, tag_matches
from services.store.rows import FilingRow, TextRow

log = structlog.get_logger(__name__)
T = TypeVar("T")
_READERS = 4
# Past this many matches, a tag filter walks the time index (each row's tag a seek in
# filing_tags' key) instead of sorting every match; so does a full-text filter beside a tag
# filter of few matches (each of the tag's rows searched for the words).
_COMMON_MATCHES = 2000
# A full-text filter alone: a walk of the time index for a page reads about (limit + 1) x
# filings / matches of its entries. Testing each by a search of its own (a seek in every
# segment of the term's lists) costs about 64 times what reading one match into a set does,
# and looking a match up to sort it (its row, not the index) about 64 times what reading an
# entry of the (covering) time index does (measured at 1M filings). So: few matches (sorted)
# below sqrt((limit + 1) x filings) / _WALK_COST_RATIO, many (a search per row) above it times
# _WALK_COST_RATIO, some (a walk against the matches' set) between: never sorting thousands
# nor searching for each of tens of thousands of rows.
_WALK_COST_RATIO = 8
# Many or some is told by the density of the matches among the newest filings (the largest
# ids, where the walk starts): counting every match up to many's threshold (tens of thousands)
# would cost a common word more than its walk. This many matches are counted at most.
_DENSITY_PROBE = 200


class SqliteStore:
    def __init__(self, path: Path, topic: str, text_topic: str, *, writer: bool = True) -> None:
        """A view of `topic` (analyzed) and `text_topic`. `writer=False`: only reads (another
        process feeds the file)."""
        self.path = path
        self.topic = topic
        self.text_topic = text_topic
        self._writes = writer
        self._writer_pool = ThreadPoolExecutor(1, thread_name_prefix="store-writer")
        self._reader_pool = ThreadPoolExecutor(_READERS, thread_name_prefix="store-reader")
        self._writer: sqlite3.Connection | None = None
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._state = "new"
        self.rebuilt = False  # the file was empty or of another layout or topic: fed afresh

    async def __aenter__(self) -> Self:
        if self._state != "new":
            raise RuntimeError("a SqliteStore is opened once")
        self._state = "open"
        if self._writes:
            await self._write(self._open_writer)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._state = "closed"
        await asyncio.get_running_loop().run_in_executor(self._writer_pool, self._close_writer)
        self._writer_pool.shutdown(wait=True)
        self._reader_pool.shutdown(wait=True)
        with self._readers_lock:
            for connection in self._readers:
                connection.close()
            self._readers.clear()

    # ------------------------------------------------------------------ writing (the feeder)

    async def positions(self) -> dict[int, int]:
        """Per partition, the next offset to read: where the feeder resumes."""
        return await self._write(self._positions, "positions")

    async def text_positions(self) -> dict[int, int]:
        """Per partition of the text topic, the next offset to read."""
        return await self._write(self._positions, "text_positions")

    async def waiting_texts(self) -> set[tuple[str, str]]:
        """(accession, analyzed_at) of the texts stored before their analysis."""
        return await self._write(
            lambda: set(self._db().execute("SELECT accession, analyzed_at FROM waiting_texts"))
        )

    async def write(
        self,
        rows: Sequence[FilingRow],
        positions: Mapping[int, int],
        texts: Sequence[TextRow] = (),
        text_positions: Mapping[int, int] | None = None,
        *,
        read: ReadPositions | None = None,
    ) -> None:
        """FilingsStore.write: one transaction, compare and set on `read` when given."""
        await self._write(self._write_batch, rows, positions, texts, text_positions or {}, read)

    async def rebuild(self, reason: str) -> None:
        """Empty the store (positions included) for a feed from the topic's beginning."""
        log.warning("store rebuilt from the topic's beginning", path=str(self.path), why=reason)
        await self._write(self._recreate)

    # ------------------------------------------------------------------ reading

    async def query(self, query: StoreQuery) -> Page:
        return await self._read(self._query, query)

    async def after(self, query: AfterQuery) -> AfterPage:
        """What the store holds after a cursor, a page of it, and the cursor after the page."""
        return await self._read(self._after, query)

    async def get(self, accession: str) -> tuple[bytes | None, str]:
        """The record's JSON (None when the store has none), and the store's `as_of`."""
        return await self._read(self._get, accession)

    async def count(self) -> int:
        return await self._read(
            lambda db: int(db.execute("SELECT count(*) FROM filings").fetchone()[0])
        )

    # ------------------------------------------------------------------ on the threads

    async def _write(self, fn: Callable[..., T], *args: object) -> T:
        if self._state != "open":
            raise RuntimeError(f"the store is {self._state}")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._writer_pool, fn, *args)
        except sqlite3.Error as exc:
            raise StoreError(f"store {self.path}: {exc}") from exc

    async def _read(self, fn: Callable[..., T], *args: object) -> T:
        if self._state != "open":
            raise RuntimeError(f"the store is {self._state}")

        def run() -> T:
            db = self._reader()
            db.execute("BEGIN")
            try:
                return fn(db, *args)
            finally:
                db.execute("COMMIT")

        try:
            return await asyncio.get_running_loop().run_in_executor(self._reader_pool, run)
        except sqlite3.Error as exc:
            raise StoreError(f"store {self.path}: {exc}") from exc

    def _open_writer(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL: a power loss may lose the last transactions, never corrupt the file;
        # lost transactions took their positions with them, so the feeder reads them again.
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        self._writer = db
        meta = self._meta()
        expected = self._expected_meta()
        if meta != expected:
            if meta:
                log.warning(
                    "store is of another layout or topic: rebuilt from the topic's beginning",
                    path=str(self.path),
                    found=meta,
                    expected=expected,
                )
            self._recreate()
            self.rebuilt = True

    def _close_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _db(self) -> sqlite3.Connection:
        assert self._writer is not None  # opened in __aenter__
        return self._writer

    def _meta(self) -> dict[str, str]:
        db = self._db()
        exists = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        ).fetchone()
        if not exists:
            return {}
        return dict(db.execute("SELECT key, value FROM meta").fetchall())

    def _expected_meta(self) -> dict[str, str]:
        return {"layout": LAYOUT_VERSION, "topic": self.topic, "text_topic": self.text_topic}

    def _recreate(self) -> None:
        db = self._db()
        db.executescript(f"BEGIN; {DROP} {CREATE} COMMIT;")
        with _transaction(db):
            db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)", self._expected_meta().items()
            )

    def _positions(self, table: str) -> dict[int, int]:
        select = f"SELECT partition, next_offset FROM {table}"  # noqa: S608 (one of two names)
        return dict(self._db().execute(select).fetchall())

    def _write_batch(
        self,
        rows: Sequence[FilingRow],
        positions: Mapping[int, int],
        texts: Sequence[TextRow],
        text_positions: Mapping[int, int],
        read: ReadPositions | None,
    ) -> None:
        db = self._db()
        with _transaction(db):
            if read is not None:
                moved = {
                    topic: moved_since(self._positions(table), was, moving)
                    for topic, table, was, moving in (
                        (self.topic, "positions", read[0], positions),
                        (self.text_topic, "text_positions", read[1], text_positions),
                    )
                }
                if any(moved.values()):
                    raise PositionsMovedError(moved)
            for text in texts:
                self._write_text(db, text)
            for row in rows:
                (filing_id,) = db.execute(
                    'INSERT INTO filings (accession, partition, "offset", accepted_at, form,'
                    " base_form, priority, max_value_usd, stake_percent, stake_kind, analyzed_at,"
                    " body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (accession) DO UPDATE SET partition = excluded.partition,"
                    ' "offset" = excluded."offset", accepted_at = excluded.accepted_at,'
                    " form = excluded.form, base_form = excluded.base_form,"
                    " priority = excluded.priority, max_value_usd = excluded.max_value_usd,"
                    " stake_percent = excluded.stake_percent, stake_kind = excluded.stake_kind,"
                    " analyzed_at = excluded.analyzed_at, body = excluded.body RETURNING id",
                    row.columns(),
                ).fetchone()
                # A record analyzed again replaces the row: its tags and text too.
                db.execute("DELETE FROM filing_tags WHERE filing_id = ?", (filing_id,))
                db.execute("DELETE FROM filings_text WHERE rowid = ?", (filing_id,))
                db.executemany(
                    "INSERT INTO filing_tags (filing_id, kind, value) VALUES (?, ?, ?)",
                    [(filing_id, kind, value) for kind, value in row.tags],
                )
                db.execute(
                    "INSERT INTO filings_text (rowid, summary, names, text) VALUES (?, ?, ?, ?)",
                    (filing_id, row.summary, row.names, self._take_text(db, row)),
                )
            for table, after in (("positions", positions), ("text_positions", text_positions)):
                upsert = (
                    f"INSERT INTO {table} (partition, next_offset) VALUES (?, ?) ON CONFLICT"  # noqa: S608
                    " (partition) DO UPDATE SET next_offset = excluded.next_offset"
                )
                db.executemany(upsert, sorted(after.items()))

    @staticmethod
    def _write_text(db: sqlite3.Connection, text: TextRow) -> None:
        """Into the index of its row when that row is its analysis's; waiting for its row when
        the analysis is not stored yet; dropped when the row is of a later analysis."""
        found = db.execute(
            "SELECT id, analyzed_at FROM filings WHERE accession = ?", (text.accession,)
        ).fetchone()
        if found is not None and found[1] == text.analyzed_at:
            db.execute("UPDATE filings_text SET text = ? WHERE rowid = ?", (text.text, found[0]))
        elif found is None or found[1] < text.analyzed_at:
            db.execute(
                "INSERT OR REPLACE INTO waiting_texts (accession, analyzed_at, text)"
                " VALUES (?, ?, ?)",
                (text.accession, text.analyzed_at, text.text),
            )

    @staticmethod
    def _take_text(db: sqlite3.Connection, row: FilingRow) -> str:
        """The waiting text of the row's analysis ("" when none), and no text older than it
        left waiting. A row that announces no text has none waiting: a text waits only for a
        row not written yet, and an accession's rows are written in their topic's order."""
        if not row.awaits_text:
            return ""
        found = db.execute(
            "SELECT text FROM waiting_texts WHERE accession = ? AND analyzed_at = ?", row.text_key
        ).fetchone()
        db.execute(
            "DELETE FROM waiting_texts WHERE accession = ? AND analyzed_at <= ?", row.text_key
        )
        return str(found[0]) if found else ""

    def _reader(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            self._local.db = db
            with self._readers_lock:
                self._readers.append(db)
        return db

    @staticmethod
    def _as_of(db: sqlite3.Connection) -> str:
        return cursor_of(dict(db.execute("SELECT partition, next_offset FROM positions")))

    def _query(self, db: sqlite3.Connection, query: StoreQuery) -> Page:
        tags = query.tags()
        common_tags = frozenset(
            kind for kind, values in tags if _many(db, *tag_matches(kind, values))
        )
        statement, args = query.sql(
            word_matches=_word_matches(db, query, few_tags=len(common_tags) < len(tags)),
            common_tags=common_tags,
        )
        rows = db.execute(statement, args).fetchall()
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        # A walk's later pages answer as of its first: the snapshot the walk continues.
        as_of = cursor_of(query.before[2]) if query.before else self._as_of(db)
        token = next_token(rows[-1][0], rows[-1][1], as_of) if more and rows else None
        return Page([bytes(body) for _, _, body in rows], token, as_of)

    def _after(self, db: sqlite3.Connection, query: AfterQuery) -> AfterPage:
        as_of = dict(db.execute("SELECT partition, next_offset FROM positions").fetchall())
        offsets = {
            partition: [offset for (offset,) in db.execute(*query.offsets_sql(partition))]
            for partition in sorted(set(as_of) | set(query.after))
        }
        chosen, more = query.page(offsets)
        bodies = [
            bytes(
                db.execute(
                    'SELECT body FROM filings WHERE partition = ? AND "offset" = ?',
                    (partition, offset),
                ).fetchone()[0]
            )
            for partition, offset in chosen
        ]
        following = query.next_positions(chosen, more, as_of)
        return AfterPage(bodies, cursor_of(following), more, cursor_of(as_of))

    def _get(self, db: sqlite3.Connection, accession: str) -> tuple[bytes | None, str]:
        found = db.execute("SELECT body FROM filings WHERE accession = ?", (accession,)).fetchone()
        return (bytes(found[0]) if found else None), self._as_of(db)


def _many(db: sqlite3.Connection, matches: str, args: list[object]) -> bool:
    """Whether `matches` (a SELECT) has more than _COMMON_MATCHES rows; it stops counting there."""
    return _counted(db, matches, args, _COMMON_MATCHES + 1) > _COMMON_MATCHES


def _counted(db: sqlite3.Connection, matches: str, args: list[object], most: int) -> int:
    """How many rows `matches` (a SELECT) has, counting no further than `most`."""
    counted = db.execute(
        f"SELECT count(*) FROM ({matches} LIMIT ?)",  # noqa: S608 (fixed SQL of query.py's)
        [*args, most],
    ).fetchone()[0]
    return int(counted)


def _word_matches(db: sqlite3.Connection, query: StoreQuery, *, few_tags: bool) -> WordMatches:
    """How the filings `q` matches are found (_WALK_COST_RATIO says why)."""
    if not query.words:
        return "few"
    matches = "SELECT rowid FROM filings_text WHERE filings_text MATCH ?"
    if few_tags:  # the tag's few rows are the walk
        return "many" if _many(db, matches, [query.match_expression]) else "few"
    # Ids only grow (a row replaced keeps its id): the largest is about the count, at once.
    filings = int(db.execute("SELECT coalesce(max(id), 0) FROM filings").fetchone()[0])
    balance = math.isqrt((query.limit + 1) * filings)
    few = balance // _WALK_COST_RATIO
    if _counted(db, matches, [query.match_expression], few + 1) <= few:
        return "few"
    # The newest ids in which many's density (balance x _WALK_COST_RATIO / filings) would put
    # _DENSITY_PROBE matches.
    window = _DENSITY_PROBE * filings // (balance * _WALK_COST_RATIO) + 1
    near = _counted(
        db, f"{matches} AND rowid > ?", [query.match_expression, filings - window], _DENSITY_PROBE
    )
    return "many" if near >= _DENSITY_PROBE else "some"


def _count(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT count(*) FROM filings").fetchone()[0])


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception (autocommit connections)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
