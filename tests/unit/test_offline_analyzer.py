"""The offline analyzer on real filings: priority rules, summaries, keywords, sentiment and
metrics, and records the FilingAnalysis schema accepts."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.schema import load_schema
from fastavro.validation import validate

from services.analyze.analysis import Analysis, Priority
from services.analyze.judgement.lexicon import STOPWORDS
from services.analyze.judgement.offline import OfflineAnalyzer
from services.analyze.reading.items import detect_items, item_sections
from services.analyze.reading.text import extract_text, parse_submission
from services.common.records import Entity, Filing, FilingSource

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "samples" / "edgar-corpus"
ARCHIVES = CORPUS / "www.sec.gov" / "Archives" / "edgar" / "data"
META = ARCHIVES / "1326801" / "000162828025058337" / "0001628280-25-058337.txt"
ABVC = CORPUS / "documents" / "0001213900-25-032135.txt"
SUBMISSIONS = sorted([*ARCHIVES.glob("*/*/*.txt"), *(CORPUS / "documents").glob("*.txt")])
DETECTED = dt.datetime(2025, 12, 12, 23, 2, 33, tzinfo=dt.UTC)
ANALYZER = OfflineAnalyzer()


def metadata_filing(form_type: str, items: tuple[str, ...] = (), entities: Any = ()) -> Filing:
    return Filing(
        accession_number="0001700545-25-000020",
        form_type=form_type,
        accepted_at=DETECTED,
        filed_date=DETECTED.date(),
        entities=tuple(entities) or (Entity("0001690820", "CARVANA CO.", "filer"),),
        index_url="https://www.sec.gov/Archives/edgar/data/1690820/000170054525000020/",
        source=FilingSource.REPLAY,
        detected_at=DETECTED,
        items=items,
    )


def analyze_submission(path: Path) -> tuple[Filing, str, Analysis]:
    """What the analyze service does with a complete submission: primary document text plus
    its EX-99 press releases, items from the header (else the text), item sections."""
    submission = parse_submission(path.read_bytes())
    header = submission.header
    readable = [doc.text() for doc in submission.documents if doc.sequence == 1]
    releases = [doc.text() for doc in submission.documents_of_type("EX-99")]
    text = "\n".join(extracted.text for extracted in [*readable, *releases] if extracted)
    items = detect_items(header.item_titles, text)
    assert header.accepted_at is not None
    assert header.filed_date is not None
    filing = Filing(
        header.accession_number,
        header.form_type,
        header.accepted_at,
        header.filed_date,
        header.entities,
        "https://www.sec.gov/",
        FilingSource.REPLAY,
        DETECTED,
        items=items,
    )
    return filing, text, ANALYZER.analyze(filing, text, items, item_sections(text))


@pytest.mark.parametrize(
    ("form_type", "items", "priority"),
    [
        ("8-K", ("1.03",), Priority.CRITICAL),  # bankruptcy
        ("8-K", ("3.01", "9.01"), Priority.CRITICAL),  # delisting
        ("8-K", ("4.02",), Priority.CRITICAL),  # non-reliance on past financial statements
        ("8-K", ("2.02", "9.01"), Priority.HIGH),  # results
        ("8-K", ("5.02",), Priority.HIGH),  # officers and directors
        ("8-K", ("1.01",), Priority.HIGH),
        ("8-K/A", ("1.02",), Priority.HIGH),
        ("8-K", ("2.01",), Priority.HIGH),
        ("8-K", ("2.06",), Priority.HIGH),
        ("8-K", ("4.01",), Priority.HIGH),
        ("8-K", ("8.01",), Priority.MEDIUM),
        ("8-K", ("9.01",), Priority.MEDIUM),
        ("8-K", (), Priority.MEDIUM),
        ("SC 13D", (), Priority.HIGH),
        ("SC 13D/A", (), Priority.HIGH),
        ("SCHEDULE 13D/A", (), Priority.HIGH),
        ("SC TO-T", (), Priority.CRITICAL),
        ("SC TO-T/A", (), Priority.HIGH),
        ("SC 13E3", (), Priority.HIGH),
        ("10-K", (), Priority.MEDIUM),
        ("10-Q", (), Priority.MEDIUM),
        ("10-K/A", (), Priority.MEDIUM),
        ("SCHEDULE 13G", (), Priority.LOW),
        ("4", (), Priority.LOW),
        ("3", (), Priority.LOW),
        ("144", (), Priority.LOW),
        ("424B2", (), Priority.LOW),
        ("D", (), Priority.LOW),
        ("13F-HR", (), Priority.LOW),
        ("NPORT-P", (), Priority.LOW),
        ("N-CEN", (), Priority.LOW),
        ("497K", (), Priority.LOW),
        ("NOT-A-FORM", (), Priority.LOW),
    ],
)
def test_priority_rules(form_type: str, items: tuple[str, ...], priority: Priority) -> None:
    assert ANALYZER.analyze(metadata_filing(form_type, items)).priority is priority


def test_form_4_without_text_is_described_by_its_metadata() -> None:
    # The feed's entries for accession 0001700545-25-000020: one filing, two entities.
    entities = (
        Entity("0001700545", "BREAUX PAUL W.", "reporting"),
        Entity("0001690820", "CARVANA CO.", "issuer"),
    )
    analysis = ANALYZER.analyze(metadata_filing("4", entities=entities))
    assert analysis == Analysis(
        summary="Form 4 filed by BREAUX PAUL W. (reporting) for CARVANA CO. (issuer)",
        sentiment=0.0,
        priority=Priority.LOW,
        keywords=(),
        event_types=("insider_transaction",),
        metrics={},
    )


def test_8k_without_text_names_its_items() -> None:
    header = parse_submission(META.read_bytes()).header
    filing = metadata_filing("8-K", ("5.02",), header.entities)
    analysis = ANALYZER.analyze(filing)  # items default to the filing's
    assert analysis.summary.startswith(
        "Form 8-K filed by Meta Platforms, Inc. (filer): Item 5.02 Departure of Directors"
    )
    assert analysis.event_types == ("officer_change",)


@pytest.mark.parametrize("path", SUBMISSIONS, ids=lambda path: path.name)
def test_analysis_of_real_filings(path: Path) -> None:
    filing, text, analysis = analyze_submission(path)
    assert 0 < len(analysis.summary) <= 400
    if analysis.metrics and analysis.priority is not Priority.CRITICAL:  # the figures lead
        assert re.search(r"(?:Revenue|Net income|EPS) -?\$", analysis.summary)
    elif text:  # extractive: it opens and closes with the document's own words
        assert analysis.summary[:40] in text
        assert analysis.summary.removesuffix("\u2026")[-30:] in text
    else:  # XML primary documents (ATS-N-W, N-CEN) have no text: the metadata speaks
        assert analysis.summary.startswith(f"Form {filing.form_type} filed by ")
    assert not re.search(
        r"forward-looking|/s/|pursuant to the requirements", analysis.summary, re.I
    )
    assert len(analysis.keywords) <= 8
    for keyword in analysis.keywords:
        assert keyword == keyword.lower()
        assert not set(keyword.split()) & STOPWORDS
    assert -1.0 <= analysis.sentiment <= 1.0
    assert analyze_submission(path)[2] == analysis  # deterministic


def test_director_resignation() -> None:
    filing, _, analysis = analyze_submission(META)
    assert filing.items == ("5.02",)
    assert analysis.priority is Priority.HIGH
    assert analysis.event_types == ("officer_change",)
    assert "Dina Powell McCormick" in analysis.summary
    assert "resign" in analysis.keywords
    assert "meta" not in analysis.keywords  # the filer's own name says nothing new


def test_restatement_leads_the_summary_and_reads_negative() -> None:
    filing, _, analysis = analyze_submission(ABVC)
    assert filing.items == ("2.02", "4.02", "7.01", "9.01")
    assert analysis.priority is Priority.CRITICAL
    assert analysis.event_types == ("earnings", "non_reliance", "regulation_fd")
    # The 4.02 sentence leads although the 2.02 section comes first in the document.
    assert analysis.summary.startswith("On April 10, 2025, the Board of Directors")
    assert analysis.sentiment < 0
    assert analysis.metrics["revenue"].value == 509_589.0


def test_earnings_8k_with_its_press_release() -> None:
    documents = CORPUS / "documents"
    text = "\n".join(
        extract_text((documents / name).read_bytes()).text
        for name in ("BuckleInc.8-K.html", "BuckleInc.8-K.EX99.1.html")
    )
    items = detect_items((), text)
    filing = metadata_filing("8-K", items, (Entity("0000885245", "BUCKLE INC", "filer"),))
    analysis = ANALYZER.analyze(filing, text, items, item_sections(text))
    assert items == ("2.02", "9.01")
    assert (analysis.priority, analysis.event_types) == (Priority.HIGH, ("earnings",))
    # The figures lead, each with its period and the prior-year value the release states.
    assert analysis.summary.startswith(
        "Revenue $293.60 million (quarter, -3.2%, prior $303.50 million); "
        "Net income $44.20 million (quarter, prior $51.80 million); "
        "Diluted EPS $0.88 (quarter, prior $1.04)."
    )
    assert {name: metric.value for name, metric in analysis.metrics.items()} == {
        "revenue": 293.6e6,
        "net_income": 44.2e6,
        "eps_basic": 0.89,
        "eps_diluted": 0.88,
    }


def test_metrics_are_only_read_where_results_are_reported() -> None:
    text = extract_text((CORPUS / "documents" / "BuckleInc.8-K.EX99.1.html").read_bytes()).text
    assert ANALYZER.analyze(metadata_filing("8-K", ("8.01",)), text).metrics == {}
    assert ANALYZER.analyze(metadata_filing("8-K", ("2.02",)), text).metrics


def test_records_satisfy_the_filing_analysis_schema() -> None:
    schema = parse_schema(load_schema(str(ROOT / "schemas" / "io.secdigester.FilingAnalysis.avsc")))
    filing, _, analysis = analyze_submission(ABVC)
    record = {
        "filing": filing.to_avro(),
        "document_url": filing.index_url,
        "document_status": "fetched",
        "document_detail": None,
        "items": list(filing.items),
        "analysis": analysis.to_avro(),
        "analyzer": {
            "name": "offline",
            "model": None,
            "latency_ms": 1.5,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "cost_usd": None,
            "note": None,
        },
        "analyzed_at": DETECTED,
    }
    assert validate(record, schema, raise_errors=True)
    buffer = io.BytesIO()
    schemaless_writer(buffer, schema, record)
    buffer.seek(0)
    decoded = schemaless_reader(buffer, schema)
    assert isinstance(decoded, dict)
    assert Analysis.from_avro(decoded["analysis"]) == analysis


def test_analysis_rejects_values_the_schema_forbids() -> None:
    with pytest.raises(ValueError, match="sentiment"):
        Analysis(summary="", sentiment=1.5, priority=Priority.LOW)
    with pytest.raises(ValueError, match="sentiment"):
        Analysis(summary="", sentiment=float("nan"), priority=Priority.LOW)


def test_priorities_are_ordered() -> None:
    ranks = [priority.rank for priority in Priority]
    assert ranks == sorted(ranks)
    assert Priority.CRITICAL.rank > Priority.LOW.rank
