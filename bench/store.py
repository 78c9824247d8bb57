"""The filings store (SQLite) at the size of years of filings: write throughput, query
latency (filtered and full text) and size per record.

    python -m bench.store [RECORDS]        (default 1,000,000; a file under a temp directory)

The records are the project's own sample analyses made various: 5,000 tickers (each filing
one), twelve forms, four priorities, one in twelve a Form 4 with a transaction code and a
value, a summary of eight words out of a vocabulary of 2,000 (four drawn Zipf-like, so a few
words are in most filings, and four uniformly, so a rare word is in about 0.2% of them).
Written in transactions of 1,000 (the feeder's default batch), the way the feeder writes them.
Then each query kind 200 times at random parameters: p50 and p99, the goals being a filtered
p99 at most 50 ms and a full-text p99 at most 100 ms. The reference in the same run is the
plainest read of the same file: one row by primary key.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from services.store.query import StoreQuery
from services.store.rows import FilingRow
from services.store.sqlite import SqliteStore
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


def _percentiles(times_ms: list[float]) -> str:
    ordered = sorted(times_ms)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered):7.2f} ms   p99 {p99:7.2f} ms"


async def _timed(store: SqliteStore, make: Callable[[], dict[str, str]]) -> tuple[list[float], int]:
    times, found = [], 0
    for _ in range(_QUERIES):
        query = StoreQuery.from_params(make())
        started = time.perf_counter()
        page = await store.query(query)
        times.append((time.perf_counter() - started) * 1000)
        found += len(page.filings)
    return times, found


async def _run(count: int) -> None:
    rng = random.Random(7)
    words = _vocabulary(rng)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "store.sqlite3"
        async with SqliteStore(path, "bench.analyzed", "bench.text") as store:
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
            size = path.stat().st_size + sum(
                p.stat().st_size for p in path.parent.glob("store.sqlite3-*")
            )
            print(f"records            {count:,}")
            print(
                f"write              {count / write_s:,.0f} records/s in transactions of {_BATCH}"
                f" (rows made at {count / build_s:,.0f}/s; {total_s:.0f} s in all)"
            )
            print(
                f"size               {size / count:,.0f} bytes per record ({size / 2**20:,.0f} MiB)"
            )
            cases: dict[str, Callable[[], dict[str, str]]] = {
                "by key (reference)": lambda: {},
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
            for label, make in cases.items():
                if label.startswith("by key"):
                    times = []
                    for _ in range(_QUERIES):
                        accession = (
                            f"{(n := rng.randrange(count)) % 10**10:010d}-26-{n % 10**6:06d}"
                        )
                        started = time.perf_counter()
                        await store.get(accession)
                        times.append((time.perf_counter() - started) * 1000)
                    print(f"{label:<24} {_percentiles(times)}")
                    continue
                times, found = await _timed(store, make)
                print(
                    f"{label:<24} {_percentiles(times)}   ({found / _QUERIES:.0f} filings a page)"
                )


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    print(f"filings store, SQLite (command: python -m bench.store {count})")
    asyncio.run(_run(count))


if __name__ == "__main__":
    main()
