"""FilingAnalysis records (schema v2) with structured facts, for the consumers' tests: ownership
as analyze reads a corpus Form 4, earnings as it reads a corpus press release, and 8-K item
facts as item_facts.py states them."""

from __future__ import annotations

from typing import Any

from services.analyze.reading.forms.earnings_release import extract_earnings
from services.analyze.reading.forms.ownership import ownership_to_avro, parse_ownership
from tests.support.facts_corpus import OWNERSHIP_DIR, earnings_text
from tests.support.records import sample_analysis

# ISABELLA BANK Corp: a director's open-market purchase (code P) of 275.634 shares at $18.14.
PURCHASE_DOCUMENT = "isba-4-1.xml"
# Apple: the CFO's sale (code S) of 243,431 shares at $116.89 under a 10b5-1 plan.
SALE_DOCUMENT = "aapl-4-2.xml"
# Avantor's quarterly results: revenue, net income, EPS (GAAP and adjusted).
EARNINGS_DOCUMENT = "earnings/avtr-8k-ex991-1.html"

OFFICER_APPOINTMENT = {
    "item": "5.02",
    "event_type": "officer_appointment",
    "subject": "Jane Q. Doe",
    "role": "Chief Financial Officer",
    "text": "Jane Q. Doe has been appointed as Chief Financial Officer, effective July 1, 2026.",
}


def corpus_ownership(document: str) -> dict[str, Any]:
    """The `ownership` field analyze makes of a corpus ownership XML."""
    return ownership_to_avro(parse_ownership((OWNERSHIP_DIR / document).read_bytes()))


def corpus_earnings(document: str = EARNINGS_DOCUMENT) -> dict[str, Any]:
    earnings = extract_earnings(earnings_text(document))
    assert earnings is not None, document
    return earnings.to_avro()


def insider_record(sequence: int, document: str = PURCHASE_DOCUMENT) -> dict[str, Any]:
    """A Form 4 FilingAnalysis (the dict fastavro writes) carrying the document's ownership."""
    ownership = corpus_ownership(document)
    ticker = ownership["issuer"]["trading_symbol"]
    record = sample_analysis(sequence, ticker=ticker, form_type="4", items=())
    record["ownership"] = ownership
    return record


def earnings_record(sequence: int, ticker: str = "AVTR") -> dict[str, Any]:
    """An 8-K with items 2.02 and 5.02: results, and an officer appointed."""
    record = sample_analysis(sequence, ticker=ticker, items=("2.02", "5.02", "9.01"))
    record["earnings"] = corpus_earnings()
    record["item_facts"] = [dict(OFFICER_APPOINTMENT)]
    return record
