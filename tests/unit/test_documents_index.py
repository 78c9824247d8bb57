"""The filing index page parser on every recorded index page, checked against the complete
submission of the same filing; document selection; where a filing's files are."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from services.analyze.reading.documents_index import (
    IndexedDocument,
    document_path,
    locate,
    parse_index_page,
    select_documents,
)
from services.analyze.reading.text import Submission, parse_submission
from services.common.errors import SerializationError
from services.emulator.faults import ERROR_PAGE
from tests.support.records import sample_filing

CORPUS = Path(__file__).resolve().parents[2] / "samples" / "edgar-corpus"
MANIFEST = [json.loads(line) for line in (CORPUS / "manifest.jsonl").read_text().splitlines()]
INDEX_PAGES = sorted(r["path"] for r in MANIFEST if r["path"].endswith("-index.html"))
JPM_PAGE = "www.sec.gov/Archives/edgar/data/19617/0000019617-26-000241-index.html"


def archive_file(path: str) -> Path:
    """The corpus file of a www.sec.gov path."""
    return CORPUS / "www.sec.gov" / path.lstrip("/")


def read_page(page: str) -> tuple[str, str, tuple[IndexedDocument, ...], Submission]:
    """Accession, folder path, what the index page lists, and the complete submission."""
    cik, accession = Path(page).parts[-2], Path(page).name.removesuffix("-index.html")
    folder_path = f"/Archives/edgar/data/{cik}/{accession.replace('-', '')}"
    listed = parse_index_page((CORPUS / page).read_bytes(), folder_path)
    submission = parse_submission(archive_file(f"{folder_path}/{accession}.txt").read_bytes())
    return accession, folder_path, listed, submission


def recorded_primary(folder: Path) -> str | None:
    """The .htm document the corpus recorded in a filing's folder, if any."""
    pages = sorted(path.name for path in folder.glob("*.htm"))
    return pages[0] if pages else None


@pytest.mark.parametrize("page", INDEX_PAGES, ids=lambda path: Path(path).name)
def test_every_recorded_index_page_lists_what_the_complete_submission_holds(page: str) -> None:
    accession, folder_path, listed, submission = read_page(page)
    by_sequence = {doc.sequence: doc for doc in submission.documents}
    for doc in listed:
        assert doc.path.startswith(folder_path + "/")
        if doc.sequence is None:  # the complete submission row
            assert (doc.filename, doc.type) == (f"{accession}.txt", "")
        else:
            expected = by_sequence[doc.sequence]
            assert (doc.type, doc.filename) == (expected.type, expected.filename)
    primary, exhibits = select_documents(listed, submission.header.form_type)
    assert primary is not None
    assert primary.sequence == 1
    assert primary.filename == by_sequence[1].filename
    assert primary.filename == recorded_primary(archive_file(folder_path))
    assert primary.path == f"{folder_path}/{primary.filename}"  # the /ix?doc= viewer left out
    releases = submission.documents_of_type("EX-99")
    assert [doc.filename for doc in exhibits] == [doc.filename for doc in releases]


def test_the_listed_sizes_and_descriptions_are_read() -> None:
    _, _, listed, _ = read_page(JPM_PAGE)
    by_name = {doc.filename: doc for doc in listed}
    assert (
        by_name["jpm-20260624.htm"].size_bytes
        == archive_file("/Archives/edgar/data/19617/000001961726000241/jpm-20260624.htm")
        .stat()
        .st_size
    )
    release = by_name["jpmcpressrelease06252026.htm"]
    assert release.description == "JPMORGAN CHASE & CO. PRESS RELEASE DATED JUNE 25, 2026"
    assert by_name["0000019617-26-000241.txt"].description == "Complete submission text file"


def test_without_a_row_of_the_form_type_the_primary_is_sequence_1() -> None:
    _, _, listed, _ = read_page(JPM_PAGE)
    primary, exhibits = select_documents(listed, "8-K12B")  # not a current report: no exhibits
    assert primary is not None
    assert (primary.sequence, primary.filename) == (1, "jpm-20260624.htm")
    assert exhibits == []


def test_a_page_without_a_document_table_is_unreadable() -> None:
    with pytest.raises(SerializationError, match="no document table"):
        parse_index_page(ERROR_PAGE, "/Archives/edgar/data/1/000000000125000001")


@pytest.mark.parametrize(
    ("href", "path"),
    [
        ("/ix?doc=/Archives/edgar/data/1/0001/a.htm", "/Archives/edgar/data/1/0001/a.htm"),
        ("/Archives/edgar/data/1/0001/b.htm", "/Archives/edgar/data/1/0001/b.htm"),
        (
            "https://www.sec.gov/Archives/edgar/data/1/0001/c.htm",
            "/Archives/edgar/data/1/0001/c.htm",
        ),
        ("d.htm", "/Archives/edgar/data/1/0001/d.htm"),
    ],
)
def test_document_links_become_paths_in_the_archive(href: str, path: str) -> None:
    assert document_path(href, "/Archives/edgar/data/1/0001") == path


def test_the_folder_is_the_index_urls_else_the_first_entitys() -> None:
    filing = sample_filing()  # index_url in the feed's form, under CIK 19617
    folder = f"/Archives/edgar/data/19617/{filing.accession_no_dashes}"
    located = locate(filing, "http://edgar.test/")
    assert located is not None
    assert located.folder_path == folder
    assert located.submission == f"http://edgar.test{folder}/{filing.accession_number}.txt"
    assert located.index_pages == (
        f"http://edgar.test{folder}/{filing.accession_number}-index.htm",
        f"http://edgar.test/Archives/edgar/data/19617/{filing.accession_number}-index.html",
    )
    assert locate(replace(filing, index_url="https://www.sec.gov/"), "http://edgar.test") == located
    assert locate(replace(filing, index_url="", entities=()), "http://edgar.test") is None
