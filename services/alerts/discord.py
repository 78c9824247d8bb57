"""A filing as a Discord embed, within Discord's limits.

Limits (Discord's "Embed Limits"): title 256 characters, description 4096, at most 25 fields
with names of 256 and values of 1024, footer text 2048, and 6000 characters over all of them
together. A webhook message may carry 10 embeds; one filing is one embed. Text over a limit is
cut with an ellipsis; the summary (the description) is what gives way to the total.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sec_digester_client import FilingAnalysis, Priority

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
TOTAL_MAX = 6000

# Embed side colours: the priority at a glance.
_COLOURS = {
    Priority.LOW: 0x95A5A6,
    Priority.MEDIUM: 0x3498DB,
    Priority.HIGH: 0xE67E22,
    Priority.CRITICAL: 0xE74C3C,
}


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _company(record: FilingAnalysis) -> str:
    entities = record.filing.entities
    issuer = next((e for e in entities if e.role in {"issuer", "filer", "subject"}), None)
    chosen = issuer or (entities[0] if entities else None)
    return chosen.name if chosen else "unknown filer"


def embed(record: FilingAnalysis) -> dict[str, Any]:
    filing, analysis = record.filing, record.analysis
    tickers = ", ".join(filing.tickers) or "-"
    # analyze's items first; ingest's (from the feed) only add what analyze did not find.
    items = ", ".join(dict.fromkeys((*record.items, *filing.items))) or "-"
    fields = [
        ("Ticker", tickers),
        ("Form", filing.form_type),
        ("Items", items),
        ("Priority", analysis.priority.value),
        ("Sentiment", f"{analysis.sentiment:+.2f}"),
    ]
    title = cut(f"{tickers} {filing.form_type}: {_company(record)}", TITLE_MAX)
    footer = cut(f"{filing.accession_number} · sec-digester", FOOTER_MAX)
    # Discord refuses an empty (or blank) field value: a record without one shows "-".
    fields = [
        (cut(name, FIELD_NAME_MAX), cut(value.strip() or "-", FIELD_VALUE_MAX))
        for name, value in fields
    ]
    used = len(title) + len(footer) + sum(len(name) + len(value) for name, value in fields)
    description = cut(analysis.summary.strip() or "(no summary)", DESCRIPTION_MAX)
    description = cut(description, TOTAL_MAX - used)
    return {
        "title": title,
        "url": filing.index_url,  # the filing's index page on EDGAR
        "description": description,
        "color": _COLOURS.get(analysis.priority, _COLOURS[Priority.LOW]),
        "fields": [{"name": name, "value": value, "inline": True} for name, value in fields],
        "footer": {"text": footer},
        "timestamp": filing.accepted_at.astimezone(dt.UTC).isoformat(),
    }


def message(record: FilingAnalysis) -> dict[str, Any]:
    """The webhook's JSON body: one embed, no pings (mentions in a summary stay text)."""
    return {"embeds": [embed(record)], "allowed_mentions": {"parse": []}}
