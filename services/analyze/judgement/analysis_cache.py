"""Analyses already paid for, keyed by accession number and model, so that a replay of the raw
topic or a restart of analyze does not pay the LLM twice for the same filing.

`AnalysisCache` is the interface the LLM analyzer uses; `InMemoryAnalysisCache` is the bounded
implementation for tests and development (lost on restart). A durable implementation (e.g. a
compacted Kafka topic keyed by `cache_key`) stores `CachedAnalysis.to_dict()` as JSON and
reads it back with `CachedAnalysis.from_dict()`.

Only analyses the LLM produced are cached: an offline stand-in is not, so a later replay tries
the LLM again. The key includes the model: switching LLM_MODEL analyzes afresh.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from services.analyze.analysis import Analysis


def cache_key(accession_number: str, model: str) -> str:
    """One string per (accession number, model), e.g. a Kafka message key."""
    return f"{accession_number}|{model}"


@dataclass(frozen=True, slots=True)
class CachedAnalysis:
    """An LLM analysis and what it cost when it was made (the original call's figures)."""

    accession_number: str
    model: str
    analysis: Analysis
    latency_ms: float
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None

    @property
    def key(self) -> str:
        return cache_key(self.accession_number, self.model)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only (str, float, int, None, list, dict)."""
        return {
            "accession_number": self.accession_number,
            "model": self.model,
            "analysis": self.analysis.to_avro(),
            "latency_ms": self.latency_ms,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": self.cost_usd,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CachedAnalysis:
        return cls(
            accession_number=data["accession_number"],
            model=data["model"],
            analysis=Analysis.from_avro(data["analysis"]),
            latency_ms=float(data["latency_ms"]),
            prompt_tokens=int(data["prompt_tokens"]),
            completion_tokens=int(data["completion_tokens"]),
            cost_usd=None if data["cost_usd"] is None else float(data["cost_usd"]),
        )


class AnalysisCache(Protocol):
    async def get(self, accession_number: str, model: str) -> CachedAnalysis | None:
        """The analysis stored for this filing and model, or None."""
        ...

    async def put(self, entry: CachedAnalysis) -> None:
        """Store `entry` under its accession number and model, replacing any earlier one."""
        ...


class InMemoryAnalysisCache:
    """An `AnalysisCache` in a dict, holding at most `max_entries` (least recently used go)."""

    def __init__(self, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._entries: OrderedDict[str, CachedAnalysis] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, accession_number: str, model: str) -> CachedAnalysis | None:
        key = cache_key(accession_number, model)
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    async def put(self, entry: CachedAnalysis) -> None:
        self._entries[entry.key] = entry
        self._entries.move_to_end(entry.key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
