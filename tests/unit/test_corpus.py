"""Reading the recorded corpus: snapshots, and each snapshot's pages merged into its feed."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from services.ingest.corpus import list_snapshots, load_recorded_snapshot, load_snapshot
from services.ingest.feed import parse_feed

CORPUS = Path(__file__).resolve().parents[2] / "samples" / "edgar-corpus"
# Facts the corpus README states about its two snapshots: distinct accession numbers.
README_DISTINCT_ACCESSIONS = {"2025-12-12T18-02-33": 3313, "2025-12-12T18-03-31": 3315}
_TITLE = re.compile(rb"<title>[^<]*\((\d{10})\) \(([^()]+)\)</title>")
_ACCESSION = re.compile(rb"accession-number=([\d-]+)")


def snapshot_files(snapshot: str) -> list[bytes]:
    return [path.read_bytes() for path in sorted((CORPUS / "getcurrent" / snapshot).glob("*.xml"))]


def distinct_entry_keys(snapshot: str) -> set[tuple[str, str, str]]:
    """(accession, CIK, lower-case role) of every <entry> of the snapshot's files."""
    keys = set()
    for body in snapshot_files(snapshot):
        for entry in re.findall(rb"<entry>.*?</entry>", body, re.DOTALL):
            title, accession = _TITLE.search(entry), _ACCESSION.search(entry)
            assert title is not None
            assert accession is not None
            cik, role = title.group(1).decode(), title.group(2).decode().lower()
            keys.add((accession.group(1).decode(), cik, role))
    return keys


def test_snapshots_are_listed_oldest_first() -> None:
    folders = sorted(path.name for path in (CORPUS / "getcurrent").iterdir() if path.is_dir())
    assert list_snapshots(CORPUS) == folders == sorted(README_DISTINCT_ACCESSIONS)


@pytest.mark.parametrize("snapshot", sorted(README_DISTINCT_ACCESSIONS))
def test_a_snapshot_is_its_pages_merged_entry_by_entry(snapshot: str) -> None:
    entries = load_snapshot(CORPUS, snapshot)

    keys = distinct_entry_keys(snapshot)
    assert len(entries) == len(keys)
    assert {entry.key for entry in entries} == keys
    accessions = {entry.accession_number for entry in entries}
    assert len(accessions) == README_DISTINCT_ACCESSIONS[snapshot]
    assert accessions == {
        a.decode() for body in snapshot_files(snapshot) for a in _ACCESSION.findall(body)
    }


@pytest.mark.parametrize("snapshot", sorted(README_DISTINCT_ACCESSIONS))
def test_the_merged_feed_is_newest_first(snapshot: str) -> None:
    times = [entry.accepted_at for entry in load_snapshot(CORPUS, snapshot)]
    assert all(newer >= older for newer, older in itertools.pairwise(times))


def test_recorded_entries_keep_their_bytes_and_the_feed_frame() -> None:
    snapshot = list_snapshots(CORPUS)[0]
    recorded = load_recorded_snapshot(CORPUS, snapshot)
    all_bytes = b"".join(snapshot_files(snapshot))
    assert recorded.header.startswith(b"<?xml")
    assert recorded.trailer.strip() == b"</feed>"
    for item in recorded.entries[:200]:
        assert item.xml in all_bytes
        [reparsed] = parse_feed(recorded.header + item.xml + recorded.trailer).entries
        assert reparsed == item.entry
    assert recorded.rejected == ()


def test_the_page_past_the_end_is_the_recorded_error_page() -> None:
    snapshot = list_snapshots(CORPUS)[-1]
    past_end = load_recorded_snapshot(CORPUS, snapshot).past_end
    assert past_end is not None
    assert past_end.status == 503
    assert b"File Unavailable" in (CORPUS / past_end.path).read_bytes()


def test_an_unknown_snapshot_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        load_snapshot(CORPUS, "1999-01-01T00-00-00")
