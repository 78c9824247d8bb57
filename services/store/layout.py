"""The store's tables (SQLite), and the version of their layout.

- `filings`: one row per accession number, the newest record the topic holds for it (a record
  analyzed again replaces the row, as a reader of the whole topic keyed by accession would
  see it); the record's JSON as the gateway sends it, and a column per scalar stream filter.
- `filing_tags`: the multi-valued ones (tickers, CIKs, 8-K items, transaction codes, insider
  roles), one row per value, indexed by (kind, value) for the filters' lookups.
- `filings_text`: FTS5 over the summary, the names (entities, insiders, holders, seller) and
  the document text (the FilingText of the text topic paired with the row's analysis: same
  accession and analyzed_at; empty when there is none), its rowid the filing's id.
- `positions`: per partition of the analyzed topic, the next offset to read: what the store
  reflects, written in the same transaction as the rows (exactly once).
- Since layout 2, the text topic:
  - `text_positions`: per partition of the text topic, the next offset to read, written in the
    same transaction as what was read;
  - `waiting_texts`: texts read before the analysis they go with, by (accession, analyzed_at);
    moved into `filings_text` when it is written;
  - `filings.analyzed_at`: what a text is paired by.
- `meta`: the layout version and the topics the store is a view of (analyzed, text). Any of
  them differing from what this code expects means the store is rebuilt from the topics'
  beginning: it is a view, and rebuilding gives the same answers.
"""

from __future__ import annotations

LAYOUT_VERSION = "2"  # 2: the document text (text topic) and filings_position (after a cursor)

# Tag kinds of filing_tags.
TICKER, CIK, ITEM, CODE, ROLE = "ticker", "cik", "item", "code", "role"

CREATE = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS positions (
    partition INTEGER PRIMARY KEY,
    next_offset INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS filings (
    id INTEGER PRIMARY KEY,
    accession TEXT NOT NULL UNIQUE,
    partition INTEGER NOT NULL,
    "offset" INTEGER NOT NULL,
    accepted_at TEXT NOT NULL,          -- UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ: sorts as text
    form TEXT NOT NULL,                 -- in one spelling (services.common.forms)
    base_form TEXT NOT NULL,            -- the form without /A: a form's filter takes both
    priority INTEGER NOT NULL,          -- index in PRIORITIES
    max_value_usd REAL,
    stake_percent REAL,
    stake_kind TEXT,
    analyzed_at TEXT NOT NULL,          -- stored_time: pairs the row with its text
    body BLOB NOT NULL                  -- the record's JSON
);
CREATE INDEX IF NOT EXISTS filings_newest ON filings (accepted_at DESC, accession DESC);
CREATE INDEX IF NOT EXISTS filings_form ON filings (base_form, accepted_at DESC);
-- What the store holds after a cursor, partition by partition (services/store/query.py).
CREATE INDEX IF NOT EXISTS filings_position ON filings (partition, "offset");
CREATE TABLE IF NOT EXISTS filing_tags (
    filing_id INTEGER NOT NULL REFERENCES filings (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (kind, value, filing_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS filing_tags_of ON filing_tags (filing_id);
CREATE VIRTUAL TABLE IF NOT EXISTS filings_text USING fts5 (summary, names, text);
CREATE TABLE IF NOT EXISTS text_positions (
    partition INTEGER PRIMARY KEY,
    next_offset INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS waiting_texts (
    accession TEXT NOT NULL,
    analyzed_at TEXT NOT NULL,          -- stored_time
    text TEXT NOT NULL,
    PRIMARY KEY (accession, analyzed_at)
) WITHOUT ROWID;
"""

DROP = """
DROP TABLE IF EXISTS waiting_texts;
DROP TABLE IF EXISTS text_positions;
DROP TABLE IF EXISTS filings_text;
DROP TABLE IF EXISTS filing_tags;
DROP TABLE IF EXISTS filings;
DROP TABLE IF EXISTS positions;
DROP TABLE IF EXISTS meta;
"""
