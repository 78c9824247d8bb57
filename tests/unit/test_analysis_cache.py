"""The analysis cache: its entries survive JSON (what a durable cache stores) and the
in-memory implementation keeps the most recently used entries within its bound."""

from __future__ import annotations

import json

import pytest

from services.analyze.analysis import Analysis, Metric, Priority
from services.analyze.judgement.analysis_cache import CachedAnalysis, InMemoryAnalysisCache

ANALYSIS = Analysis(
    summary="Quarterly revenue rose 12% to $1.2 billion.",
    sentiment=0.4,
    priority=Priority.HIGH,
    keywords=("revenue", "guidance"),
    event_types=("earnings",),
    metrics={"revenue": Metric(1.2e9, "USD", "revenue of $1.2 billion")},
)


def entry(
    accession: str, model: str = "openai/gpt-4o-mini", cost: float | None = 0.0003
) -> CachedAnalysis:
    return CachedAnalysis(accession, model, ANALYSIS, 812.5, 1200, 150, cost)


@pytest.mark.parametrize("cost", [0.0003, None])
def test_an_entry_survives_json(cost: float | None) -> None:
    original = entry("0000320193-24-000061", cost=cost)
    assert CachedAnalysis.from_dict(json.loads(json.dumps(original.to_dict()))) == original


@pytest.mark.asyncio
async def test_entries_are_kept_per_accession_and_model() -> None:
    cache = InMemoryAnalysisCache()
    await cache.put(entry("0000320193-24-000061"))
    assert await cache.get("0000320193-24-000061", "openai/gpt-4o-mini") == entry(
        "0000320193-24-000061"
    )
    assert await cache.get("0000320193-24-000061", "openai/gpt-4o") is None
    assert await cache.get("0000320193-24-000062", "openai/gpt-4o-mini") is None


@pytest.mark.asyncio
async def test_the_least_recently_used_entry_goes_first() -> None:
    cache = InMemoryAnalysisCache(max_entries=2)
    await cache.put(entry("a"))
    await cache.put(entry("b"))
    assert await cache.get("a", "openai/gpt-4o-mini") is not None  # "a" is now the recent one
    await cache.put(entry("c"))
    assert len(cache) == 2
    assert await cache.get("b", "openai/gpt-4o-mini") is None
    assert await cache.get("a", "openai/gpt-4o-mini") is not None
    assert await cache.get("c", "openai/gpt-4o-mini") is not None


def test_the_bound_must_hold_something() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        InMemoryAnalysisCache(max_entries=0)
