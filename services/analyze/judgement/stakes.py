"""What a Schedule 13D or 13G means for a reader, from its stake (reading/forms/
beneficial_ownership.py): priority, summary, event types and keywords. Deterministic.

Rules:
- A new Schedule 13D (no amendment): high. A holder with an active purpose has crossed 5%, or a
  passive 13G holder has turned active (Rule 13d-1(e) and (f) make it file a 13D).
- A new Schedule 13G: high when a reporting person states at least 5% (the filing reports the
  crossing of the threshold), else medium.
- An amendment: crossing 10% or 20% can only be told against the holder's previous filing,
  which analyze, reading one filing at a time, does not have; an amendment is ranked by what it
  states: at least 20% high, at least 10% medium, less or not stated low for a 13G/A and medium
  for a 13D/A (an active holder's changes move prices).
- The summary names the holder (the reporting person with the largest percent, and how many
  others), the stake (percent and shares) and the issuer; a stake that states no percent says
  so rather than guessing one.
"""

from __future__ import annotations

from typing import Any

from services.analyze.analysis import Priority
from services.analyze.judgement.form_reading import FormReading
from services.analyze.reading.forms.beneficial_ownership import Stake

REPORTING_THRESHOLD = 5.0
LARGE_STAKE = 10.0
CONTROLLING_STAKE = 20.0


def _largest_holder(persons: list[dict[str, Any]]) -> dict[str, Any] | None:
    stated = [p for p in persons if p.get("percent_of_class") is not None]
    if stated:
        # Ties go to the larger amount, as the record's own headline does.
        return max(stated, key=lambda p: (p["percent_of_class"], p.get("aggregate_amount") or 0))
    return persons[0] if persons else None


def _priority(record: dict[str, Any], amended: bool) -> Priority:
    active = record["kind"] == "active"
    percent = record.get("percent_of_class")
    if not amended:
        if active or (percent is not None and percent >= REPORTING_THRESHOLD):
            return Priority.HIGH
        return Priority.MEDIUM
    if percent is not None and percent >= CONTROLLING_STAKE:
        return Priority.HIGH
    if active or (percent is not None and percent >= LARGE_STAKE):
        return Priority.MEDIUM
    return Priority.LOW


def _shares(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def read_stake(stake: Stake, form_type: str, issuer_ticker: str | None = None) -> FormReading:
    record = stake.to_avro()
    amended = form_type.upper().endswith("/A") or record.get("amendment_number") is not None
    persons: list[dict[str, Any]] = list(record.get("reporting_persons") or [])
    holder = _largest_holder(persons)
    active = record["kind"] == "active"
    issuer = record.get("issuer_name") or "an undisclosed issuer"
    if issuer_ticker:
        issuer += f" ({issuer_ticker})"
    who = holder["name"] if holder else "A holder"
    if len(persons) > 1:
        who += f" and {len(persons) - 1} other reporting person{'s' if len(persons) > 2 else ''}"
    percent = record.get("percent_of_class")
    stake_text = f"{percent:g}%" if percent is not None else "a stake (percent not stated)"
    if holder and holder.get("aggregate_amount") is not None:
        stake_text += f", {_shares(holder['aggregate_amount'])} shares"
    kind = "active (13D)" if active else "passive (13G)"
    verb = "amend" if amended else "report"
    summary = f"{who} {verb}{'s' if len(persons) <= 1 else ''} an {kind} stake of {stake_text}"
    summary += f" in {issuer}."
    if record.get("purpose") and active:
        summary += f" Purpose: {record['purpose']}"
    event = "activist_stake" if active else "passive_stake"
    keywords = ["13D" if active else "13G", "beneficial ownership"]
    if percent is not None and percent >= LARGE_STAKE:
        keywords.append("10% holder")
    return FormReading(
        priority=_priority(record, amended),
        summary=summary,
        event_types=(event,),
        keywords=tuple(keywords),
        sentiment=0.1 if active else 0.0,  # an activist stake is usually read as good news
    )
