"""Reading a recorded EDGAR corpus (the layout of samples/edgar-corpus/).

`manifest.jsonl` lists every recorded response (url, status, content_type, path and, for
getcurrent pages, the snapshot they belong to). A snapshot is a set of overlapping getcurrent
pages taken within seconds of each other; `load_snapshot` merges them back into the feed as
it stood. The replay source and the EDGAR emulator both read the corpus through this module.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from services.common.errors import MalformedResponseError
from services.ingest.feed import FeedEntry, RejectedEntry, parse_feed

MANIFEST_NAME = "manifest.jsonl"
# Slices of the raw page bytes, so that the emulator can re-emit entries exactly as recorded.
_ENTRY_XML = re.compile(rb"<entry>.*?</entry>", re.DOTALL)


@dataclass(frozen=True, slots=True)
class ManifestRecord:
    url: str  # exactly as requested from EDGAR
    status: int
    content_type: str
    path: str  # relative to the corpus directory
    snapshot: str | None  # set for getcurrent pages only


@dataclass(frozen=True, slots=True)
class RecordedEntry:
    entry: FeedEntry
    xml: bytes  # the <entry>...</entry> element as EDGAR sent it


@dataclass(frozen=True, slots=True)
class RecordedSnapshot:
    name: str
    header: bytes  # the first page's bytes before its first <entry> (XML declaration, <feed>)
    trailer: bytes  # that page's bytes after its last </entry>
    entries: tuple[RecordedEntry, ...]  # the merged feed, newest first
    rejected: tuple[RejectedEntry, ...]  # entries of any page that did not parse
    # What EDGAR answered for a page past the ones it served (the recordings hold a 503
    # "File Unavailable" page at start=5100), or None when the snapshot recorded none.
    past_end: ManifestRecord | None


def read_manifest(corpus_dir: Path) -> tuple[ManifestRecord, ...]:
    lines = (corpus_dir / MANIFEST_NAME).read_text(encoding="utf-8").splitlines()
    return tuple(
        ManifestRecord(
            url=record["url"],
            status=int(record["status"]),
            content_type=record["content_type"],
            path=record["path"],
            snapshot=record.get("snapshot"),
        )
        for record in map(json.loads, filter(str.strip, lines))
    )


def list_snapshots(corpus_dir: Path) -> list[str]:
    """Snapshot names, oldest first. Names are timestamps (2025-12-12T18-02-33) written
    most-significant first, so their string order is their time order."""
    return sorted({record.snapshot for record in read_manifest(corpus_dir) if record.snapshot})


def load_snapshot(corpus_dir: Path, snapshot: str) -> list[FeedEntry]:
    """The snapshot's feed: every entry once (same accession, CIK and role), newest first."""
    return [recorded.entry for recorded in load_recorded_snapshot(corpus_dir, snapshot).entries]


def load_recorded_snapshot(corpus_dir: Path, snapshot: str) -> RecordedSnapshot:
    """Merge the snapshot's pages. Each entry takes the feed position start + index of its
    first sighting; new filings arriving while the pages were fetched only push later pages
    down, so sorting by that position restores the feed's order."""
    records = [record for record in read_manifest(corpus_dir) if record.snapshot == snapshot]
    if not records:
        raise KeyError(f"no snapshot {snapshot!r} in {corpus_dir / MANIFEST_NAME}")
    pages = sorted((record for record in records if record.status == 200), key=_start)
    positioned: dict[tuple[str, str, str], tuple[int, RecordedEntry]] = {}
    rejected: list[RejectedEntry] = []
    for record in pages:
        body = (corpus_dir / record.path).read_bytes()
        page = parse_feed(body, url=record.url)
        rejected.extend(page.rejected)
        skipped = {entry.position for entry in page.rejected}
        slices = _entry_slices(body, record.url)
        kept = [xml for index, xml in enumerate(slices) if index not in skipped]
        for offset, (entry, xml) in enumerate(zip(page.entries, kept, strict=True)):
            position = _start(record) + offset
            known = positioned.get(entry.key)
            if known is None or position < known[0]:
                positioned[entry.key] = (position, RecordedEntry(entry=entry, xml=xml))
    ordered = sorted(positioned.values(), key=lambda item: item[0])
    header, trailer = _frame((corpus_dir / pages[0].path).read_bytes() if pages else b"")
    errors = [record for record in records if record.status != 200]
    return RecordedSnapshot(
        name=snapshot,
        header=header,
        trailer=trailer,
        entries=tuple(recorded for _, recorded in ordered),
        rejected=tuple(rejected),
        past_end=min(errors, key=_start) if errors else None,
    )


def _start(record: ManifestRecord) -> int:
    values = parse_qs(urlsplit(record.url).query).get("start", ["0"])
    return int(values[0])


def _frame(page: bytes) -> tuple[bytes, bytes]:
    """A page's bytes around its entries: (up to the first <entry>, after the last </entry>)."""
    first, last = page.find(b"<entry>"), page.rfind(b"</entry>")
    if first < 0:  # a page without entries: everything up to </feed> is header
        end = page.rfind(b"</feed>")
        return page[:end], page[end:]
    return page[:first], page[last + len(b"</entry>") :]


def _entry_slices(body: bytes, url: str) -> list[bytes]:
    slices: list[bytes] = _ENTRY_XML.findall(body)
    if len(slices) != body.count(b"<entry>"):
        raise MalformedResponseError(f"{url}: <entry> elements are not all closed", url=url)
    return slices
