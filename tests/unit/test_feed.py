"""parse_feed and merge_entries against the recorded getcurrent pages.

Expectations come from the page files themselves through plain regular expressions, an
independent reading of the same bytes.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path

import pytest

from services.common.errors import MalformedResponseError
from services.common.records import FilingSource
from services.ingest.feed import FeedEntry, merge_entries, parse_feed
from services.ingest.tickers import TickerMap

CORPUS = Path(__file__).resolve().parents[2] / "samples" / "edgar-corpus"
MANIFEST = [json.loads(line) for line in (CORPUS / "manifest.jsonl").read_text().splitlines()]
FEED_PAGES = [record for record in MANIFEST if record.get("snapshot") and record["status"] == 200]
ERROR_PAGES = [record for record in MANIFEST if record.get("snapshot") and record["status"] != 200]
SNAPSHOT = "2025-12-12T18-02-33"
DETECTED_AT = dt.datetime(2025, 12, 12, 23, 5, tzinfo=dt.UTC)

_RAW_ENTRY = re.compile(rb"<entry>(.*?)</entry>", re.DOTALL)


def find(pattern: str, text: str) -> str:
    match = re.search(pattern, text, re.DOTALL)
    assert match is not None, f"{pattern!r} not in {text[:200]!r}"
    return match.group(1)


def raw_entries(body: bytes) -> list[dict[str, str]]:
    """The fields of each <entry>, read with regular expressions instead of an XML parser."""
    found = []
    for match in _RAW_ENTRY.finditer(body):
        text = match.group(1).decode("latin-1")
        title = html.unescape(find(r"<title>(.*?)</title>", text))
        found.append(
            {
                "title": title,
                "cik": find(r"\((\d{10})\) \([^()]+\)$", title),
                "role": find(r"\(([^()]+)\)$", title),
                "href": find(r'href="([^"]+)"', text),
                "updated": find(r"<updated>(.*?)</updated>", text),
                "accession": find(r"accession-number=([\d-]+)", text),
                "term": html.unescape(find(r'term="([^"]*)"', text)),
                "summary": html.unescape(find(r"<summary[^>]*>(.*?)</summary>", text)),
            }
        )
    return found


def json_tickers(cik: str) -> tuple[str, ...]:
    """Tickers of a CIK, read straight from SEC's file."""
    document = json.loads((CORPUS / "www.sec.gov/files/company_tickers.json").read_bytes())
    return tuple(r["ticker"] for r in document.values() if r["cik_str"] == int(cik))


def page_bytes(record: dict[str, str]) -> bytes:
    return (CORPUS / record["path"]).read_bytes()


def snapshot_pages(snapshot: str) -> list[dict[str, str]]:
    pages = [record for record in FEED_PAGES if record["snapshot"] == snapshot]
    return sorted(pages, key=lambda record: int(find(r"start=(\d+)", record["url"])))


@pytest.mark.parametrize("record", FEED_PAGES, ids=lambda record: record["path"])
def test_every_recorded_page_parses_entry_for_entry(record: dict[str, str]) -> None:
    body = page_bytes(record)
    page = parse_feed(body, url=record["url"])
    expected = raw_entries(body)
    assert page.rejected == ()
    assert [entry.accession_number for entry in page.entries] == [e["accession"] for e in expected]
    for entry, raw in zip(page.entries, expected, strict=True):
        assert entry.index_url == raw["href"]
        assert entry.cik == raw["cik"]
        assert entry.role == raw["role"].lower()
        assert entry.form_type == raw["term"]
        assert entry.accepted_at == dt.datetime.fromisoformat(raw["updated"])
        assert entry.accepted_at.tzinfo is not None
        assert (
            raw["title"]
            == f"{entry.form_type} - {entry.company_name} ({entry.cik}) ({raw['role']})"
        )
        filed = find(r"Filed:</b> (\S+)", raw["summary"])
        assert entry.filed_date == dt.date.fromisoformat(filed)
        assert list(entry.items) == re.findall(r"<br>Item ([^:]+):", raw["summary"])


def test_size_is_read_in_kb_and_mb() -> None:
    entries = [entry for record in snapshot_pages(SNAPSHOT) for entry in parse_entries(record)]
    raws = [raw for record in snapshot_pages(SNAPSHOT) for raw in raw_entries(page_bytes(record))]
    units = {"KB": 1024, "MB": 1024 * 1024}
    seen_units = set()
    for entry, raw in zip(entries, raws, strict=True):
        number, unit = find(r"Size:</b> (\d+ (?:KB|MB))", raw["summary"]).split()
        assert entry.size_bytes == int(number) * units[unit]
        seen_units.add(unit)
    assert seen_units == {"KB", "MB"}


def parse_entries(record: dict[str, str]) -> tuple[FeedEntry, ...]:
    return parse_feed(page_bytes(record), url=record["url"]).entries


def test_names_with_parentheses_and_escaped_ampersands_survive() -> None:
    entries = [entry for record in snapshot_pages(SNAPSHOT) for entry in parse_entries(record)]
    with_parentheses = [entry for entry in entries if "(" in entry.company_name]
    with_ampersand = [entry for entry in entries if "&" in entry.company_name]
    assert with_parentheses
    assert with_ampersand
    assert all("&amp;" not in entry.company_name for entry in with_ampersand)
    assert all(re.fullmatch(r"\d{10}", entry.cik) for entry in with_parentheses)


def test_filed_date_can_precede_the_acceptance_day() -> None:
    # The "Film#:" variant of the summary: filings accepted on 12 Dec that count as filed earlier.
    record = next(r for r in FEED_PAGES if b"Film#" in page_bytes(r))
    film_entries = [
        entry
        for entry, raw in zip(parse_entries(record), raw_entries(page_bytes(record)), strict=True)
        if "Film#" in raw["summary"]
    ]
    assert film_entries
    assert all(entry.filed_date < entry.accepted_at.date() for entry in film_entries)


def test_form4_reporting_and_issuer_entries_become_one_filing() -> None:
    record = snapshot_pages(SNAPSHOT)[0]
    raws = raw_entries(page_bytes(record))
    accession = next(
        raw["accession"]
        for raw in raws
        if raw["term"] == "4"
        and raw["role"] == "Issuer"
        and json_tickers(raw["cik"])  # a listed issuer, so that the tickers say something
        and {r["role"] for r in raws if r["accession"] == raw["accession"]}
        == {"Reporting", "Issuer"}
    )
    issuer_cik = next(
        r["cik"] for r in raws if r["accession"] == accession and r["role"] == "Issuer"
    )
    owner_cik = next(
        r["cik"] for r in raws if r["accession"] == accession and r["role"] == "Reporting"
    )

    filings = merge_entries(
        parse_entries(record),
        source=FilingSource.LIVE,
        detected_at=DETECTED_AT,
        tickers=TickerMap.bundled(),
    )

    [filing] = [filing for filing in filings if filing.accession_number == accession]
    assert [(entity.cik, entity.role) for entity in filing.entities] == [
        (issuer_cik, "issuer"),
        (owner_cik, "reporting"),
    ]
    assert filing.form_type == "4"
    assert filing.entities[0].tickers == json_tickers(issuer_cik)
    assert filing.tickers == tuple(
        dict.fromkeys(json_tickers(issuer_cik) + json_tickers(owner_cik))
    )
    assert f"/data/{int(issuer_cik)}/" in filing.index_url
    assert filing.source is FilingSource.LIVE
    assert filing.detected_at == DETECTED_AT


def test_issuer_and_subject_tickers_come_before_reporting_owners() -> None:
    record = snapshot_pages(SNAPSHOT)[0]
    entries = parse_entries(record)
    form4 = [entry for entry in entries if entry.form_type == "4"]
    issuer = next(entry for entry in form4 if entry.role == "issuer")
    owner = next(
        e for e in form4 if e.role == "reporting" and e.accession_number == issuer.accession_number
    )
    # An owner that is itself listed (a parent company) must not push the issuer's ticker back.
    tickers = TickerMap({owner.cik: ("OWNR",), issuer.cik: ("ISSR", "ISSR-P")})

    [filing] = merge_entries(
        [owner, issuer, owner], source=FilingSource.LIVE, detected_at=DETECTED_AT, tickers=tickers
    )

    assert filing.tickers == ("ISSR", "ISSR-P", "OWNR")
    assert [entity.tickers for entity in filing.entities] == [("ISSR", "ISSR-P"), ("OWNR",)]


def test_a_snapshot_merges_into_one_filing_per_distinct_accession() -> None:
    pages = snapshot_pages(SNAPSHOT)
    entries = [entry for record in pages for entry in parse_entries(record)]
    expected_order = list(
        dict.fromkeys(
            a.decode()
            for r in pages
            for a in re.findall(rb"accession-number=([\d-]+)", page_bytes(r))
        )
    )

    filings = merge_entries(
        entries, source=FilingSource.REPLAY, detected_at=DETECTED_AT, tickers=TickerMap({})
    )

    assert [filing.accession_number for filing in filings] == expected_order
    assert len(filings) == 3313  # the corpus README's count for this snapshot
    for filing in filings:
        keys = [(entity.cik, entity.role) for entity in filing.entities]
        assert len(keys) == len(set(keys)), filing.accession_number


def test_items_are_kept_for_8k_only() -> None:
    entries = [entry for record in snapshot_pages(SNAPSHOT) for entry in parse_entries(record)]
    filings = merge_entries(
        entries, source=FilingSource.LIVE, detected_at=DETECTED_AT, tickers=TickerMap({})
    )
    eight_ks = [f for f in filings if f.form_type.startswith("8-K") and f.items]
    others = [e for e in entries if not e.form_type.startswith("8-K") and e.items]
    assert eight_ks
    assert others
    assert all(re.fullmatch(r"\d\.\d\d", item) for filing in eight_ks for item in filing.items)
    others_merged = {f.accession_number: f for f in filings}
    assert all(others_merged[e.accession_number].items == () for e in others)


def test_an_html_error_page_is_malformed() -> None:
    record = ERROR_PAGES[0]  # EDGAR's recorded 503 "File Unavailable" page
    with pytest.raises(MalformedResponseError) as raised:
        parse_feed(page_bytes(record), url=record["url"])
    assert raised.value.url == record["url"]
    assert record["url"] in str(raised.value)
    assert "<!DOCTYPE html>" in str(raised.value)
    assert raised.value.retriable


def test_a_truncated_page_is_malformed() -> None:
    body = page_bytes(FEED_PAGES[0])
    with pytest.raises(MalformedResponseError):
        parse_feed(body[: len(body) // 2], url="https://example.test/page")


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>',
        b"<feed><entry><title>4 - X (0000000001) (Filer)</title></entry></feed>",
        b"",
        b'{"not": "xml"}',
    ],
    ids=["rss", "feed-without-atom-namespace", "empty", "json"],
)
def test_documents_that_are_not_atom_feeds_are_malformed(body: bytes) -> None:
    with pytest.raises(MalformedResponseError):
        parse_feed(body)


def test_entity_expansion_is_refused() -> None:
    # Each entity expands to ten of the previous one: &l9; would be 10**9 times "lol".
    laughs = b"".join(b'<!ENTITY l%d "%s">' % (n, b"&l%d;" % (n - 1) * 10) for n in range(1, 10))
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY l0 "lol">' + laughs + b"]>"
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>&l9;</title></feed>'
    )
    external = (
        b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>&x;</title></feed>'
    )
    for body in (bomb, external):
        with pytest.raises(MalformedResponseError):
            parse_feed(body)


def test_entries_missing_required_fields_are_rejected_and_the_rest_kept() -> None:
    body = page_bytes(FEED_PAGES[0])
    slices = _RAW_ENTRY.findall(body)
    broken_updated = re.sub(rb"<updated>.*?</updated>", b"", slices[1])
    broken_title = re.sub(rb"<title>.*?</title>", b"<title>no parenthesis here</title>", slices[2])
    broken_date = slices[3].replace(b"Filed:&lt;/b&gt; 20", b"Filed:&lt;/b&gt; xx")
    damaged = body.replace(slices[1], broken_updated, 1).replace(slices[2], broken_title, 1)
    damaged = damaged.replace(slices[3], broken_date, 1)

    page = parse_feed(damaged)

    assert [rejected.position for rejected in page.rejected] == [1, 2, 3]
    assert page.rejected[1].title == "no parenthesis here"
    reasons = [rejected.reason for rejected in page.rejected]
    assert "updated" in reasons[0]
    assert "title" in reasons[1]
    assert "Filed" in reasons[2]
    assert len(page.entries) == len(slices) - 3


def test_unknown_elements_are_ignored() -> None:
    body = page_bytes(FEED_PAGES[0])
    extended = body.replace(
        b"<entry>", b'<entry><x:rating xmlns:x="urn:example">5</x:rating><rights>public</rights>', 1
    ).replace(b"<author>", b"<generator>EDGAR</generator><author>", 1)
    assert parse_feed(extended).entries == parse_feed(body).entries


def test_a_feed_without_entries_is_an_empty_page() -> None:
    body = page_bytes(FEED_PAGES[0])
    empty = body[: body.index(b"<entry>")] + b"</feed>\n"
    page = parse_feed(empty)
    assert page.entries == ()
    assert page.rejected == ()
