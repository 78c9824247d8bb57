"""What an analyzer concludes about a filing: the `analysis` record of FilingAnalysis.avsc.

Both analyzers (offline and LLM) produce an `Analysis`; `to_avro()` gives exactly the dict
fastavro writes for the schema's `analysis` field and `from_avro()` reads it back. The invariants
the schema states in prose are enforced here, so no analyzer can emit a record that breaks them:
sentiment within [-1, 1] and finite, metric values finite.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Priority(StrEnum):
    """How urgently a reader should look at a filing. Ordered: compare with `rank`."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {priority: rank for rank, priority in enumerate(Priority)}


@dataclass(frozen=True, slots=True)
class Metric:
    value: float  # scaled to the unit: 1.2e9 for "$1.2 billion"
    unit: str  # USD, USD/share, percent
    text: str  # the phrase the figure was read from

    def __post_init__(self) -> None:
        if not math.isfinite(self.value):
            raise ValueError(f"metric value must be finite, got {self.value!r}")

    def to_avro(self) -> dict[str, Any]:
        return {"value": self.value, "unit": self.unit, "text": self.text}


@dataclass(frozen=True, slots=True)
class Analysis:
    summary: str
    sentiment: float  # -1 (negative for investors) .. 1 (positive)
    priority: Priority
    keywords: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()
    metrics: Mapping[str, Metric] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not -1.0 <= self.sentiment <= 1.0:  # also rejects NaN
            raise ValueError(f"sentiment must be within [-1, 1], got {self.sentiment!r}")

    def to_avro(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "sentiment": float(self.sentiment),
            "priority": self.priority.value,
            "keywords": list(self.keywords),
            "event_types": list(self.event_types),
            "metrics": {name: metric.to_avro() for name, metric in self.metrics.items()},
        }

    @classmethod
    def from_avro(cls, data: Mapping[str, Any]) -> Analysis:
        return cls(
            summary=data["summary"],
            sentiment=data["sentiment"],
            priority=Priority(data["priority"]),
            keywords=tuple(data["keywords"]),
            event_types=tuple(data["event_types"]),
            metrics={
                name: Metric(value=metric["value"], unit=metric["unit"], text=metric["text"])
                for name, metric in data["metrics"].items()
            },
        )
