"""From a Filing to its FilingAnalysis record: documents, then the configured analyzer.

The offline analyzer is CPU work measured in milliseconds and runs inline; the LLM analyzer is
I/O and runs concurrently with other filings of the batch. The facts (ownership, earnings, item
facts, stakes, sale notices, financials: reading/facts.py) are read from the documents first,
whichever analyzer runs, and both the analyzer and the record get them. What went wrong with
documents is recorded in the record (`document_status`, `document_detail`), never raised: a
filing whose documents EDGAR lacks is analyzed from its metadata.

With the analysis comes the FilingText of a filing whose documents were read (the text the
analyzer read, cut to the bound: text_record.py), for the text topic; the analysis's
`text_bytes` is that text's length, or null when there is none.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from services.analyze.judgement.offline import OfflineAnalyzer
from services.analyze.judgement.outcome import AnalyzerOutcome
from services.analyze.metrics import LLM_COST, LLM_TOKENS, STAGE_SECONDS
from services.analyze.reading.documents import DocumentFetcher, FilingDocuments
from services.analyze.reading.facts import FilingFacts, extract_facts
from services.analyze.text_record import text_record
from services.common.records import Filing

if TYPE_CHECKING:  # litellm takes seconds to import: only when an LLM is configured
    from services.analyze.judgement.llm import LlmAnalyzer


@dataclass(frozen=True, slots=True)
class Analyzed:
    analysis: dict[str, Any]  # the FilingAnalysis record (the dict fastavro writes)
    text: dict[str, Any] | None  # its FilingText; None when no document was read


class FilingAnalyzer:
    def __init__(
        self,
        fetcher: DocumentFetcher,
        offline: OfflineAnalyzer,
        llm: LlmAnalyzer | None,
        *,
        text_max_bytes: int,
    ) -> None:
        self._fetcher = fetcher
        self._offline = offline
        self._llm = llm
        self._text_max_bytes = text_max_bytes

    async def analyze(self, filing: Filing) -> Analyzed:
        """The FilingAnalysis record of one filing, and the FilingText that goes with it."""
        started = time.perf_counter()
        documents = await self._fetcher.fetch(filing)
        fetched = time.perf_counter()
        STAGE_SECONDS.labels(stage="fetch").observe(fetched - started)
        facts = extract_facts(
            filing,
            documents.text,
            documents.items,
            documents.item_texts,
            parsed=documents.parsed,
            financials=documents.financials,
        )
        outcome = await self._run_analyzer(filing, documents, facts)
        STAGE_SECONDS.labels(stage="analyze").observe(time.perf_counter() - fetched)
        if outcome.note != "cached":  # a cache hit was paid for when it was first analyzed
            LLM_TOKENS.labels(kind="prompt").inc(outcome.prompt_tokens)
            LLM_TOKENS.labels(kind="completion").inc(outcome.completion_tokens)
            LLM_COST.inc(outcome.cost_usd or 0.0)
        # One value in both records (as milliseconds on the topics): what pairs them.
        analyzed_at = dt.datetime.now(dt.UTC)
        text = text_record(filing, documents, analyzed_at, self._text_max_bytes)
        analysis = {
            "filing": filing.to_avro(),
            **documents.to_avro_fields(),
            "analysis": outcome.analysis.to_avro(),
            "analyzer": outcome.analyzer_to_avro(),
            "analyzed_at": analyzed_at,
            **facts.to_avro_fields(),
            "text_bytes": len(text["text"].encode()) if text is not None else None,
        }
        return Analyzed(analysis, text)

    async def _run_analyzer(
        self, filing: Filing, documents: FilingDocuments, facts: FilingFacts
    ) -> AnalyzerOutcome:
        if self._llm is not None:
            return await self._llm.analyze(
                filing, documents.text, documents.items, documents.item_texts, facts
            )
        started = time.perf_counter()
        analysis = self._offline.analyze(
            filing, documents.text, documents.items, documents.item_texts, facts
        )
        return AnalyzerOutcome(
            analysis=analysis,
            analyzer_name="offline",
            model=None,
            latency_ms=(time.perf_counter() - started) * 1000,
        )
