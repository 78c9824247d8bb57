"""A record of the analyzed topic as the store's row: its JSON, the columns every stream
filter is answered from (the same facts the stream's filters look at: RecordFacts), and the
text the full-text index searches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from services.common.filters import RecordFacts
from services.common.forms import AMENDMENT
from services.common.record_json import record_json
from services.store.layout import CIK, CODE, ITEM, ROLE, TICKER


def stored_time(moment: dt.datetime) -> str:
    """UTC with microseconds and a Z: the column's text sorts as the times do."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class FilingRow:
    accession: str
    partition: int
    offset: int
    accepted_at: str  # stored_time
    form: str
    base_form: str
    priority: int
    max_value_usd: float | None
    stake_percent: float | None
    stake_kind: str | None
    tags: tuple[tuple[str, str], ...]  # (kind, value)
    summary: str
    names: str
    body: bytes

    @classmethod
    def of(cls, partition: int, offset: int, record: Mapping[str, Any]) -> FilingRow:
        """The row of a decoded FilingAnalysis (any schema version) at its topic position."""
        filing = record["filing"]
        facts = RecordFacts.of(record)
        tags = (
            [(TICKER, ticker) for ticker in sorted(facts.tickers)]
            + [(CIK, cik) for cik in sorted({e["cik"] for e in filing.get("entities") or ()})]
            + [(ITEM, item) for item in sorted(facts.items)]
            + [(CODE, code) for code in sorted(facts.transaction_codes)]
            + [(ROLE, role) for role in sorted(facts.insider_roles)]
        )
        return cls(
            accession=filing["accession_number"],
            partition=partition,
            offset=offset,
            accepted_at=stored_time(filing["accepted_at"]),
            form=facts.form_type,
            base_form=facts.form_type.removesuffix(AMENDMENT),
            priority=facts.priority,
            max_value_usd=facts.max_value_usd,
            stake_percent=facts.stake_percent,
            stake_kind=facts.stake_kind,
            tags=tuple(tags),
            summary=(record.get("analysis") or {}).get("summary") or "",
            names=" ".join(dict.fromkeys(_names(record))),
            body=record_json(dict(record)),
        )


def _names(record: Mapping[str, Any]) -> Iterator[str]:
    """Who the filing is about or by: entities, insiders, holders of a stake, a seller."""
    for entity in record["filing"].get("entities") or ():
        yield entity["name"]
    for owner in (record.get("ownership") or {}).get("owners") or ():
        yield owner["name"]
    for person in (record.get("stake") or {}).get("reporting_persons") or ():
        yield person["name"]
    if seller := (record.get("sale_notice") or {}).get("seller_name"):
        yield seller
