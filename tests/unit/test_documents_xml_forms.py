"""DocumentFetcher on the XML forms of schema v3 through a real EdgarClient and the EDGAR
emulator: a Schedule 13D, a truncated 13D/A, a 13G and a Form 144, each a real corpus document
wrapped as a complete submission (tests/support/ownership_corpus.py), read into its family's
facts in one request; a hostile 13D (an entity declaration) is an error with the reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from services.analyze.reading.documents import DocumentFetcher, DocumentStatus
from services.analyze.reading.forms.beneficial_ownership import Stake
from services.analyze.reading.forms.sale_notice import SaleNotice
from services.common.edgar import EdgarClient
from services.common.ratelimit import RequestLimiter
from services.common.records import Entity, Filing, FilingSource
from services.common.retry import RetryPolicy
from services.emulator import run_emulator
from tests.support.ownership_corpus import OwnershipSubmission, corpus_with_ownership
from tests.support.records import CORPUS_DIR

STAKES = CORPUS_DIR / "documents" / "beneficial-ownership"
QXO = OwnershipSubmission(
    "sc13d-qxo.xml", "0001104659-25-041235", "0001236275", "QXO, Inc.", "SCHEDULE 13D", STAKES
)
ZIVO = OwnershipSubmission(
    "sc13da-zivo-truncated-endtag.xml",
    "0001213900-25-000111",
    "0001101026",
    "Zivo Bioscience",
    "SCHEDULE 13D/A",
    STAKES,
)
SPIRIT = OwnershipSubmission(
    "sc13g-citadel-spirit.xml",
    "0000902664-25-002222",
    "0001498710",
    "Spirit Aviation",
    "SCHEDULE 13G",
    STAKES,
)
SALE = OwnershipSubmission(
    "Sample_144.xml",
    "0000950103-24-000144",
    "0000320193",
    "AN ISSUER",
    "144",
    CORPUS_DIR / "documents" / "form144",
)


def _filing(submission: OwnershipSubmission) -> Filing:
    return Filing(
        accession_number=submission.accession,
        form_type=submission.form_type,
        accepted_at=dt.datetime(2025, 5, 1, 16, 0, tzinfo=dt.UTC),
        filed_date=dt.date(2025, 5, 1),
        entities=(Entity(cik=submission.issuer_cik, name=submission.issuer_name, role="subject"),),
        index_url=submission.index_url,
        source=FilingSource.LIVE,
        detected_at=dt.datetime(2025, 5, 1, 16, 0, 1, tzinfo=dt.UTC),
        size_bytes=20_000,  # known and small: the complete submission, one request
    )


@pytest_asyncio.fixture
async def edgar() -> AsyncIterator[EdgarClient]:
    async with EdgarClient(
        user_agent="sec-digester tests tests@example.com",
        limiter=RequestLimiter(10),
        timeout_s=2.0,
        retry=RetryPolicy(max_attempts=2, base_delay_s=0.01),
    ) as client:
        yield client


@pytest.mark.asyncio
async def test_xml_forms_are_read_into_their_familys_facts(
    edgar: EdgarClient, tmp_path: Path
) -> None:
    hostile_dir = tmp_path / "hostile"
    hostile_dir.mkdir()
    (hostile_dir / "13d.xml").write_bytes(
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
        b'<edgarSubmission xmlns="http://www.sec.gov/edgar/schedule13D">&a;</edgarSubmission>'
    )
    hostile = OwnershipSubmission(
        "13d.xml", "0000000001-25-000001", "0000000001", "HOSTILE", "SCHEDULE 13D", hostile_dir
    )
    corpus = corpus_with_ownership(tmp_path, [QXO, ZIVO, SPIRIT, SALE, hostile])
    with run_emulator(corpus) as emulator:
        fetcher = DocumentFetcher(
            edgar,
            emulator.base_url,
            fetch_forms=frozenset({"SCHEDULE 13D", "SCHEDULE 13G", "144"}),
            max_document_bytes=5_000_000,
        )
        qxo, zivo, spirit, sale = [
            await fetcher.fetch(_filing(s)) for s in (QXO, ZIVO, SPIRIT, SALE)
        ]
        emulator.control.requests.clear()
        refused = await fetcher.fetch(_filing(hostile))
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
