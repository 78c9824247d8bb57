"""Precision and recall of the structured facts against the hand-checked expectations of
tests/fixtures/facts/: every transaction and holding row of the corpus ownership documents
(all parsed fields equal), every earnings figure of the corpus releases (name, period, GAAP
flag and value; then their prior values and changes as fields), every field of the Schedule
13D/13G and Form 144 records and every XBRL fact (tests/support/facts_corpus.py says how each
is matched). These are the development set: the readers were written against these documents.
The held-out figures are in the issue notes (bench/*_heldout.py, documents never committed).

Then what the schema v3 readers add per filing: the requests analyze makes for a 13D, a 13G, a
144 and a 10-Q served by the EDGAR emulator (tests/support/ownership_corpus.py), at today's
default ANALYZE_FETCH_FORMS and at round 2's, and the reader's own time beside the text
extraction the filing had anyway (same document, same run: the ratio is what holds).

    python -m bench.facts
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from services.analyze.reading.documents import DocumentFetcher
from services.analyze.reading.forms.beneficial_ownership import parse_stake
from services.analyze.reading.forms.financials import parse_financials
from services.analyze.reading.forms.sale_notice import parse_sale_notice
from services.analyze.reading.text import parse_submission
from services.analyze.settings import AnalyzeSettings
from services.common.edgar import EdgarClient
from services.common.ratelimit import RequestLimiter
from services.emulator import run_emulator
from tests.support.facts_corpus import (
    Score,
    earnings_text,
    expected_earnings,
    expected_ownership,
    expected_records,
    parsed_ownership,
    parsed_record,
    score_earnings,
    score_fields,
    score_financials,
    score_ownership_rows,
)
from tests.support.ownership_corpus import (
    QXO_STAKE,
    SAMPLE_SALE_NOTICE,
    SPIRIT_STAKE,
    TESLA_10Q,
    WrappedFiling,
    corpus_with_ownership,
    filing_of,
)

# Round 2's default ANALYZE_FETCH_FORMS: no 13G, no 144 (amendments were listed one by one).
_ROUND_2_DEFAULT = (
    "8-K,8-K/A,6-K,10-K,10-K/A,10-Q,10-Q/A,20-F,40-F,SC 13D,SC 13D/A,SCHEDULE 13D,"
    "SCHEDULE 13D/A,SC TO-T,SC TO-T/A,SC 14D9,DEFM14A,S-4,425,3,3/A,4,4/A,5,5/A"
)
ROUND_2_FETCH_FORMS = frozenset(_ROUND_2_DEFAULT.split(","))
_RUNS = 15


def _line(label: str, score: Score) -> str:
    return (
        f"{label:<42} precision {score.precision:6.1%} ({score.found}/{score.extracted})   "
        f"recall {score.recall:6.1%} ({score.found}/{score.expected})"
    )


def main() -> None:
    print("structured facts vs tests/fixtures/facts (command: python -m bench.facts)")
    rows = Score(0, 0, 0)
    for name, ownership in expected_ownership().items():
        score = score_ownership_rows(ownership, parsed_ownership(name))
        rows += score
        print(_line(f"  ownership {name}", score))
    print(_line("ownership rows (transactions + holdings)", rows))
    figures = fields = prose = Score(0, 0, 0)
    for key, expected in expected_earnings().items():
        found, found_fields, _ = score_earnings(expected, earnings_text(key))
        prose_only, _, _ = score_earnings(
            [want for want in expected if want["source"] == "prose"], earnings_text(key), "prose"
        )
        figures, fields, prose = figures + found, fields + found_fields, prose + prose_only
        print(_line(f"  earnings {key}", found))
    print(_line("earnings figures (prose and tables)", figures))
    print(_line("earnings figures stated in prose", prose))
    print(_line("earnings prior values and changes", fields))
    for family, score_record in (
        ("stake", score_fields),
        ("sale_notice", score_fields),
        ("financials", score_financials),
    ):
        total = Score(0, 0, 0)
        for name, record in expected_records(family).items():
            score = score_record(record, parsed_record(family, name))
            total += score
            print(_line(f"  {family} {name}", score))
        print(_line(f"{family} fields" if family != "financials" else "financials facts", total))
    asyncio.run(_per_filing())


def _median_ms(work: Callable[[], Any]) -> float:
    times = []
    for _ in range(_RUNS):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _reader_ms(wrapped: WrappedFiling) -> float:
    """The family reader's median time on the filing's document (run off the event loop)."""
    submission = parse_submission(wrapped.submission())
    primary = submission.documents[0]
    if wrapped is TESLA_10Q:
        instance = next(doc for doc in submission.documents if doc.type == "EX-101.INS")
        return _median_ms(lambda: parse_financials(instance.body, inline=False))
    if wrapped.form_type == "144":
        return _median_ms(lambda: parse_sale_notice(primary.body))
    return _median_ms(lambda: parse_stake(primary.body, wrapped.form_type))


async def _per_filing() -> None:
    print()
    print(
        "per filing through the EDGAR emulator (complete submission; the 10-Q also by its index "
        "page). Requests: now, and round 2's (0 when its default did not fetch the form; the "
        f"XBRL instance is the request it did not make). Reader: median of {_RUNS} runs; fetch: "
        "the whole fetch, reader included, after a warm-up."
    )
    wrapped_filings: list[WrappedFiling] = [QXO_STAKE, SPIRIT_STAKE, SAMPLE_SALE_NOTICE, TESLA_10Q]
    now = AnalyzeSettings.model_fields["analyze_fetch_forms"].default
    with tempfile.TemporaryDirectory() as directory:
        corpus = corpus_with_ownership(Path(directory), wrapped_filings)
        with run_emulator(corpus) as emulator:
            async with EdgarClient(
                user_agent="sec-digester bench bench@example.com",
                limiter=RequestLimiter(100),
                timeout_s=10.0,
            ) as edgar:
                fetcher = DocumentFetcher(
                    edgar,
                    emulator.base_url,
                    fetch_forms=frozenset(form.upper() for form in now),
                    max_document_bytes=5_000_000,
                )
                await fetcher.fetch(filing_of(QXO_STAKE, 1_000_000))  # the connection, warm
                print(
                    f"  {'filing':<30} {'path':<11} {'requests':>8} {'round 2':>8} "
                    f"{'reader ms':>10} {'fetch ms':>9}  facts"
                )
                for wrapped in wrapped_filings:
                    reader_ms = _reader_ms(wrapped)
                    paths: list[tuple[str, int | None]] = [("submission", 1_000_000)]
                    if wrapped is TESLA_10Q:
                        paths.append(("index page", None))
                    for path, size in paths:
                        emulator.control.requests.clear()
                        started = time.perf_counter()
                        fetched = await fetcher.fetch(filing_of(wrapped, size))
                        fetch_ms = (time.perf_counter() - started) * 1000
                        targets = [r.target for r in emulator.control.requests.snapshot()]
                        round_2 = (
                            sum(not target.endswith(".xml") for target in targets)
                            if wrapped.form_type in ROUND_2_FETCH_FORMS
                            else 0
                        )
                        facts = (
                            "financials"
                            if fetched.financials
                            else type(fetched.parsed).__name__
                            if fetched.parsed
                            else "none"
                        )
                        label = f"{wrapped.form_type} {wrapped.issuer_name}"
                        print(
                            f"  {label:<30} {path:<11} {len(targets):>8} {round_2:>8} "
                            f"{reader_ms:>10.2f} {fetch_ms:>9.1f}  {facts}"
                        )


if __name__ == "__main__":
    main()
