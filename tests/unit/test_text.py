"""Text extraction and SGML submission parsing on real EDGAR documents (samples/edgar-corpus)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from services.analyze.reading.text import (
    BodyKind,
    extract_text,
    html_to_text,
    parse_document_block,
    parse_submission,
    plain_to_text,
    sentences,
)
from services.common.errors import SerializationError
from services.common.records import Entity

CORPUS = Path(__file__).resolve().parents[2] / "samples" / "edgar-corpus"
ARCHIVES = CORPUS / "www.sec.gov" / "Archives" / "edgar" / "data"
JPM_DIR = ARCHIVES / "19617" / "000001961726000241"
META_DIR = ARCHIVES / "1326801" / "000162828025058337"
JPM_SUBMISSION = JPM_DIR / "0000019617-26-000241.txt"
META_SUBMISSION = META_DIR / "0001628280-25-058337.txt"
SC_TO_T = CORPUS / "documents" / "0001104659-25-002604.txt"
ABVC = CORPUS / "documents" / "0001213900-25-032135.txt"
DAILY_INDEX = CORPUS / "www.sec.gov/Archives/edgar/daily-index/2020/QTR1/form.20200318.idx"
PRIMARY_DOCUMENTS = [
    JPM_DIR / "jpm-20260624.htm",
    META_DIR / "meta-20251219.htm",
    *sorted((CORPUS / "documents").glob("*.html")),
]
FIVE_OH_TWO = "Departure of Directors or Certain Officers"


def test_header_of_jpmorgan_8k() -> None:
    header = parse_submission(JPM_SUBMISSION.read_bytes()).header
    assert header.accession_number == "0000019617-26-000241"
    assert header.form_type == "8-K"
    assert header.filed_date == dt.date(2026, 6, 25)
    assert header.accepted_at is not None
    # 07:59:33 US Eastern in June is EDT, four hours behind UTC.
    assert header.accepted_at.astimezone(dt.UTC) == dt.datetime(
        2026, 6, 25, 11, 59, 33, tzinfo=dt.UTC
    )
    assert len(header.item_titles) == 1
    assert header.item_titles[0].startswith(FIVE_OH_TWO)
    assert header.entities == (Entity(cik="0000019617", name="JPMORGAN CHASE & CO", role="filer"),)


def test_header_roles_of_a_tender_offer() -> None:
    header = parse_submission(SC_TO_T.read_bytes()).header
    assert header.form_type == "SC TO-T/A"
    # The subject company is listed twice in the header (once per form type): one entity.
    assert header.entities == (
        Entity(cik="0001376139", name="CVR ENERGY INC", role="subject"),
        Entity(cik="0001034563", name="ICAHN ENTERPRISES HOLDINGS L.P.", role="filed by"),
    )


def test_documents_are_split_with_their_metadata() -> None:
    raw = JPM_SUBMISSION.read_text(encoding="utf-8")
    documents = parse_submission(raw).documents
    assert len(documents) == raw.count("<DOCUMENT>") == 15
    primary, press_release = documents[0], documents[1]
    assert (primary.type, primary.sequence, primary.filename) == ("8-K", 1, "jpm-20260624.htm")
    assert (press_release.type, press_release.kind) == ("EX-99.1", BodyKind.HTML)
    kinds = {document.type: document.kind for document in documents}
    assert kinds["GRAPHIC"] is BodyKind.BINARY
    assert kinds["EX-101.SCH"] is BodyKind.DATA
    for document in documents:
        if document.kind in (BodyKind.BINARY, BodyKind.DATA):
            assert document.text() is None


@pytest.mark.parametrize("path", PRIMARY_DOCUMENTS, ids=lambda path: path.name)
def test_html_text_has_no_markup(path: Path) -> None:
    text = extract_text(path.read_bytes(), path.name).text
    assert text
    assert "<" not in text
    assert "ix:" not in text
    assert "&#160;" not in text
    assert "\xa0" not in text
    assert all(line == line.strip() and "  " not in line for line in text.split("\n"))


@pytest.mark.parametrize(
    ("path", "hidden_fact"),
    [(JPM_DIR / "jpm-20260624.htm", "0000019617"), (META_DIR / "meta-20251219.htm", "0001326801")],
)
def test_inline_xbrl_item_text_without_hidden_facts(path: Path, hidden_fact: str) -> None:
    text = html_to_text(path.read_bytes()).text
    assert f"Item 5.02 {FIVE_OH_TWO}" in text
    # The CIK is only in the hidden ix:header, which a reader never sees.
    assert hidden_fact not in text


@pytest.mark.parametrize("submission", [JPM_SUBMISSION, META_SUBMISSION], ids=lambda p: p.name)
def test_primary_document_reads_the_same_from_both_edgar_paths(submission: Path) -> None:
    primary = parse_submission(submission.read_bytes()).documents[0]
    from_submission = primary.text()
    assert from_submission is not None
    assert from_submission == html_to_text((submission.parent / primary.filename).read_bytes())
    assert extract_text(submission.read_bytes()) == from_submission


def test_a_single_document_block_is_read_as_its_html() -> None:
    path = CORPUS / "documents" / "BuckleInc.8-K.EX99.1.html"
    text = extract_text(path.read_bytes()).text
    assert text.startswith("Exhibit 99.1")
    assert "THE BUCKLE, INC. REPORTS THIRD QUARTER NET INCOME" in text
    document = parse_document_block(path.read_text(encoding="utf-8"))
    assert (document.type, document.sequence, document.kind) == ("EX-99.1", 2, BodyKind.HTML)


def test_plain_text_table_keeps_its_rows() -> None:
    raw = DAILY_INDEX.read_text(encoding="latin-1")
    text = plain_to_text(raw)
    assert text.kind is BodyKind.PLAIN
    rows = [line for line in text.text.split("\n") if "edgar/data/" in line]
    assert len(rows) == raw.count("edgar/data/")
    assert "Form Type Company Name CIK Date Filed File Name" in text.text.split("\n")


def test_plain_text_prose_is_unwrapped() -> None:
    wrapped = (
        "Item 8.01  Other Events.\n\n"
        "     On March 8, 2024, 3M Company announced that its board of directors\n"
        "has approved the planned spin-off of its Health Care business.\n"
    )
    lines = plain_to_text(wrapped).text.split("\n")
    assert lines == [
        "Item 8.01 Other Events.",
        "On March 8, 2024, 3M Company announced that its board of directors has approved the "
        "planned spin-off of its Health Care business.",
    ]


def test_sentences_do_not_break_at_initials_or_abbreviations() -> None:
    text = html_to_text((CORPUS / "documents" / "form8K.Blackrock.html").read_bytes()).text
    found = sentences(text)
    assert any(s.startswith("As previously reported") and "Gary S. Shedlin" in s for s in found)
    for line in text.split("\n"):
        cut_inside_line = sentences(line)[:-1]
        assert not any(sentence.endswith((" S.", " Inc.")) for sentence in cut_inside_line)


def test_extraction_is_deterministic() -> None:
    data = ABVC.read_bytes()
    assert parse_submission(data) == parse_submission(data)
    assert extract_text(data) == extract_text(data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<html><body><p>Not a submission</p></body></html>",
        b"<SEC-HEADER>\nFILED AS OF DATE:\t\t20250110\n</SEC-HEADER>\n",
    ],
    ids=["empty", "html", "no-accession"],
)
def test_what_is_not_a_submission_raises_serialization_error(data: bytes) -> None:
    with pytest.raises(SerializationError):
        parse_submission(data)


def test_truncated_submission_raises_serialization_error() -> None:
    raw = JPM_SUBMISSION.read_bytes()
    with pytest.raises(SerializationError, match="truncated"):
        parse_submission(raw[: len(raw) // 2])


def test_windows_1252_bytes_are_decoded() -> None:
    # Older filings are Windows-1252: 0x92 is a right single quote, invalid as UTF-8.
    assert html_to_text(b"<p>The Company\x92s results</p>").text == "The Company\u2019s results"
