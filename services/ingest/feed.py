"""EDGAR's 'getcurrent' Atom feed: one page of bytes in, `FeedEntry`s out, merged into `Filing`s.

A page lists one <entry> per (filing, entity): a Form 4 shows up once for its reporting owner
and once for its issuer, under the same accession number. `parse_feed` keeps those entries
apart (that is what a page says); `merge_entries` folds them into one `Filing` per accession.

What an entry looks like (recorded, see samples/edgar-corpus/getcurrent/):

    <title>4 - CARVANA CO. (0001690820) (Issuer)</title>
    <link rel="alternate" type="text/html" href="https://www.sec.gov/Archives/.../...-index.htm"/>
    <summary type="html"> &lt;b&gt;Filed:&lt;/b&gt; 2025-12-12 &lt;b&gt;AccNo:&lt;/b&gt;
      0001700545-25-000020 &lt;b&gt;Size:&lt;/b&gt; 13 KB
      &lt;br&gt;Item 2.02: Results of Operations and Financial Condition</summary>
    <updated>2025-12-12T18:02:10-05:00</updated>
    <category scheme="https://www.sec.gov/" label="form type" term="4"/>
    <id>urn:tag:sec.gov,2008:accession-number=0001700545-25-000020</id>
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from services.common.errors import MalformedResponseError
from services.common.records import Filing, FilingSource
from services.ingest.tickers import TickerMap, filing_tickers, order_by_role

_ATOM = "{http://www.w3.org/2005/Atom}"
# The company name may itself hold parentheses ("BCPE Watson (DE) BML, LP"), so the CIK and
# the role are taken from the end of the title and the form type from its start.
_TITLE = re.compile(r"^(?P<form>.+?) - (?P<name>.+) \((?P<cik>\d{10})\) \((?P<role>[^()]+)\)$")
_ACCESSION = re.compile(r"\b(\d{10}-\d{2}-\d{6})\b")
_FILED = re.compile(r"Filed:\s*(\d{4}-\d{2}-\d{2})")
_ACC_NO = re.compile(r"AccNo:\s*(\d{10}-\d{2}-\d{6})")
_SIZE = re.compile(r"Size:\s*(\d+(?:\.\d+)?)\s*(bytes|KB|MB|GB)\b")
_ITEM = re.compile(r"^\s*Item\s+(\d+[A-Z]?(?:\.\d+)?)\s*:", re.MULTILINE)
# EDGAR rounds the size to whole KB/MB; binary units are assumed, so the figure is approximate.
_SIZE_UNIT = {"bytes": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}
_SNIPPET_CHARS = 160

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One <entry> of a getcurrent page: one entity's view of one filing."""

    accession_number: str  # dashed
    form_type: str
    cik: str  # 10 digits, zero-padded
    company_name: str
    role: str  # lower case, as EDGAR labels it: reporting, issuer, filer, subject, filed by
    accepted_at: dt.datetime  # timezone-aware, from <updated>
    filed_date: dt.date
    size_bytes: int | None
    index_url: str  # the feed's own link, kept as EDGAR gave it
    items: tuple[str, ...] = ()  # item codes the summary lists (8-K items, Form D 3C.x, ...)

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes two entries the same entry: a page overlap repeats it verbatim."""
        return (self.accession_number, self.cik, self.role)


@dataclass(frozen=True, slots=True)
class RejectedEntry:
    """An <entry> that lacked what a `FeedEntry` needs; skipped rather than guessed at."""

    position: int  # index among the page's <entry> elements
    reason: str
    title: str


@dataclass(frozen=True, slots=True)
class FeedPage:
    entries: tuple[FeedEntry, ...]  # in page order, newest first
    rejected: tuple[RejectedEntry, ...]  # for the caller to log and count


class _EntryError(Exception):
    pass


def parse_feed(body: bytes, *, url: str | None = None) -> FeedPage:
    """Parse one getcurrent page. Raises `MalformedResponseError` when the body is not an Atom
    feed at all (HTML error page, truncated or foreign XML, a DTD or entity declarations)."""
    try:
        # forbid_dtd: a feed has no reason to carry one, and entity tricks need one.
        root = fromstring(body, forbid_dtd=True)
    # LookupError and ValueError: an XML declaration naming an unknown or multi-byte encoding.
    except (ParseError, DefusedXmlException, LookupError, ValueError) as exc:
        raise _malformed(f"not a well-formed, DTD-free XML document ({exc!r})", body, url) from exc
    if root.tag != f"{_ATOM}feed":
        raise _malformed(f"root element is {root.tag!r}, not an Atom feed", body, url)
    entries: list[FeedEntry] = []
    rejected: list[RejectedEntry] = []
    for position, element in enumerate(root.findall(f"{_ATOM}entry")):
        try:
            entries.append(_parse_entry(element))
        except _EntryError as exc:
            title = _text(element, "title") or ""
            rejected.append(RejectedEntry(position=position, reason=str(exc), title=title))
    return FeedPage(entries=tuple(entries), rejected=tuple(rejected))


def merge_entries(
    entries: Iterable[FeedEntry],
    *,
    source: FilingSource,
    detected_at: dt.datetime,
    tickers: TickerMap,
) -> list[Filing]:
    """One `Filing` per accession number, in the order the accession first appears (feed
    order: newest first). Repeated entries (overlapping pages) count once."""
    groups: dict[str, dict[tuple[str, str, str], FeedEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.accession_number, {}).setdefault(entry.key, entry)
    return [
        _filing(list(group.values()), source=source, detected_at=detected_at, tickers=tickers)
        for group in groups.values()
    ]


def _filing(
    group: list[FeedEntry], *, source: FilingSource, detected_at: dt.datetime, tickers: TickerMap
) -> Filing:
    entities = order_by_role(
        tickers.entity(cik=entry.cik, name=entry.company_name, role=entry.role) for entry in group
    )
    # The entry of the entity that heads the list (issuer, subject or filer) speaks for the
    # filing, so the record does not depend on which of its entries a page happened to list first.
    head = entities[0]
    lead = next(entry for entry in group if (entry.cik, entry.role) == (head.cik, head.role))
    return Filing(
        accession_number=lead.accession_number,
        form_type=lead.form_type,
        accepted_at=lead.accepted_at,
        filed_date=lead.filed_date,
        entities=entities,
        index_url=lead.index_url,
        source=source,
        detected_at=detected_at,
        tickers=filing_tickers(entities),
        size_bytes=lead.size_bytes,
        # The record's items are 8-K item codes; other forms' summaries list codes of their own
        # (Form D's 3C.7, 1-U's 1) that would read as 8-K items downstream.
        items=lead.items if lead.form_type.startswith("8-K") else (),
    )


def _parse_entry(element: Element) -> FeedEntry:
    title = _required(_text(element, "title"), "no <title>")
    parts = _required(_TITLE.match(title), "title is not 'FORM - NAME (CIK) (Role)'")
    summary = _summary_text(_text(element, "summary") or "")
    accession = _accession(element, summary)
    category = element.find(f"{_ATOM}category[@label='form type']")
    form_type = category.get("term", "").strip() if category is not None else parts["form"]
    link = element.find(f"{_ATOM}link")
    index_url = _required(link.get("href") if link is not None else None, "no <link href>")
    filed = _required(_FILED.search(summary), "no 'Filed:' date in <summary>")
    return FeedEntry(
        accession_number=accession,
        form_type=_required(form_type, "empty form type"),
        cik=parts["cik"],
        company_name=parts["name"].strip(),
        role=parts["role"].strip().lower(),
        accepted_at=_accepted_at(_required(_text(element, "updated"), "no <updated>")),
        filed_date=_date(filed.group(1)),
        size_bytes=_size(summary),
        index_url=index_url,
        items=tuple(_ITEM.findall(summary)),
    )


def _accession(element: Element, summary: str) -> str:
    from_id = _ACCESSION.search(_text(element, "id") or "")
    from_summary = _ACC_NO.search(summary)
    if from_id and from_summary and from_id.group(1) != from_summary.group(1):
        raise _EntryError("<id> and 'AccNo:' name different accession numbers")
    found = _required(from_id or from_summary, "no accession number in <id> or <summary>")
    return found.group(1)


def _summary_text(summary_html: str) -> str:
    """The summary is escaped HTML (<b>Filed:</b> ... <br>Item ...): one fact per line."""
    with_lines = re.sub(r"<br\s*/?>", "\n", summary_html, flags=re.IGNORECASE)
    return html.unescape(re.sub(r"<[^>]*>", " ", with_lines))


def _accepted_at(value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise _EntryError(f"<updated> {value!r} is not an ISO-8601 time") from exc
    if parsed.tzinfo is None:
        raise _EntryError(f"<updated> {value!r} has no UTC offset")
    return parsed


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise _EntryError(f"'Filed:' {value!r} is not a date") from exc


def _size(summary: str) -> int | None:
    found = _SIZE.search(summary)
    if found is None:
        return None
    return round(float(found.group(1)) * _SIZE_UNIT[found.group(2)])


def _text(element: Element, tag: str) -> str | None:
    child = element.find(f"{_ATOM}{tag}")
    return child.text if child is not None else None


def _required(value: _T | None, reason: str) -> _T:
    if value is None or value == "":
        raise _EntryError(reason)
    return value


def _malformed(problem: str, body: bytes, url: str | None) -> MalformedResponseError:
    snippet = " ".join(body[:_SNIPPET_CHARS].decode("latin-1").split())
    return MalformedResponseError(
        f"getcurrent page {url or '(no url)'}: {problem}; body starts {snippet!r}", url=url or ""
    )
