"""Typed records mirroring io.secdigester.FilingAnalysis as the gateway serves it in JSON.

The protocol's JSON mapping: timestamps are ISO-8601 strings in UTC, dates `YYYY-MM-DD`, enums
their symbol, a nullable field `null`. Fields a newer schema adds are ignored, and an enum
symbol this version does not know reads as the schema's default, as an Avro reader would: a
client keeps working when the gateway's schema evolves. A required field that is missing or of
the wrong type is a `ProtocolError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from sec_digester_client.errors import ProtocolError

E = TypeVar("E", bound=StrEnum)


class FilingSource(StrEnum):
    LIVE = "live"
    DAILY_INDEX = "daily_index"
    REPLAY = "replay"


class DocumentStatus(StrEnum):
    FETCHED = "fetched"
    NOT_FOUND = "not_found"
    SKIPPED = "skipped"
    ERROR = "error"


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for low up to 3 for critical, for comparisons."""
        return list(Priority).index(self)


@dataclass(frozen=True, slots=True)
class Entity:
    cik: str
    name: str
    role: str
    tickers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Filing:
    accession_number: str
    form_type: str
    accepted_at: dt.datetime
    filed_date: dt.date
    entities: tuple[Entity, ...]
    tickers: tuple[str, ...]
    index_url: str
    size_bytes: int | None
    items: tuple[str, ...]
    source: FilingSource
    detected_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Metric:
    value: float
    unit: str
    text: str


@dataclass(frozen=True, slots=True)
class Analysis:
    summary: str
    sentiment: float
    priority: Priority
    keywords: tuple[str, ...]
    event_types: tuple[str, ...]
    metrics: Mapping[str, Metric] = field(hash=False)


@dataclass(frozen=True, slots=True)
class AnalyzerInfo:
    name: str
    model: str | None
    latency_ms: float
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    note: str | None


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where the gateway delivered a record from; `cursor` is the position just after it."""

    cursor: str
    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class FilingAnalysis:
    filing: Filing
    document_url: str | None
    document_status: DocumentStatus
    document_detail: str | None
    items: tuple[str, ...]
    analysis: Analysis
    analyzer: AnalyzerInfo
    analyzed_at: dt.datetime
    # None for a record not read from a stream (e.g. from the REST API).
    delivery: Delivery | None = None
    # The JSON object it was read from, fields unknown to this version included.
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def accession_number(self) -> str:
        return self.filing.accession_number

    @classmethod
    def from_json(cls, data: Mapping[str, Any], delivery: Delivery | None = None) -> FilingAnalysis:
        """From the `data` of a filing frame (or a REST answer); ProtocolError if malformed."""
        try:
            return cls(
                filing=_filing(data["filing"]),
                document_url=data.get("document_url"),
                document_status=_enum(DocumentStatus, data.get("document_status")),
                document_detail=data.get("document_detail"),
                items=tuple(data.get("items") or ()),
                analysis=_analysis(data["analysis"]),
                analyzer=_analyzer(data["analyzer"]),
                analyzed_at=_timestamp(data["analyzed_at"]),
                delivery=delivery,
                raw=data,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProtocolError(f"not a FilingAnalysis record: {exc!r}") from exc


def _filing(data: Mapping[str, Any]) -> Filing:
    return Filing(
        accession_number=data["accession_number"],
        form_type=data["form_type"],
        accepted_at=_timestamp(data["accepted_at"]),
        filed_date=dt.date.fromisoformat(data["filed_date"]),
        entities=tuple(
            Entity(e["cik"], e["name"], e["role"], tuple(e.get("tickers") or ()))
            for e in data["entities"]
        ),
        tickers=tuple(data.get("tickers") or ()),
        index_url=data["index_url"],
        size_bytes=data.get("size_bytes"),
        items=tuple(data.get("items") or ()),
        source=_enum(FilingSource, data.get("source")),
        detected_at=_timestamp(data["detected_at"]),
    )


def _analysis(data: Mapping[str, Any]) -> Analysis:
    return Analysis(
        summary=data["summary"],
        sentiment=float(data["sentiment"]),
        priority=_enum(Priority, data.get("priority")),
        keywords=tuple(data.get("keywords") or ()),
        event_types=tuple(data.get("event_types") or ()),
        metrics={
            name: Metric(float(m["value"]), m["unit"], m["text"])
            for name, m in (data.get("metrics") or {}).items()
        },
    )


def _analyzer(data: Mapping[str, Any]) -> AnalyzerInfo:
    cost = data.get("cost_usd")
    return AnalyzerInfo(
        name=data["name"],
        model=data.get("model"),
        latency_ms=float(data["latency_ms"]),
        prompt_tokens=int(data.get("prompt_tokens", 0)),
        completion_tokens=int(data.get("completion_tokens", 0)),
        cost_usd=None if cost is None else float(cost),
        note=data.get("note"),
    )


def _timestamp(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    # The protocol sends UTC; a zone-less value is read as UTC, as the gateway reads `from`.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _enum(kind: type[E], symbol: object) -> E:
    """The symbol, or the schema's default when it is absent or unknown to this version."""
    if isinstance(symbol, str) and symbol in kind._value2member_map_:
        return kind(symbol)
    return _DEFAULTS[kind]  # type: ignore[return-value]


# The `default` of each enum in schemas/io.secdigester.FilingAnalysis.avsc.
_DEFAULTS: dict[type[StrEnum], StrEnum] = {
    FilingSource: FilingSource.LIVE,
    DocumentStatus: DocumentStatus.ERROR,
    Priority: Priority.LOW,
}
