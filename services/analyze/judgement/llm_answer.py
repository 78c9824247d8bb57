"""The JSON answer the LLM must give, validated strictly, and its conversion to an `Analysis`.

`AnalysisAnswer` mirrors the `analysis` record of FilingAnalysis.avsc. Its JSON schema
(`ANSWER_SCHEMA`) is what the prompt shows the model, so the instructions and the validation
cannot drift apart. Strict means: no extra or missing fields, no strings where numbers belong,
no NaN or infinity, sentiment within [-1, 1], a known priority, bounded lengths. Anything else
raises `MalformedResponseError` (retriable: asking again usually gets a valid answer).

Names the model chooses freely (event types, metric names) are normalised to snake_case, so
consumers filtering on them see one spelling ("Officer Change" and "officer-change" are both
"officer_change"); keywords and event types lose duplicates, keeping first-seen order.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic.json_schema import WithJsonSchema

from services.analyze.analysis import Analysis, Metric, Priority
from services.common.errors import MalformedResponseError

MAX_SUMMARY_CHARS = 600
MAX_KEYWORDS = 10
MAX_EVENT_TYPES = 10
MAX_METRICS = 20

_Term = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
_Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
# The schema shows the bare list of values: Priority's docstring is about our code, not the task.
_PriorityValue = Annotated[
    Priority, WithJsonSchema({"type": "string", "enum": [p.value for p in Priority]})
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class MetricAnswer(_Strict):
    value: float = Field(description="The number scaled to the unit: 1.2e9 for $1.2 billion.")
    unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)] = (
        Field(description="USD, USD/share, percent, shares, ...")
    )
    text: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] = Field(
        description="The phrase of the filing the figure was read from."
    )


class AnalysisAnswer(_Strict):
    summary: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_SUMMARY_CHARS)
    ] = Field(
        description="Two or three plain sentences on what the filing says and why it matters."
    )
    sentiment: float = Field(
        ge=-1.0, le=1.0, description="Tone for investors: -1 negative, 0 neutral, 1 positive."
    )
    priority: _PriorityValue = Field(
        description="How urgently an investor should read it: low (routine), medium, high "
        "(likely to move the price: results, material agreements, officer changes), critical "
        "(bankruptcy, delisting, restatement, change in control, default)."
    )
    keywords: list[_Term] = Field(
        max_length=MAX_KEYWORDS, description="Salient terms of the filing, most important first."
    )
    event_types: list[_Name] = Field(
        max_length=MAX_EVENT_TYPES,
        description="Events reported, in snake_case: earnings, officer_change, "
        "material_agreement, acquisition, bankruptcy, dividend, ...",
    )
    metrics: dict[_Name, MetricAnswer] = Field(
        max_length=MAX_METRICS,
        description="Key reported figures by snake_case name (revenue, net_income, eps_diluted, "
        "...); empty when the filing reports none.",
    )


ANSWER_SCHEMA: dict[str, Any] = AnalysisAnswer.model_json_schema()


def snake_case(name: str) -> str:
    return "_".join(re.findall(r"[a-z0-9]+", name.lower()))


def parse_answer(content: str | None, *, url: str) -> Analysis:
    """The `Analysis` in the model's answer from `url`; `MalformedResponseError` when it is not
    one."""
    if not content or not content.strip():
        raise MalformedResponseError("the LLM answered with no content", url=url)
    try:
        answer = AnalysisAnswer.model_validate_json(_unfenced(content))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'answer'}: {error['msg']}"
            for error in exc.errors(include_url=False)
        )
        raise MalformedResponseError(f"invalid analysis JSON: {problems}", url=url) from exc
    return Analysis(
        summary=answer.summary,
        sentiment=answer.sentiment,
        priority=answer.priority,
        keywords=tuple(dict.fromkeys(answer.keywords)),
        event_types=tuple(dict.fromkeys(filter(None, map(snake_case, answer.event_types)))),
        metrics={
            snake_case(name): Metric(value=metric.value, unit=metric.unit, text=metric.text)
            for name, metric in answer.metrics.items()
            if snake_case(name)
        },
    )


def _unfenced(content: str) -> str:
    """The JSON inside a ```json fence: some models wrap their answer even in JSON mode."""
    fenced = re.fullmatch(r"\s*```(?:json)?\s*(.*?)\s*```\s*", content, re.DOTALL)
    return fenced.group(1) if fenced else content
