"""The LLM analyzer: a filing's metadata, items and trimmed text to an LLM through litellm, its
JSON answer validated strictly, and the offline analyzer standing in when the LLM fails.

Per filing:
1. The cache (accession number, model) is asked first. A hit returns the stored analysis with
   the figures of the call that produced it (name "llm", model, latency, tokens, cost) and note
   "cached": nothing was spent this time, so whoever sums `cost_usd` over records must skip
   the "cached" ones to count money actually spent.
2. Otherwise one of `max_concurrency` slots is taken (waiting for one is not counted in the
   latency) and up to `max_attempts` completions are tried, each within `timeout_s`. Retried,
   with exponential backoff and full jitter (at least the Retry-After of a 429, up to
   `backoff_max_s`): timeouts, connection errors, 429, 5xx, and answers that fail validation
   (the retry shows the model its answer and what was wrong). Not retried: refusals such as
   401, 403, 404 or a context window exceeded.
3. A valid answer is cached and returned as name "llm" with the tokens and cost of all attempts
   (failed ones were paid for too); cost is None when litellm does not know the model's price.
4. After the last failed attempt, the offline analyzer's analysis is returned: name "offline",
   model None, note "llm failed: <reason> (<n> attempts)", and the tokens and cost the failed
   attempts spent. It is not cached, so a replay tries the LLM again.

Errors of the cache itself propagate: the caller's retry policy decides about them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import structlog

from services.analyze.analysis import Analysis
from services.analyze.judgement.analysis_cache import AnalysisCache, CachedAnalysis
from services.analyze.judgement.llm_answer import parse_answer
from services.analyze.judgement.llm_client import RateLimitedError, Usage, check_model, complete
from services.analyze.judgement.llm_prompt import build_messages, with_correction
from services.analyze.judgement.offline import OfflineAnalyzer
from services.analyze.judgement.outcome import AnalyzerOutcome
from services.analyze.reading.facts import FilingFacts
from services.common.errors import MalformedResponseError, UpstreamError
from services.common.records import Filing
from services.common.retry import RetryPolicy

log = structlog.get_logger(__name__)

CACHED_NOTE = "cached"
_MAX_NOTE_CHARS = 500


@dataclass(frozen=True, slots=True)
class LlmConfig:
    model: str  # a litellm model string, e.g. "openai/gpt-4o-mini" (LLM_MODEL)
    api_base: str | None  # None: the provider's default endpoint (LLM_API_BASE)
    timeout_s: float  # per attempt, all included
    max_attempts: int  # in all, the first included
    max_concurrency: int  # completions in flight at once, per analyzer
    max_input_chars: int  # of the filing's text in the prompt
    temperature: float = 0.0
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0

    def __post_init__(self) -> None:
        if min(self.timeout_s, self.max_attempts, self.max_concurrency, self.max_input_chars) <= 0:
            raise ValueError("timeout, attempts, concurrency and input size must be positive")
        if self.backoff_base_s < 0 or self.backoff_max_s < self.backoff_base_s:
            raise ValueError("backoff must be 0 <= base <= max")


@dataclass(frozen=True, slots=True)
class _Attempts:
    """What the attempts for one filing came to: an analysis, or the last failure."""

    analysis: Analysis | None
    failure: UpstreamError | None
    spent: Usage
    count: int


class LlmAnalyzer:
    name = "llm"

    def __init__(
        self,
        config: LlmConfig,
        cache: AnalysisCache,
        offline: OfflineAnalyzer | None = None,
    ) -> None:
        check_model(config.model)
        self._config = config
        self._cache = cache
        self._offline = offline or OfflineAnalyzer()
        self._slots = asyncio.Semaphore(config.max_concurrency)
        self._retry = RetryPolicy(config.max_attempts, config.backoff_base_s, config.backoff_max_s)

    async def analyze(
        self,
        filing: Filing,
        text: str | None = None,
        items: Sequence[str] | None = None,
        item_texts: Mapping[str, str] | None = None,
        facts: FilingFacts | None = None,
    ) -> AnalyzerOutcome:
        """Arguments as for `OfflineAnalyzer.analyze`; `item_texts` serves the fallback, `facts`
        go into the prompt (and to the fallback)."""
        model = self._config.model
        if cached := await self._cache.get(filing.accession_number, model):
            return AnalyzerOutcome(
                analysis=cached.analysis,
                analyzer_name="llm",
                model=model,
                latency_ms=cached.latency_ms,
                prompt_tokens=cached.prompt_tokens,
                completion_tokens=cached.completion_tokens,
                cost_usd=cached.cost_usd,
                note=CACHED_NOTE,
            )
        codes = tuple(items if items is not None else filing.items)
        async with self._slots:
            started = time.perf_counter()
            attempts = await self._attempts(filing, text, codes, facts)
        spent = attempts.spent
        if attempts.analysis is None:
            log.warning(
                "llm failed, offline analyzer stands in",
                accession=filing.accession_number,
                attempts=attempts.count,
                reason=str(attempts.failure),
            )
            note = f"llm failed: {attempts.failure} ({attempts.count} attempts)"
            return AnalyzerOutcome(
                analysis=self._offline.analyze(filing, text, codes, item_texts, facts),
                analyzer_name="offline",
                model=None,
                latency_ms=_ms_since(started),
                prompt_tokens=spent.prompt_tokens,
                completion_tokens=spent.completion_tokens,
                cost_usd=spent.cost_usd,
                note=note[:_MAX_NOTE_CHARS],
            )
        entry = CachedAnalysis(
            accession_number=filing.accession_number,
            model=model,
            analysis=attempts.analysis,
            latency_ms=_ms_since(started),
            prompt_tokens=spent.prompt_tokens,
            completion_tokens=spent.completion_tokens,
            cost_usd=spent.cost_usd,
        )
        await self._cache.put(entry)
        return AnalyzerOutcome(
            analysis=entry.analysis,
            analyzer_name="llm",
            model=model,
            latency_ms=entry.latency_ms,
            prompt_tokens=entry.prompt_tokens,
            completion_tokens=entry.completion_tokens,
            cost_usd=entry.cost_usd,
        )

    async def _attempts(
        self, filing: Filing, text: str | None, items: Sequence[str], facts: FilingFacts | None
    ) -> _Attempts:
        config = self._config
        first_messages = build_messages(filing, text, items, config.max_input_chars, facts)
        messages = first_messages
        spent = Usage()
        for attempt in range(1, config.max_attempts + 1):
            try:
                completion = await complete(
                    model=config.model,
                    api_base=config.api_base,
                    messages=messages,
                    timeout_s=config.timeout_s,
                    temperature=config.temperature,
                )
            except UpstreamError as exc:
                failure = exc
            else:
                spent += completion.usage
                try:
                    analysis = parse_answer(completion.content, url=config.api_base or config.model)
                    return _Attempts(analysis, None, spent, attempt)
                except MalformedResponseError as exc:
                    failure = exc
                    messages = with_correction(first_messages, completion.content, str(exc))
            if not failure.retriable or attempt == config.max_attempts:
                break
            wait_s = self._retry.backoff(attempt - 1)
            if isinstance(failure, RateLimitedError) and failure.retry_after_s is not None:
                wait_s = max(wait_s, min(failure.retry_after_s, config.backoff_max_s))
            log.warning(
                "llm attempt failed, retrying",
                accession=filing.accession_number,
                attempt=attempt,
                reason=str(failure),
                wait_s=round(wait_s, 2),
            )
            await asyncio.sleep(wait_s)
        return _Attempts(None, failure, spent, attempt)


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
