"""DocumentFetcher on the XML forms of schema v3 through a real EdgarClient and the EDGAR
emulator: a Schedule 13D, a truncated 13D/A, a 13G and a Form 144, each a real corpus document
wrapped as a complete submission (tests/support/ownership_corpus.py), read into its family's
facts in one request; a hostile 13D (an entity declaration) is an error with the reason. And a
periodic report's XBRL, by each of the ways EDGAR serves it."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.analyze.reading.documents import DocumentFetcher, DocumentStatus, FilingDocuments
from services.analyze.reading.forms.beneficial_ownership import Stake
from services.analyze.reading.forms.financials import Source
from services.analyze.reading.forms.sale_notice import SaleNotice
from services.common.edgar import EdgarClient
from services.emulator import run_emulator
from services.emulator.server import EmulatorHandle
from tests.support.ownership_corpus import (
    QXO_STAKE,
    SAMPLE_SALE_NOTICE,
    SPIRIT_STAKE,
    TESLA_10Q,
    ZIVO_TRUNCATED_STAKE,
    PeriodicReport,
    corpus_with_ownership,
    filing_of,
    hostile_stake,
)
from tests.support.xbrl_documents import INLINE_10Q

QXO, ZIVO, SPIRIT, SALE = QXO_STAKE, ZIVO_TRUNCATED_STAKE, SPIRIT_STAKE, SAMPLE_SALE_NOTICE


@pytest.mark.asyncio
async def test_xml_forms_are_read_into_their_familys_facts(
    edgar: EdgarClient, tmp_path: Path
) -> None:
    hostile = hostile_stake(tmp_path / "hostile")
    corpus = corpus_with_ownership(tmp_path, [QXO, ZIVO, SPIRIT, SALE, hostile])
    with run_emulator(corpus) as emulator:
        fetcher = DocumentFetcher(
            edgar,
            emulator.base_url,
            fetch_forms=frozenset({"SCHEDULE 13D", "SCHEDULE 13G", "144"}),
            max_document_bytes=5_000_000,
        )
        qxo, zivo, spirit, sale = [
            await fetcher.fetch(filing_of(s)) for s in (QXO, ZIVO, SPIRIT, SALE)
        ]
        emulator.control.requests.clear()
        refused = await fetcher.fetch(filing_of(hostile))
    for documents in (qxo, zivo, spirit, sale):
        assert documents.status is DocumentStatus.FETCHED
        assert documents.document_url is not None
        assert documents.document_url.endswith(".txt")
    assert isinstance(qxo.parsed, Stake)
    assert qxo.parsed.to_avro()["percent_of_class"] == 6.3
    assert qxo.text  # its purpose (Item 4), for the analyzer
    assert isinstance(zivo.parsed, Stake)
    assert zivo.parsed.to_avro()["incomplete_reason"]  # partial facts with the reason
    assert isinstance(spirit.parsed, Stake)
    assert spirit.parsed.to_avro()["kind"] == "passive"
    assert isinstance(sale.parsed, SaleNotice)
    assert sale.ownership is None
    # The hostile document: an error naming why, after the other way was tried too.
    assert refused.status is DocumentStatus.ERROR
    assert refused.parsed is None
    assert refused.detail is not None
    assert "DTD" in refused.detail or "entit" in refused.detail.lower()


def _requested(emulator: EmulatorHandle) -> list[str]:
    return [logged.target.rsplit("/", 1)[1] for logged in emulator.control.requests.snapshot()]


@pytest.mark.asyncio
async def test_a_periodic_reports_xbrl_is_read_from_the_fewest_documents(
    edgar: EdgarClient, tmp_path: Path
) -> None:
    """Tesla's real 10-Q instance: as the EX-101.INS of a complete submission (one request) and
    through the index page (index, primary, instance); an inline primary document is its own
    XBRL (index and primary, the extracted instance is not fetched); a listed instance that is
    not there leaves financials None with the reason, and the text read."""
    inline = PeriodicReport(
        "tsla-20240630_htm.xml.gz",
        "0000000002-24-000002",
        "0000000002",
        "INLINE FILER",
        inline=INLINE_10Q.encode(),
    )
    missing = PeriodicReport(
        "tsla-20240630_htm.xml.gz", "0000000003-24-000003", "0000000003", "GONE FILER"
    )
    corpus = corpus_with_ownership(tmp_path, [TESLA_10Q, inline, missing])
    manifest = corpus / "manifest.jsonl"
    gone = f"{missing.folder}/{missing.instance_filename}"
    manifest.write_text(
        "".join(line for line in manifest.read_text().splitlines(True) if gone not in line)
    )
    with run_emulator(corpus) as emulator:
        fetcher = DocumentFetcher(
            edgar,
            emulator.base_url,
            fetch_forms=frozenset({"10-Q"}),
            max_document_bytes=5_000_000,
        )
        fetched: dict[str, tuple[FilingDocuments, list[str]]] = {}
        for name, filing in (
            ("submission", filing_of(TESLA_10Q, 1_400_000)),
            ("index", filing_of(TESLA_10Q, None)),
            ("inline", filing_of(inline, None)),
        ):
            emulator.control.requests.clear()
            fetched[name] = (await fetcher.fetch(filing), _requested(emulator))
        emulator.control.requests.clear()
        without_instance = await fetcher.fetch(filing_of(missing, None))

    submission, requested = fetched["submission"]
    assert requested == [f"{TESLA_10Q.accession}.txt"]
    by_index, requested = fetched["index"]
    assert requested == [
        f"{TESLA_10Q.accession}-index.htm",
        TESLA_10Q.primary_filename,
        TESLA_10Q.instance_filename,
    ]
    for documents in (submission, by_index):
        assert documents.status is DocumentStatus.FETCHED
        assert documents.text  # the primary document's text, for the analyzer
        financials = documents.financials
        assert financials is not None
        assert financials.source is Source.INSTANCE
        revenue = financials.figure("revenue")
        assert revenue is not None
        assert (revenue.value, revenue.period_label) == (25_500_000_000, "quarter")
    assert submission.financials == by_index.financials

    from_inline, requested = fetched["inline"]
    assert requested == [f"{inline.accession}-index.htm", inline.primary_filename]
    assert from_inline.financials is not None
    assert from_inline.financials.source is Source.INLINE
    assert from_inline.financials.fiscal_period == "Q1"

    assert without_instance.status is DocumentStatus.FETCHED
    assert without_instance.text
    assert without_instance.financials is None
    assert without_instance.detail is not None
    assert "not found" in without_instance.detail
