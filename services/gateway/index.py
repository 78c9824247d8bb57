"""The gateway's in-memory index of the most recent analyzed filings, which serves the REST API.

Why an index and not Kafka reads: REST asks "the newest filings of ticker X / form Y since T",
and Kafka can only answer that by scanning: records are keyed by accession number, so one
ticker's filings are spread over every partition, and a timestamp lookup only gives where to
start reading, not which records match. A request that scans the topic costs a consumer, seconds
of reading and decoding, and grows with retention (unlimited by default). So the gateway reads
the analyzed topic's tail once at start-up (a bounded read, `GATEWAY_INDEX_SIZE` records) and
then every live record, and keeps the last N of them here, indexed by ticker, by form and by
time. Older history is what the topic itself is for: replay it (`/stream?from=...`) or read it
with any Kafka client for export.

Memory is bounded by N: each record is kept as its JSON bytes (about 1.5 KB for a typical
record, against about 7 KB as a decoded dict) plus about 0.4 KB of bookkeeping, so the default
100,000 records take about 200 MB. `get` and `query` decode on the way out (orjson, microseconds
per record), which also hands every caller its own dict: nobody can corrupt the index.

Every lookup list is sorted by (accepted_at, insertion sequence) in a SortedKeyList (a B-tree
like list of sorted chunks), so adding a record that arrives out of time order (several
partitions, a start-up read) and evicting the oldest are O(log n), and a query walks one list
from its newest end: the one of its ticker or form (whichever is shorter), else the list of all.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sys
from dataclasses import dataclass
from typing import Any, TypeAlias

import orjson
from sortedcontainers import SortedKeyList

from services.common.forms import form_family, form_matches

# (accepted_at, insertion sequence): unique, so records accepted at the same instant keep a
# stable order and a record can be found again to remove it.
_Order = tuple[dt.datetime, int]
_Timeline: TypeAlias = "SortedKeyList[_Entry, _Order]"  # not subscriptable at run time


@dataclass(frozen=True, slots=True, eq=False)  # identity equality: one entry per insertion
class _Entry:
    order: _Order
    form_type: str  # upper case
    tickers: tuple[str, ...]  # upper case
    body: bytes  # the record as JSON

    def matches(self, ticker: str | None, form: str | None) -> bool:
        return (ticker is None or ticker in self.tickers) and (
            form is None or form_matches(self.form_type, form)
        )


def _order_of(entry: _Entry) -> _Order:
    return entry.order


def _timeline() -> _Timeline:
    return SortedKeyList(key=_order_of)


_NOTHING = _timeline()  # the candidates of a ticker or form the index has never seen


def _utc(value: str | dt.datetime) -> dt.datetime:
    """A timestamp as the protocol's JSON text, or as decoded from Avro."""
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:  # the protocol's timestamps are UTC
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


class FilingIndex:
    """The last `capacity` FilingAnalysis records (as the protocol's JSON), by accession number.

    Eviction is by insertion: the record added longest ago goes first. Adding a record whose
    accession number is already held replaces it, and the new version counts as just added.
    Not thread-safe: the gateway calls it from its event loop only.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self._capacity = capacity
        self._by_accession: dict[str, _Entry] = {}  # insertion order is eviction order
        self._timeline = _timeline()
        self._by_ticker: dict[str, _Timeline] = {}
        self._by_form: dict[str, _Timeline] = {}
        self._sequence = itertools.count()

    @property
    def capacity(self) -> int:
        return self._capacity

    def __len__(self) -> int:
        return len(self._by_accession)

    def add(self, data: dict[str, Any], body: bytes | None = None) -> None:
        """Index one FilingAnalysis: `data` as JSON (`data` of a `filing` frame), or decoded
        from Avro together with `body`, its JSON text, which the gateway has already made."""
        filing = data["filing"]
        accession: str = filing["accession_number"]
        # Interned: thousands of records share a handful of forms and tickers.
        tickers = dict.fromkeys(sys.intern(ticker.upper()) for ticker in filing["tickers"])
        entry = _Entry(
            order=(_utc(filing["accepted_at"]), next(self._sequence)),
            form_type=sys.intern(filing["form_type"].upper()),
            tickers=tuple(tickers),
            # Copied to its exact size: orjson's own result keeps a buffer of 4 KB or more.
            body=body if body is not None else bytes(memoryview(orjson.dumps(data))),
        )
        replaced = self._by_accession.pop(accession, None)
        if replaced is not None:
            self._unlink(replaced)
        elif len(self._by_accession) >= self._capacity:
            self._unlink(self._by_accession.pop(next(iter(self._by_accession))))
        self._by_accession[accession] = entry
        self._link(entry)

    def get(self, accession: str) -> dict[str, Any] | None:
        entry = self._by_accession.get(accession)
        return None if entry is None else _decoded(entry)

    def query(
        self, ticker: str | None, form: str | None, since: dt.datetime | None, limit: int
    ) -> list[dict[str, Any]]:
        """Up to `limit` records, newest `accepted_at` first; records accepted at the same
        instant come in reverse insertion order (the later added first).

        `ticker` matches any of the filing's tickers; `form` matches the form type exactly or
        its amendment (both ignoring case); `since` (timezone-aware) keeps
        `accepted_at >= since`.
        """
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        if since is not None and since.utcoffset() is None:
            raise ValueError("since must be timezone-aware")
        wanted_ticker = None if ticker is None else ticker.upper()
        wanted_form = None if form is None else form.upper()
        candidates = [self._timeline]
        if wanted_ticker is not None:
            candidates.append(self._by_ticker.get(wanted_ticker, _NOTHING))
        if wanted_form is not None:
            candidates.append(self._by_form.get(form_family(wanted_form), _NOTHING))
        shortest = min(candidates, key=len)
        # Sequence -1 sorts before every record accepted exactly at `since`: they are included.
        newest_first = shortest.irange_key(
            min_key=None if since is None else (since, -1), reverse=True
        )
        found = (entry for entry in newest_first if entry.matches(wanted_ticker, wanted_form))
        return [_decoded(entry) for entry in itertools.islice(found, limit)]

    def _link(self, entry: _Entry) -> None:
        self._timeline.add(entry)
        for ticker in entry.tickers:
            self._by_ticker.setdefault(ticker, _timeline()).add(entry)
        self._by_form.setdefault(form_family(entry.form_type), _timeline()).add(entry)

    def _unlink(self, entry: _Entry) -> None:
        self._timeline.remove(entry)
        for ticker in entry.tickers:
            _remove(self._by_ticker, ticker, entry)
        _remove(self._by_form, form_family(entry.form_type), entry)


def _remove(lists: dict[str, _Timeline], key: str, entry: _Entry) -> None:
    timeline = lists[key]
    timeline.remove(entry)
    if not timeline:  # a ticker that left the window costs nothing
        del lists[key]


def _decoded(entry: _Entry) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(entry.body)
    return data
