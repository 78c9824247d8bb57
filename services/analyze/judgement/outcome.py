"""What one analyzer run yields: the `Analysis` and the `analyzer` record of FilingAnalysis.avsc
(which analyzer, which model, how long it took, the tokens it used, what it cost, and why a
stand-in was used).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from services.analyze.analysis import Analysis

AnalyzerName = Literal["llm", "offline"]


@dataclass(frozen=True, slots=True)
class AnalyzerOutcome:
    analysis: Analysis
    analyzer_name: AnalyzerName
    model: str | None  # the litellm model string; None when offline produced the analysis
    latency_ms: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None  # None when litellm does not know the model's price
    note: str | None = None  # "cached", or why offline stood in ("llm failed: ...")

    def __post_init__(self) -> None:
        if self.prompt_tokens < 0 or self.completion_tokens < 0 or self.latency_ms < 0:
            raise ValueError("token counts and latency cannot be negative")

    def analyzer_to_avro(self) -> dict[str, Any]:
        """Exactly the `analyzer` (AnalyzerInfo) record of FilingAnalysis.avsc."""
        return {
            "name": self.analyzer_name,
            "model": self.model,
            "latency_ms": float(self.latency_ms),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": self.cost_usd,
            "note": self.note,
        }
