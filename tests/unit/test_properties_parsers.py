"""Property-based tests of what reads EDGAR's bytes: the Atom feed, the daily index, and text
extraction from SGML submissions and HTML documents.

Each property: for any input, a value or the project's own error (a `SecDigesterError`), never
another exception, and never more than a second (the profile's deadline). Inputs are real corpus
files mutated (bytes flipped, cut, inserted, slices repeated, entity declarations put in front)
and raw bytes. Profiles: tests/hypothesis_profiles.py (`ci` in `make test`, 10,000 examples a
property in `make fuzz`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from services.analyze.reading.text import extract_text
from services.common.errors import SecDigesterError
from services.ingest.daily_index import parse_daily_index
from services.ingest.feed import parse_feed
from services.ingest.tickers import TickerMap
from tests.support.records import CORPUS_DIR

FEED_PAGES = [
    path.read_bytes()
    for path in sorted((CORPUS_DIR / "getcurrent").glob("*/start-0*-count-40.xml"))
]
INDEX = CORPUS_DIR / "www.sec.gov/Archives/edgar/daily-index/2020/QTR1/form.20200318.idx"
INDEX_LINES = INDEX.read_bytes().splitlines(keepends=True)
DOCUMENTS = [
    path.read_bytes()
    for path in sorted((CORPUS_DIR / "documents").glob("*"))
    if path.is_file() and path.stat().st_size < 400_000
]
TICKERS = TickerMap.bundled()

# Entity tricks a hostile or broken server could send: the billion laughs, an external entity,
# a parameter entity. The feed parser must refuse them, not expand them.
ENTITY_PREAMBLES = [
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
    b'"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;'
    b'&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>',
    b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY % p SYSTEM "http://127.0.0.1:1/x"> %p;]>',
]


@st.composite
def mutated(draw: st.DrawFn, originals: list[bytes]) -> bytes:
    """A real file with a few random edits."""
    data = bytearray(draw(st.sampled_from(originals)))
    for _ in range(draw(st.integers(0, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        match draw(st.sampled_from(["flip", "cut", "insert", "repeat", "delete"])):
            case "flip":
                data[at] = draw(st.integers(0, 255))
            case "cut":
                del data[at:]
            case "insert":
                data[at:at] = draw(st.binary(min_size=1, max_size=64))
            case "repeat":
                length = draw(st.integers(1, 2_000))
                data[at:at] = data[at : at + length] * draw(st.integers(1, 5))
            case "delete":
                del data[at : at + draw(st.integers(1, 500))]
    return bytes(data)


@st.composite
def with_entities(draw: st.DrawFn) -> bytes:
    page = draw(st.sampled_from(FEED_PAGES))
    body = page.split(b"?>", 1)[-1] if page.startswith(b"<?xml") else page
    preamble = draw(st.sampled_from(ENTITY_PREAMBLES))
    return preamble + body.replace(b"<title>", b"<title>&lol3;&xxe;", 1)


@given(st.one_of(mutated(FEED_PAGES), with_entities(), st.binary(max_size=4_096)))
def test_the_feed_parser_gives_a_page_or_its_own_error(body: bytes) -> None:
    try:
        page = parse_feed(body, url="https://www.sec.gov/cgi-bin/browse-edgar")
    except SecDigesterError:
        return
    for entry in page.entries:
        assert len(entry.accession_number) == 20
    assert b"lollollol" not in repr(page).encode()  # no entity was ever expanded


@st.composite
def index_files(draw: st.DrawFn) -> bytes:
    """The real index's preamble and header with a random run of its rows, then mutated."""
    header_end = next(i for i, line in enumerate(INDEX_LINES) if line.startswith(b"-----")) + 1
    start = draw(st.integers(header_end, len(INDEX_LINES) - 1))
    rows = INDEX_LINES[start : start + draw(st.integers(0, 400))]
    return draw(mutated([b"".join(INDEX_LINES[:header_end] + rows)]))


@given(st.one_of(index_files(), st.binary(max_size=4_096)))
def test_the_daily_index_parser_gives_an_index_or_its_own_error(body: bytes) -> None:
    try:
        index = parse_daily_index(
            body,
            base_url="https://www.sec.gov",
            detected_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
            tickers=TICKERS,
        )
    except SecDigesterError:
        return
    accessions = [filing.accession_number for filing in index.filings]
    assert len(accessions) == len(set(accessions))  # one filing per accession number
    assert all(filing.entities for filing in index.filings)


@given(
    st.one_of(mutated(DOCUMENTS), st.binary(max_size=4_096), st.text(max_size=2_000)),
    st.sampled_from(["", "d8k.htm", "ex99-1.txt", "0001104659-25-002604.txt"]),
)
def test_text_extraction_gives_text_or_its_own_error(data: bytes | str, filename: str) -> None:
    try:
        extracted = extract_text(data, filename)
    except SecDigesterError:
        return
    assert isinstance(extracted.text, str)
    assert "\x00" not in extracted.text


def test_the_inputs_are_the_real_corpus_files() -> None:
    assert len(FEED_PAGES) >= 2
    assert len(DOCUMENTS) >= 5
    assert any(Path(p).suffix == ".txt" for p in sorted((CORPUS_DIR / "documents").glob("*")))
