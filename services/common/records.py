"""Typed records that mirror the Avro schemas in schemas/ (io.secdigester.*).

`to_avro()` gives the dict fastavro writes; `from_avro()` takes the dict fastavro reads. The
field names and meanings are those of the .avsc files, which document every field.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FilingSource(StrEnum):
    LIVE = "live"
    DAILY_INDEX = "daily_index"
    REPLAY = "replay"


@dataclass(frozen=True, slots=True)
class Entity:
    cik: str  # 10 digits, zero-padded
    name: str
    role: str  # lower case EDGAR label: filer, issuer, reporting, subject, filed by
    tickers: tuple[str, ...] = ()

    def to_avro(self) -> dict[str, Any]:
        return {
            "cik": self.cik,
            "name": self.name,
            "role": self.role,
            "tickers": list(self.tickers),
        }

    @classmethod
    def from_avro(cls, data: dict[str, Any]) -> Entity:
        return cls(
            cik=data["cik"], name=data["name"], role=data["role"], tickers=tuple(data["tickers"])
        )


@dataclass(frozen=True, slots=True)
class Filing:
    accession_number: str
    form_type: str
    accepted_at: dt.datetime  # timezone-aware
    filed_date: dt.date
    entities: tuple[Entity, ...]
    index_url: str
    source: FilingSource
    detected_at: dt.datetime  # timezone-aware
    tickers: tuple[str, ...] = ()
    size_bytes: int | None = None
    items: tuple[str, ...] = field(default=())

    def to_avro(self) -> dict[str, Any]:
        return {
            "accession_number": self.accession_number,
            "form_type": self.form_type,
            "accepted_at": self.accepted_at,
            "filed_date": self.filed_date,
            "entities": [entity.to_avro() for entity in self.entities],
            "tickers": list(self.tickers),
            "index_url": self.index_url,
            "size_bytes": self.size_bytes,
            "items": list(self.items),
            "source": self.source.value,
            "detected_at": self.detected_at,
        }

    @classmethod
    def from_avro(cls, data: dict[str, Any]) -> Filing:
        return cls(
            accession_number=data["accession_number"],
            form_type=data["form_type"],
            accepted_at=data["accepted_at"],
            filed_date=data["filed_date"],
            entities=tuple(Entity.from_avro(entity) for entity in data["entities"]),
            tickers=tuple(data["tickers"]),
            index_url=data["index_url"],
            size_bytes=data["size_bytes"],
            items=tuple(data["items"]),
            source=FilingSource(data["source"]),
            detected_at=data["detected_at"],
        )

    @property
    def accession_no_dashes(self) -> str:
        return self.accession_number.replace("-", "")
