"""A record of the analyzed topic as the store's row: its JSON, the columns every stream
filter is answered from (the same facts the stream's filters look at: RecordFacts), and the
text the full-text index searches; and a record of the text topic as the document text of the
row it pairs with (same accession and analyzed_at)."""

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
    analyzed_at: str  # stored_time
    # The analysis says a FilingText was written with it (text_bytes not null): the feeder
    # stores the row once that text is in, so an answer never holds it without its text.
    awaits_text: bool

    def columns(self) -> tuple[Any, ...]:
        """The `filings` row's columns in the layout's order (accession ... body), as both
        backends insert them."""
        return (
            self.accession,
            self.partition,
            self.offset,
            self.accepted_at,
            self.form,
            self.base_form,
            self.priority,
            self.max_value_usd,
            self.stake_percent,
            self.stake_kind,
            self.analyzed_at,
            self.body,
        )

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
            analyzed_at=stored_time(record["analyzed_at"]),
            awaits_text=record.get("text_bytes") is not None,
        )

    @property
    def text_key(self) -> tuple[str, str]:
        return self.accession, self.analyzed_at


@dataclass(frozen=True, slots=True)
class TextRow:
    accession: str
    analyzed_at: str  # stored_time, of the analysis it was written with
    text: str

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> TextRow:
        """The row of a decoded FilingText."""
        return cls(record["accession_number"], stored_time(record["analyzed_at"]), record["text"])

    @property
    def key(self) -> tuple[str, str]:
        return self.accession, self.analyzed_at


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
