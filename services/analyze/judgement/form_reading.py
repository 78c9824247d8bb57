"""What the offline rules make of a filing's typed facts (a Form 3/4/5's transactions, a
stake, a proposed sale): the parts of an `Analysis` that the facts decide."""

from __future__ import annotations

from dataclasses import dataclass

from services.analyze.analysis import Priority


@dataclass(frozen=True, slots=True)
class FormReading:
    priority: Priority
    summary: str
    event_types: tuple[str, ...]
    keywords: tuple[str, ...]
    sentiment: float
