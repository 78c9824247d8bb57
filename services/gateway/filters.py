"""Per-client filters: tickers, forms, minimum priority, 8-K items.

The attributes a filter looks at are extracted once per record (`RecordFacts`), when the shared
tail decodes it; each client's filter is then a few set lookups, the same on replay and live.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.common.errors import BadParameterError

PRIORITIES = ("low", "medium", "high", "critical")
_ITEM = re.compile(r"\d{1,2}\.\d{2}", re.ASCII)
_TICKER = re.compile(r"[A-Za-z0-9.\-]{1,12}")
_FORM = re.compile(r"[A-Za-z0-9 ./\-]{1,20}")


@dataclass(frozen=True, slots=True)
class RecordFacts:
    tickers: frozenset[str]
    form_type: str
    priority: int  # index in PRIORITIES; -1 for raw filings (no analysis)
    items: frozenset[str]

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> RecordFacts:
        """Facts of a FilingAnalysis (has `filing`) or of a raw Filing record."""
        filing = data.get("filing", data)
        analysis = data.get("analysis")
        items = set(filing.get("items") or ()) | set(data.get("items") or ())
        return cls(
            tickers=frozenset(t.upper() for t in filing.get("tickers") or ()),
            form_type=str(filing.get("form_type", "")).upper(),
            priority=PRIORITIES.index(analysis["priority"]) if analysis else -1,
            items=frozenset(items),
        )


@dataclass(frozen=True, slots=True)
class Filter:
    tickers: frozenset[str] = frozenset()
    forms: frozenset[str] = frozenset()
    min_priority: int | None = None
    items: frozenset[str] = frozenset()

    def matches(self, facts: RecordFacts) -> bool:
        if self.tickers and not self.tickers & facts.tickers:
            return False
        if (
            self.forms
            and facts.form_type not in self.forms
            and (facts.form_type.removesuffix("/A") not in self.forms)
        ):
            return False
        if self.min_priority is not None and facts.priority < self.min_priority:
            return False
        return not self.items or bool(self.items & facts.items)

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {}
        if self.tickers:
            described["tickers"] = sorted(self.tickers)
        if self.forms:
            described["forms"] = sorted(self.forms)
        if self.min_priority is not None:
            described["min_priority"] = PRIORITIES[self.min_priority]
        if self.items:
            described["items"] = sorted(self.items)
        return described


def _listed(params: Mapping[str, str], name: str, pattern: re.Pattern[str]) -> frozenset[str]:
    raw = params.get(name, "")
    values = [v.strip() for v in raw.split(",") if v.strip()]
    for value in values:
        if not pattern.fullmatch(value):
            raise BadParameterError(name, f"{value[:60]!r} is not a valid value")
    return frozenset(v.upper() for v in values)


def parse_filter(params: Mapping[str, str], *, analyzed: bool) -> Filter:
    min_priority = None
    if wanted := params.get("min_priority"):
        if wanted not in PRIORITIES:
            raise BadParameterError(
                "min_priority", f"{wanted[:60]!r} is not one of {', '.join(PRIORITIES)}"
            )
        if not analyzed:
            raise BadParameterError("min_priority", "raw filings have no priority (topic=raw)")
        min_priority = PRIORITIES.index(wanted)
    return Filter(
        tickers=_listed(params, "tickers", _TICKER),
        forms=_listed(params, "forms", _FORM),
        min_priority=min_priority,
        items=_listed(params, "items", _ITEM),
    )
