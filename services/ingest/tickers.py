"""CIK to ticker enrichment from SEC's company_tickers.json.

The file (https://www.sec.gov/files/company_tickers.json) is one JSON object whose values are
{"cik_str": 320193, "ticker": "AAPL", "title": "Apple Inc."}, listed in SEC's own order (by
market value). One CIK can have several tickers (share classes, preferreds); they are kept in
file order, so the first is the one SEC lists first. A copy ships inside the package
(services/ingest/data/) for offline use; a live deployment may load a fresh one with `from_json`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from importlib import resources

from services.common.errors import MalformedResponseError
from services.common.records import Entity

_BUNDLED_NAME = "company_tickers.json"
# Whom a filing is about comes before who filed it: a Form 4's issuer before its reporting
# owners, a Schedule 13D's subject company before the investor that filed it.
_ROLE_PRECEDENCE = {"issuer": 0, "subject": 1, "filer": 2, "filed by": 3, "reporting": 4}


class TickerMap:
    """Tickers by 10-digit CIK."""

    __slots__ = ("_by_cik",)

    def __init__(self, by_cik: Mapping[str, tuple[str, ...]]) -> None:
        self._by_cik = dict(by_cik)

    @classmethod
    def from_json(cls, body: bytes, *, url: str) -> TickerMap:
        """Build from the bytes of company_tickers.json; `url` names the source in errors."""
        try:
            document = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise MalformedResponseError(f"{url}: not JSON ({exc})", url=url) from exc
        if not isinstance(document, dict):
            raise MalformedResponseError(f"{url}: expected a JSON object at the top", url=url)
        by_cik: dict[str, list[str]] = {}
        for record in document.values():
            cik, ticker = _cik_and_ticker(record, url)
            tickers = by_cik.setdefault(cik, [])
            if ticker not in tickers:
                tickers.append(ticker)
        return cls({cik: tuple(tickers) for cik, tickers in by_cik.items()})

    @classmethod
    def bundled(cls) -> TickerMap:
        """The copy shipped in the package (as recorded from SEC, byte for byte)."""
        source = resources.files("services.ingest") / "data" / _BUNDLED_NAME
        return cls.from_json(source.read_bytes(), url=f"services.ingest/data/{_BUNDLED_NAME}")

    def lookup(self, cik: str) -> tuple[str, ...]:
        """Tickers of a CIK (zero-padded or not); empty when SEC lists none."""
        return self._by_cik.get(cik.zfill(10), ())

    def entity(self, *, cik: str, name: str, role: str) -> Entity:
        return Entity(cik=cik, name=name, role=role, tickers=self.lookup(cik))

    def __len__(self) -> int:
        return len(self._by_cik)


def order_by_role(entities: Iterable[Entity]) -> tuple[Entity, ...]:
    """Entities in role precedence (issuer, subject, filer, filed by, reporting, others);
    entities of equal role keep their given order."""
    return tuple(
        sorted(
            entities, key=lambda entity: _ROLE_PRECEDENCE.get(entity.role, len(_ROLE_PRECEDENCE))
        )
    )


def filing_tickers(entities: Iterable[Entity]) -> tuple[str, ...]:
    """All tickers of the entities, de-duplicated, in the entities' order: pass them through
    `order_by_role` first so that the issuer's tickers lead."""
    return tuple(dict.fromkeys(ticker for entity in entities for ticker in entity.tickers))


def _cik_and_ticker(record: object, url: str) -> tuple[str, str]:
    if not isinstance(record, dict):
        raise MalformedResponseError(f"{url}: entry {record!r} is not an object", url=url)
    cik, ticker = record.get("cik_str"), record.get("ticker")
    # bool is an int subclass; SEC writes the CIK as a JSON number.
    if not isinstance(cik, int) or isinstance(cik, bool) or not 0 < cik < 10**10:
        raise MalformedResponseError(f"{url}: entry {record!r} has no valid cik_str", url=url)
    if not isinstance(ticker, str) or not ticker.strip():
        raise MalformedResponseError(f"{url}: entry {record!r} has no ticker", url=url)
    return f"{cik:010d}", ticker.strip()
