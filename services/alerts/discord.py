"""A filing as a Discord embed, within Discord's limits.

Limits (Discord's "Embed Limits"): title 256 characters, description 4096, at most 25 fields
with names of 256 and values of 1024, footer text 2048, and 6000 characters over all of them
together. A webhook message may carry 10 embeds; one filing is one embed. Text over a limit is
cut with an ellipsis; the summary (the description) is what gives way to the total, down to
`DESCRIPTION_MIN` characters; below that the facts fields give way.

Schema v2's facts come as full-width fields after the short ones (facts_text.py words them):
"Insider" for a Form 3/4/5 (the owners and the main transactions), "Earnings" (the headline
figures) and "Item facts"; schema v3's as "Stake" (13D/13G), "Proposed sale" (Form 144) and
"Financials" (XBRL).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sec_digester_client import FilingAnalysis, Priority

from services.alerts.facts_text import (
    earnings_lines,
    financials_lines,
    insider_lines,
    item_fact_lines,
    sale_notice_lines,
    stake_lines,
)

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
TOTAL_MAX = 6000
# Of the total, what the summary keeps however long the facts are.
DESCRIPTION_MIN = 200

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


def _facts_fields(record: FilingAnalysis) -> list[tuple[str, str]]:
    fields = []
    if record.ownership is not None:
        fields.append(("Insider", "\n".join(insider_lines(record.ownership))))
    if record.earnings is not None and (lines := earnings_lines(record.earnings)):
        fields.append(("Earnings", "\n".join(lines)))
    if record.item_facts:
        fields.append(("Item facts", "\n".join(item_fact_lines(record.item_facts))))
    if record.stake is not None:
        fields.append(("Stake", "\n".join(stake_lines(record.stake))))
    if record.sale_notice is not None:
        fields.append(("Proposed sale", "\n".join(sale_notice_lines(record.sale_notice))))
    if record.financials is not None and record.financials.facts:
        fields.append(("Financials", "\n".join(financials_lines(record.financials))))
    return fields


def _fitted(fields: list[tuple[str, str]], budget: int) -> list[tuple[str, str]]:
    """The fields cut to fit `budget` characters in all, in order; once one has no room for
    more than a stub, it and those after it are left out."""
    fitted = []
    for name, value in fields:
        room = min(FIELD_VALUE_MAX, budget - len(name))
        if room < 20:
            break
        shown = cut(value, room)
        fitted.append((name, shown))
        budget -= len(name) + len(shown)
    return fitted


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
    facts = _fitted(
        [(name, value.strip() or "-") for name, value in _facts_fields(record)],
        TOTAL_MAX - used - min(len(description), DESCRIPTION_MIN),
    )
    used += sum(len(name) + len(value) for name, value in facts)
    description = cut(description, TOTAL_MAX - used)
    return {
        "title": title,
        "url": filing.index_url,  # the filing's index page on EDGAR
        "description": description,
        "color": _COLOURS.get(analysis.priority, _COLOURS[Priority.LOW]),
        "fields": [{"name": name, "value": value, "inline": True} for name, value in fields]
        + [{"name": name, "value": value, "inline": False} for name, value in facts],
        "footer": {"text": footer},
        "timestamp": filing.accepted_at.astimezone(dt.UTC).isoformat(),
    }


def message(record: FilingAnalysis) -> dict[str, Any]:
    """The webhook's JSON body: one embed, no pings (mentions in a summary stay text)."""
    return {"embeds": [embed(record)], "allowed_mentions": {"parse": []}}
