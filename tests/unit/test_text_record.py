"""The text topic's record (services/analyze/text_record.py): the cut to the bound in UTF-8
bytes, and which filings get a FilingText."""

from __future__ import annotations

import datetime as dt
import io

import fastavro
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.analyze.reading.documents import DocumentStatus, FilingDocuments
from services.analyze.text_record import cut_utf8, text_record
from services.common.schemas import SchemaName, schema_dict
from tests.support.records import sample_filing

# Every kind of character: ASCII, 2-, 3- and 4-byte UTF-8, spaces and line ends among them.
_TEXT = st.text(
    alphabet=st.sampled_from(["a", "Z", "7", " ", "\n", "é", "ß", "€", "漢", "😀", "\u0301"])
    | st.characters(exclude_categories=["Cs"]),
    max_size=3000,
)


@given(text=_TEXT, max_bytes=st.integers(min_value=1, max_value=4000))
def test_a_cut_never_exceeds_the_bound_nor_splits_a_character(text: str, max_bytes: int) -> None:
    cut = cut_utf8(text, max_bytes)
    encoded = cut.text.encode("utf-8")  # a split character could not be a str's encoding
    assert len(encoded) <= max_bytes
    assert text.startswith(cut.text)  # a prefix: whole characters only, nothing changed
    assert cut.full_bytes == len(text.encode("utf-8"))
    assert cut.truncated == (cut.full_bytes > max_bytes)
    if not cut.truncated:
        assert cut.text == text


@given(text=_TEXT, max_bytes=st.integers(min_value=1200, max_value=4000))
def test_a_cut_keeps_all_but_at_most_a_word_and_a_character(text: str, max_bytes: int) -> None:
    cut = cut_utf8(text, max_bytes)
    # Backing off to white space costs at most 1 KiB, plus the character the bound fell in.
    assert len(cut.text.encode("utf-8")) >= min(cut.full_bytes, max_bytes - 1024 - 4)


def test_a_cut_ends_at_white_space_rather_than_in_a_word() -> None:
    text = "going concern " * 100
    cut = cut_utf8(text, 100)
    assert cut.truncated
    # 100 bytes end in "go" of the eighth phrase: the cut goes back to the space before it.
    assert cut.text == ("going concern " * 7).rstrip()


def test_a_cut_inside_a_four_byte_character_leaves_it_out() -> None:
    assert cut_utf8("ab😀", 5).text == "ab"
    assert cut_utf8("ab😀", 6).text == "ab😀"


def test_the_bound_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        cut_utf8("text", 0)


def _documents(status: DocumentStatus, text: str | None) -> FilingDocuments:
    url = "https://www.sec.gov/Archives/edgar/data/1/000000000126000001/doc.htm"
    return FilingDocuments(
        status, document_url=url if status is DocumentStatus.FETCHED else None, text=text
    )


def test_a_fetched_filing_gets_a_text_record_the_schema_writes() -> None:
    filing = sample_filing(1)
    analyzed_at = dt.datetime(2026, 6, 1, 14, 0, 0, 123000, tzinfo=dt.UTC)
    record = text_record(filing, _documents(DocumentStatus.FETCHED, "é" * 600), analyzed_at, 1001)
    assert record is not None
    assert record["accession_number"] == filing.accession_number
    assert record["form_type"] == filing.form_type
    assert record["text"] == "é" * 500  # 1,000 bytes: the next é would straddle the bound
    assert (record["truncated"], record["full_bytes"], record["max_bytes"]) == (True, 1200, 1001)
    body = io.BytesIO()
    fastavro.schemaless_writer(
        body, fastavro.parse_schema(schema_dict(SchemaName.FILING_TEXT)), record
    )
    body.seek(0)
    read = fastavro.schemaless_reader(
        body, fastavro.parse_schema(schema_dict(SchemaName.FILING_TEXT))
    )
    assert read == record


@pytest.mark.parametrize(
    "status", [DocumentStatus.SKIPPED, DocumentStatus.NOT_FOUND, DocumentStatus.ERROR]
)
def test_a_filing_whose_documents_were_not_read_gets_none(status: DocumentStatus) -> None:
    now = dt.datetime.now(dt.UTC)
    assert text_record(sample_filing(2), _documents(status, None), now, 1000) is None


def test_a_fetched_document_without_prose_gets_an_empty_text() -> None:
    """A Form 4 without footnotes: its documents were read, so a consumer gets its (empty)
    text rather than waiting for one."""
    now = dt.datetime.now(dt.UTC)
    record = text_record(sample_filing(3), _documents(DocumentStatus.FETCHED, ""), now, 1000)
    assert record is not None
    assert (record["text"], record["truncated"], record["full_bytes"]) == ("", False, 0)
