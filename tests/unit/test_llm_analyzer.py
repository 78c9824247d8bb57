"""The LLM analyzer through the real litellm client, over real HTTP, against a local
OpenAI-compatible server scripted per test (tests/support/openai_stub.py), on a real filing.

No Kafka, no network: the server listens on 127.0.0.1 and litellm is told to use it as the
`api_base` of an "openai/..." model.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.schema import load_schema

from services.analyze.analysis import Priority
from services.analyze.judgement.analysis_cache import InMemoryAnalysisCache
from services.analyze.judgement.llm import CACHED_NOTE, LlmAnalyzer, LlmConfig
from services.analyze.judgement.offline import OfflineAnalyzer
from services.analyze.judgement.outcome import AnalyzerOutcome
from services.analyze.reading.items import detect_items, item_sections
from services.analyze.reading.text import parse_submission
from services.common.errors import ConfigurationError
from services.common.records import Filing, FilingSource
from tests.support.openai_stub import (
    OpenAiStub,
    answer,
    error,
    serve_openai_stub,
    stall,
    text_answer,
)

ROOT = Path(__file__).resolve().parents[2]
META = (
    ROOT / "samples/edgar-corpus/www.sec.gov/Archives/edgar/data/1326801/000162828025058337"
    "/0001628280-25-058337.txt"
)
SCHEMA = parse_schema(load_schema(str(ROOT / "schemas" / "io.secdigester.FilingAnalysis.avsc")))
MODEL = "openai/test-model"  # not in litellm's price map
VALID: dict[str, Any] = {
    "summary": "Meta Platforms reported a change among its directors and officers.",
    "sentiment": 0.1,
    "priority": "high",
    "keywords": ["board", "director", "appointment"],
    "event_types": ["officer_change"],
    "metrics": {},
}


@dataclasses.dataclass(frozen=True)
class Submission:
    filing: Filing
    text: str
    items: tuple[str, ...]
    item_texts: dict[str, str]

    def offline(self) -> AnalyzerOutcome:
        """What the offline analyzer concludes on the same input (for fallback checks)."""
        analysis = OfflineAnalyzer().analyze(self.filing, self.text, self.items, self.item_texts)
        return AnalyzerOutcome(analysis, "offline", None, 0.0)


def load_submission(path: Path) -> Submission:
    """As analyze reads a complete submission: primary document plus EX-99 releases."""
    parsed = parse_submission(path.read_bytes())
    header = parsed.header
    documents = [d for d in parsed.documents if d.sequence == 1 or d.type.startswith("EX-99")]
    text = "\n".join(extracted.text for d in documents if (extracted := d.text()))
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
        dt.datetime(2025, 12, 19, 22, 1, tzinfo=dt.UTC),
        items=items,
    )
    return Submission(filing, text, items, item_sections(text))


SUBMISSION = load_submission(META)


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # litellm reads the provider's usual variable; the stub accepts any key.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")


@pytest_asyncio.fixture
async def stub() -> AsyncIterator[OpenAiStub]:
    async with serve_openai_stub() as server:
        yield server


def config(stub: OpenAiStub, **overrides: Any) -> LlmConfig:
    settings: dict[str, Any] = {
        "model": MODEL,
        "api_base": stub.api_base,
        "timeout_s": 2.0,
        "max_attempts": 3,
        "max_concurrency": 4,
        "max_input_chars": 20_000,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.05,
    } | overrides
    return LlmConfig(**settings)


async def analyze(analyzer: LlmAnalyzer, submission: Submission = SUBMISSION) -> AnalyzerOutcome:
    s = submission
    return await analyzer.analyze(s.filing, s.text, s.items, s.item_texts)


def written_and_read(outcome: AnalyzerOutcome) -> dict[str, Any]:
    """The outcome in a FilingAnalysis record, through the Avro schema and back."""
    record = {
        "filing": SUBMISSION.filing.to_avro(),
        "document_url": None,
        "document_status": "fetched",
        "document_detail": None,
        "items": list(SUBMISSION.items),
        "analysis": outcome.analysis.to_avro(),
        "analyzer": outcome.analyzer_to_avro(),
        "analyzed_at": dt.datetime(2025, 12, 19, 22, 2, tzinfo=dt.UTC),
    }
    buffer = io.BytesIO()
    schemaless_writer(buffer, SCHEMA, record)
    buffer.seek(0)
    read = schemaless_reader(buffer, SCHEMA, SCHEMA)
    assert isinstance(read, dict)
    return read


@pytest.mark.asyncio
async def test_a_valid_answer_is_the_analysis(stub: OpenAiStub) -> None:
    stub.script(answer(VALID))
    outcome = await analyze(LlmAnalyzer(config(stub), InMemoryAnalysisCache()))
    assert outcome.analyzer_name == "llm"
    assert outcome.model == MODEL
    assert outcome.note is None
    assert outcome.analysis.summary == VALID["summary"]
    assert outcome.analysis.priority is Priority.HIGH
    assert outcome.analysis.sentiment == pytest.approx(0.1)
    assert outcome.analysis.event_types == ("officer_change",)
    assert (outcome.prompt_tokens, outcome.completion_tokens) == (1200, 150)
    assert outcome.cost_usd is None  # litellm has no price for "test-model"
    assert outcome.latency_ms > 0
    [request] = stub.requests
    assert request["model"] == "test-model"  # litellm strips the provider prefix
    assert request["response_format"] == {"type": "json_object"}
    assert request["temperature"] == 0
    assert written_and_read(outcome)["analyzer"] == outcome.analyzer_to_avro()


@pytest.mark.asyncio
async def test_cost_comes_from_litellms_bundled_price_map(stub: OpenAiStub) -> None:
    stub.script(answer(VALID, completion_tokens=100))
    analyzer = LlmAnalyzer(config(stub, model="openai/gpt-4o-mini"), InMemoryAnalysisCache())
    outcome = await analyze(analyzer)
    # gpt-4o-mini in the pinned litellm's map: $0.15 per million input tokens, $0.60 output.
    assert outcome.cost_usd == pytest.approx(1200 * 0.15e-6 + 100 * 0.60e-6)
    assert stub.requests[0]["model"] == "gpt-4o-mini"


@pytest.mark.asyncio
async def test_an_answer_that_is_not_json_is_retried_with_a_correction(stub: OpenAiStub) -> None:
    stub.script(text_answer("Here is the analysis you asked for."), answer(VALID))
    outcome = await analyze(LlmAnalyzer(config(stub), InMemoryAnalysisCache()))
    assert outcome.analyzer_name == "llm"
    assert outcome.analysis.summary == VALID["summary"]
    assert len(stub.requests) == 2
    assert (outcome.prompt_tokens, outcome.completion_tokens) == (2400, 300)  # both were paid
    retry = stub.requests[1]["messages"]
    assert retry[:2] == stub.requests[0]["messages"]
    assert retry[2] == {"role": "assistant", "content": "Here is the analysis you asked for."}
    assert "rejected: invalid analysis JSON" in retry[3]["content"]


@pytest.mark.asyncio
async def test_persistently_invalid_answers_fall_back_to_offline(stub: OpenAiStub) -> None:
    stub.script(
        answer(VALID | {"sentiment": 3}),  # out of range
        answer({k: v for k, v in VALID.items() if k != "summary"}),  # a field missing
        answer(VALID | {"priority": "urgent", "extra": 1}),  # unknown value, extra field
    )
    outcome = await analyze(LlmAnalyzer(config(stub), InMemoryAnalysisCache()))
    assert len(stub.requests) == 3  # exactly max_attempts
    assert outcome.analyzer_name == "offline"
    assert outcome.model is None
    assert outcome.analysis == SUBMISSION.offline().analysis
    assert outcome.note is not None
    assert outcome.note.startswith("llm failed: invalid analysis JSON: priority: Input should be")
    assert outcome.note.endswith("(3 attempts)")
    assert (outcome.prompt_tokens, outcome.completion_tokens) == (3600, 450)
    assert written_and_read(outcome)["analyzer"]["note"] == outcome.note


@pytest.mark.asyncio
@pytest.mark.parametrize("recovers", [True, False])
async def test_a_stalled_server_times_out(stub: OpenAiStub, recovers: bool) -> None:
    stub.script(stall(30), answer(VALID) if recovers else stall(30))
    analyzer = LlmAnalyzer(config(stub, timeout_s=0.5, max_attempts=2), InMemoryAnalysisCache())
    started = time.monotonic()
    outcome = await analyze(analyzer)
    assert time.monotonic() - started < 2.0
    assert len(stub.requests) == 2
    if recovers:
        assert outcome.analyzer_name == "llm"
    else:
        assert outcome.analyzer_name == "offline"
        assert outcome.note == "llm failed: no answer within 0.5s (2 attempts)"
        assert (outcome.prompt_tokens, outcome.cost_usd) == (0, 0.0)  # nothing came back


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_retried(stub: OpenAiStub, status: int) -> None:
    stub.script(error(status), answer(VALID))
    outcome = await analyze(LlmAnalyzer(config(stub), InMemoryAnalysisCache()))
    assert outcome.analyzer_name == "llm"
    assert len(stub.requests) == 2
    assert (outcome.prompt_tokens, outcome.completion_tokens) == (1200, 150)


@pytest.mark.asyncio
async def test_a_429_waits_for_its_retry_after(stub: OpenAiStub) -> None:
    stub.script(error(429, retry_after_s=1), answer(VALID))
    analyzer = LlmAnalyzer(config(stub, backoff_max_s=5.0), InMemoryAnalysisCache())
    started = time.monotonic()
    outcome = await analyze(analyzer)
    assert outcome.analyzer_name == "llm"
    assert len(stub.requests) == 2
    assert 1.0 <= time.monotonic() - started < 3.0


@pytest.mark.asyncio
@pytest.mark.parametrize(("status", "error_class"), [(401, "Authentication"), (400, "BadRequest")])
async def test_refusals_are_not_retried(stub: OpenAiStub, status: int, error_class: str) -> None:
    stub.script(error(status), answer(VALID))
    outcome = await analyze(LlmAnalyzer(config(stub), InMemoryAnalysisCache()))
    assert len(stub.requests) == 1
    assert outcome.analyzer_name == "offline"
    assert outcome.note is not None
    assert error_class in outcome.note
    assert outcome.note.endswith("(1 attempts)")


@pytest.mark.asyncio
async def test_the_cache_saves_a_second_call_per_accession_and_model(stub: OpenAiStub) -> None:
    cache = InMemoryAnalysisCache()
    stub.script(answer(VALID), answer(VALID | {"summary": "Another model's view."}))
    first = await analyze(LlmAnalyzer(config(stub), cache))
    again = await analyze(LlmAnalyzer(config(stub), cache))  # a replay, or a restarted analyzer
    assert len(stub.requests) == 1
    assert again == dataclasses.replace(first, note=CACHED_NOTE)  # the original figures
    other_model = await analyze(LlmAnalyzer(config(stub, model="openai/other-model"), cache))
    assert len(stub.requests) == 2
    assert other_model.analysis.summary == "Another model's view."
    assert other_model.note is None


@pytest.mark.asyncio
async def test_a_fallback_is_not_cached(stub: OpenAiStub) -> None:
    cache = InMemoryAnalysisCache()
    analyzer = LlmAnalyzer(config(stub), cache)
    stub.script(error(401), answer(VALID))
    assert (await analyze(analyzer)).analyzer_name == "offline"
    assert len(cache) == 0
    assert (await analyze(analyzer)).analyzer_name == "llm"
    assert len(stub.requests) == 2
    assert len(cache) == 1


@pytest.mark.asyncio
async def test_concurrency_is_limited(stub: OpenAiStub) -> None:
    stub.script(*[answer(VALID, delay_s=0.2) for _ in range(6)])
    analyzer = LlmAnalyzer(config(stub, max_concurrency=2), InMemoryAnalysisCache())
    submissions = [
        dataclasses.replace(
            SUBMISSION,
            filing=dataclasses.replace(
                SUBMISSION.filing, accession_number=f"0000000000-25-{n:06d}"
            ),
        )
        for n in range(6)
    ]
    started = time.monotonic()
    outcomes = await asyncio.gather(*(analyze(analyzer, s) for s in submissions))
    assert {outcome.analyzer_name for outcome in outcomes} == {"llm"}
    assert stub.max_in_flight == 2
    assert time.monotonic() - started >= 0.6  # three rounds of two
    assert all(outcome.latency_ms < 600 for outcome in outcomes)  # waiting for a slot is not


@pytest.mark.asyncio
async def test_the_prompt_carries_metadata_items_and_trimmed_text(stub: OpenAiStub) -> None:
    stub.script(answer(VALID), answer(VALID))
    await analyze(LlmAnalyzer(config(stub, max_input_chars=1_000), InMemoryAnalysisCache()))
    [prompt] = stub.prompts
    assert "Form type: 8-K" in prompt
    assert "Accession number: 0001628280-25-058337" in prompt
    assert "Company: Meta Platforms, Inc. (filer, CIK 0001326801)" in prompt
    assert "8-K items: 5.02 Departure of Directors or Certain Officers" in prompt
    text = SUBMISSION.text.strip()
    header, excerpt = prompt.split("the rest was left out):\n")
    assert f"of {len(text):,} characters" in header
    assert 500 <= len(excerpt) <= 1_000
    assert text.startswith(excerpt)
    system = stub.requests[0]["messages"][0]
    assert system["role"] == "system"
    assert '"additionalProperties":false' in system["content"]

    await analyze(LlmAnalyzer(config(stub, model="openai/whole-text"), InMemoryAnalysisCache()))
    assert stub.prompts[1].endswith("Document text:\n" + text)


def test_a_model_string_litellm_cannot_route_fails_at_start_up() -> None:
    bad = LlmConfig("no-such-model", None, 1.0, 1, 1, 1000)
    with pytest.raises(ConfigurationError, match="LLM_MODEL='no-such-model'"):
        LlmAnalyzer(bad, InMemoryAnalysisCache())


_NETWORK_PROBE = """
import asyncio, json, sys
events = []
def record(event, args):
    if event == "socket.connect":
        events.append([event, str(args[1])])
    elif event == "socket.getaddrinfo":
        events.append([event, str(args[0])])
sys.addaudithook(record)
from services.analyze.judgement.analysis_cache import InMemoryAnalysisCache
from services.analyze.judgement.llm import LlmAnalyzer, LlmConfig
from tests.support.openai_stub import answer, serve_openai_stub
from tests.support.records import sample_filing
at_import = list(events)

async def main():
    async with serve_openai_stub() as stub:
        stub.script(answer({"summary": "s", "sentiment": 0, "priority": "low", "keywords": [],
                            "event_types": [], "metrics": {}}))
        config = LlmConfig("openai/gpt-4o-mini", stub.api_base, 5.0, 1, 1, 1000)
        outcome = await LlmAnalyzer(config, InMemoryAnalysisCache()).analyze(sample_filing(), "x")
        return outcome.analyzer_name, stub.api_base

name, api_base = asyncio.run(main())
print(json.dumps({"at_import": at_import, "in_call": events[len(at_import):], "name": name,
                  "api_base": api_base}))
"""


def test_litellm_reaches_nothing_but_the_api_base() -> None:
    """In a fresh interpreter, where litellm would download its price map on import unless
    told not to: no connection or name lookup at import, only the stub's address in a call."""
    environment = {k: v for k, v in os.environ.items() if k != "LITELLM_LOCAL_MODEL_COST_MAP"}
    result = subprocess.run(
        [sys.executable, "-c", _NETWORK_PROBE],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["name"] == "llm"
    assert probe["at_import"] == []
    assert probe["in_call"], "the call itself should have been seen"
    port = probe["api_base"].rsplit(":", 1)[1].split("/")[0]
    for event, address in probe["in_call"]:
        assert "127.0.0.1" in address, (event, address)
        if event == "socket.connect":
            assert port in address
