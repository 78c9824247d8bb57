"""Filings for tests that need a record but not a particular EDGAR filing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from services.common.records import Entity, Filing, FilingSource

CORPUS_DIR = Path(__file__).resolve().parents[2] / "samples" / "edgar-corpus"
_EASTERN = dt.timezone(dt.timedelta(hours=-5))


def sample_filing(sequence: int = 1, form_type: str = "8-K") -> Filing:
    """A plausible 8-K; timestamps at millisecond precision, as the schema stores them."""
    accession = f"0000019617-26-{sequence:06d}"
    folder = f"https://www.sec.gov/Archives/edgar/data/19617/{accession.replace('-', '')}"
    return Filing(
        accession_number=accession,
        form_type=form_type,
        accepted_at=dt.datetime(2026, 6, 24, 16, 30, 5, tzinfo=_EASTERN),
        filed_date=dt.date(2026, 6, 24),
        entities=(
            Entity(cik="0000019617", name="JPMORGAN CHASE & CO", role="filer", tickers=("JPM",)),
        ),
        tickers=("JPM",),
        index_url=f"{folder}/{accession}-index.htm",
        size_bytes=123_456,
        items=("8.01", "9.01"),
        source=FilingSource.LIVE,
        detected_at=dt.datetime(2026, 6, 24, 20, 30, 6, 250_000, tzinfo=dt.UTC),
    )


def sample_analysis(
    sequence: int,
    *,
    ticker: str = "JPM",
    form_type: str = "8-K",
    priority: str = "medium",
    items: tuple[str, ...] = ("8.01",),
) -> dict[str, Any]:
    """A FilingAnalysis record (the dict fastavro writes) for gateway tests."""
    filing = dataclasses.replace(
        sample_filing(sequence, form_type),
        tickers=(ticker,),
        items=items,
        entities=(Entity(cik="0000019617", name=f"{ticker} INC", role="filer", tickers=(ticker,)),),
    )
    return {
        "filing": filing.to_avro(),
        "document_url": None,
        "document_status": "skipped",
        "document_detail": None,
        "items": list(items),
        "analysis": {
            "summary": f"Filing {sequence} of {ticker}.",
            "sentiment": 0.1,
            "priority": priority,
            "keywords": [],
            "event_types": [],
            "metrics": {},
        },
        "analyzer": {
            "name": "offline",
            "model": None,
            "latency_ms": 1.0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "cost_usd": None,
            "note": None,
        },
        "analyzed_at": dt.datetime.now(dt.UTC),
    }


def with_text(record: dict[str, Any], text: str, max_bytes: int = 262_144) -> dict[str, Any]:
    """The FilingText analyze writes with `record` (a fetched filing's), whose text_bytes it
    sets: the two pair on accession number and analyzed_at."""
    filing = record["filing"]
    url = filing["index_url"].replace("-index.htm", ".txt")
    record.update(document_status="fetched", document_url=url, text_bytes=len(text.encode()))
    return {
        "accession_number": filing["accession_number"],
        "form_type": filing["form_type"],
        "document_url": url,
        "text": text,
        "truncated": False,
        "full_bytes": len(text.encode()),
        "max_bytes": max_bytes,
        "analyzed_at": record["analyzed_at"],
    }
