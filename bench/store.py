"""The filings store at the size of years of filings: write throughput, query latency
(filtered and full text) and size per record; SQLite, and with --postgres PostgreSQL beside it
on the same records and the same queries in the same run.

    python -m bench.store [RECORDS] [--postgres]   (default 1,000,000; under a temp directory)

--postgres starts a throw-away PostgreSQL from Debian's binaries (make postgres) on a free
port, with its defaults (synchronous_commit on: each transaction is flushed, as SQLite's WAL
with synchronous=NORMAL is not quite), and drops it afterwards. Before its queries it runs
VACUUM ANALYZE, what autovacuum does within a minute of such a load (autovacuum_naptime): the
planner needs the words' frequencies to walk the time index for a common word rather than sort
all its matches (without them a common word's p99 was 0.7 s at 100,000 records).

The records are the project's own sample analyses made various: 5,000 tickers (each filing
one), twelve forms, four priorities, one in twelve a Form 4 with a transaction code and a
value, a summary of eight words out of a vocabulary of 2,000 (four drawn Zipf-like, so a few
words are in most filings, and four uniformly, so a rare word is in about 0.2% of them).
Written in transactions of 1,000 (the feeder's default batch), the way the feeder writes them.
Then each query kind 200 times at random parameters (the same ones on each backend): p50 and
p99, the goals being a filtered p99 at most 50 ms and a full-text p99 at most 100 ms. The
reference in the same run is the plainest read of the same store: one row by primary key.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg

from services.infra.postgres import LocalPostgres
from services.store.backend import FilingsStore
from services.store.postgres import PostgresStore
from services.store.query import StoreQuery
from services.store.rows import FilingRow
from services.store.sqlite import SqliteStore
from tests.support.processes import free_port
from tests.support.records import sample_analysis

_FORMS = (
    "8-K",
    "4",
    "10-Q",
    "10-K",
    "SC 13G",
    "SCHEDULE 13D",
    "144",
    "S-1",
    "6-K",
    "8-K/A",
    "3",
    "DEF 14A",
)
_PRIORITIES = ("low", "medium", "high", "critical")
_START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
_BATCH = 1000
_QUERIES = 200


def _vocabulary(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(4, 9))) for _ in range(2000)]


def _record(n: int, rng: random.Random, words: list[str]) -> dict[str, Any]:
    form = _FORMS[n % len(_FORMS)]
    record = sample_analysis(
        n,
        ticker=f"T{rng.randrange(5000):04d}",
        form_type=form,
        priority=_PRIORITIES[rng.randrange(4)],
        items=("2.02", "9.01") if form == "8-K" else (),
    )
    record["filing"]["accession_number"] = f"{n % 10**10:010d}-26-{n % 10**6:06d}"
    record["filing"]["accepted_at"] = _START + dt.timedelta(seconds=60 * n)
    record["filing"]["entities"][0]["cik"] = f"{rng.randrange(5_000):010d}"
    # Four words Zipf-like (a few common to most filings), four uniform (each in 0.2%).
    summary = [words[min(int(rng.paretovariate(1.2)) - 1, len(words) - 1)] for _ in range(4)]
    summary += [rng.choice(words) for _ in range(4)]
    record["analysis"]["summary"] = " ".join(summary)
    if form == "4":
        record["ownership"] = {
            "document_type": "4",
            "period_of_report": None,
            "issuer": {"cik": "0000000001", "name": "ISSUER", "trading_symbol": None},
            "owners": [],
            "transactions": [
                {
                    "table": "non_derivative",
                    "kind": "transaction",
                    "security_title": "Common",
                    "date": None,
                    "code": rng.choice("PSAM"),
                    "shares": 100.0,
                    "price_per_share": 10.0,
                    "value_usd": float(rng.randrange(1, 10_000_000)),
                    "acquired_disposed": "A",
                    "shares_owned_after": None,
                    "direct_indirect": "D",
                    "nature_of_ownership": None,
                    "footnote_ids": [],
                    "rule_10b5_1": None,
                    "underlying_title": None,
                    "underlying_shares": None,
                    "exercise_price": None,
                    "exercise_date": None,
                    "expiration_date": None,
                }
            ],
            "footnotes": [],
            "remarks": None,
        }
    return record


def _percentiles(times_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(times_ms)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _cases(
    rng: random.Random, words: list[str], count: int
) -> dict[str, Callable[[], dict[str, str]]]:
    return {
        "ticker": lambda: {"tickers": f"T{rng.randrange(5000):04d}"},
        "form + priority": lambda: {
            "forms": rng.choice(_FORMS),
            "min_priority": rng.choice(_PRIORITIES),
        },
        "codes + value": lambda: {
            "transaction_codes": "P",
            "min_value_usd": str(rng.randrange(9_000_000)),
        },
        "cik + window": lambda: {
            "cik": str(rng.randrange(5_000)),
            "since": (_START + dt.timedelta(minutes=rng.randrange(count))).isoformat(),
        },
        "full text, common word": lambda: {"q": words[rng.randrange(3)]},
        "full text, rare word": lambda: {"q": words[rng.randrange(100, 2000)]},
        "full text + ticker": lambda: {
            "q": words[rng.randrange(20)],
            "tickers": f"T{rng.randrange(5000):04d}",
        },
    }


async def _measure(
    store: FilingsStore,
    count: int,
    size: Callable[[], Any],
    settle: Callable[[], Any] | None = None,
) -> dict[str, str]:
    """One backend: its writes, its size, its queries; the same records and parameters as every
    other backend (the same seeds)."""
    rng = random.Random(7)
    words = _vocabulary(rng)
    figures: dict[str, str] = {}
    started = time.perf_counter()
    build_s = write_s = 0.0
    for first in range(0, count, _BATCH):
        made = time.perf_counter()
        rows = [
            FilingRow.of(n % 3, n // 3, _record(n, rng, words))
            for n in range(first, min(first + _BATCH, count))
        ]
        written = time.perf_counter()
        await store.write(rows, {p: (first + _BATCH) // 3 + 1 for p in range(3)})
        build_s += written - made
        write_s += time.perf_counter() - written
    total_s = time.perf_counter() - started
    figures["write (records/s)"] = f"{count / write_s:,.0f}"
    figures["  rows made (records/s)"] = f"{count / build_s:,.0f}"
    figures["  in all (s)"] = f"{total_s:,.0f}"
    if settle is not None:
        await settle()
    stored = await size()
    figures["size (bytes/record)"] = f"{stored / count:,.0f}"
    figures["size (MiB)"] = f"{stored / 2**20:,.0f}"
    queries = random.Random(11)
    times = []
    for _ in range(_QUERIES):
        n = queries.randrange(count)
        accession = f"{n % 10**10:010d}-26-{n % 10**6:06d}"
        begun = time.perf_counter()
        await store.get(accession)
        times.append((time.perf_counter() - begun) * 1000)
    p50, p99 = _percentiles(times)
    figures["by key (reference) p50/p99 ms"] = f"{p50:.2f} / {p99:.2f}"
    for label, make in _cases(queries, words, count).items():
        times, found = [], 0
        for _ in range(_QUERIES):
            query = StoreQuery.from_params(make())
            begun = time.perf_counter()
            page = await store.query(query)
            times.append((time.perf_counter() - begun) * 1000)
            found += len(page.filings)
        p50, p99 = _percentiles(times)
        figures[f"{label} p50/p99 ms"] = f"{p50:.2f} / {p99:.2f} ({found / _QUERIES:.0f}/page)"
    return figures


@contextlib.contextmanager
def _throwaway_postgres() -> Iterator[LocalPostgres]:
    base = Path(tempfile.mkdtemp(prefix="bench-store-pg-"))
    base.chmod(0o755)  # the postgres user reaches it when run as root
    server = LocalPostgres(base / "data", free_port())
    try:
        server.up()
        yield server
    finally:
        server.down()
        shutil.rmtree(base, ignore_errors=True)


def _postgres_vacuum(server: LocalPostgres) -> Callable[[], Any]:
    async def vacuum() -> None:
        async with await psycopg.AsyncConnection.connect(server.dsn, autocommit=True) as db:
            await db.execute("VACUUM ANALYZE")

    return vacuum


def _postgres_size(server: LocalPostgres) -> Callable[[], Any]:
    async def size() -> int:
        async with await psycopg.AsyncConnection.connect(server.dsn) as db:
            found = await (
                await db.execute(
                    "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n"
                    " ON n.oid = c.relnamespace WHERE n.nspname = 'bench' AND c.relkind = 'r'"
                )
            ).fetchone()
            assert found is not None
            return int(found[0])

    return size


async def _run(count: int, postgres: bool) -> None:
    columns: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "store.sqlite3"

        async def sqlite_size() -> int:
            return path.stat().st_size + sum(
                p.stat().st_size for p in path.parent.glob("store.sqlite3-*")
            )

        async with SqliteStore(path, "bench.analyzed", "bench.text") as store:
            columns["SQLite"] = await _measure(store, count, sqlite_size)
    if postgres:
        with _throwaway_postgres() as server:
            async with PostgresStore(
                server.dsn, "bench.analyzed", "bench.text", schema="bench"
            ) as pg:
                columns["PostgreSQL"] = await _measure(
                    pg, count, _postgres_size(server), _postgres_vacuum(server)
                )
    names = list(columns)
    rows = list(next(iter(columns.values())))
    width = max(len(r) for r in rows) + 2
    print(f"records: {count:,}, in transactions of {_BATCH}; {_QUERIES} queries of each kind")
    print(f"{'':<{width}}" + "".join(f"{name:>30}" for name in names))
    for row in rows:
        print(f"{row:<{width}}" + "".join(f"{columns[name][row]:>30}" for name in names))


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    postgres = "--postgres" in sys.argv[1:]
    count = int(args[0]) if args else 1_000_000
    flag = " --postgres" if postgres else ""
    print(f"filings store (command: python -m bench.store {count}{flag})")
    asyncio.run(_run(count, postgres))


if __name__ == "__main__":
    main()
