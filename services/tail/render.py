"""How `tail` shows a filing: one line for a terminal, or one JSON object for a pipe."""

from __future__ import annotations

import datetime as dt
import json

from sec_digester_client import FilingAnalysis


def render_line(record: FilingAnalysis, width: int | None = None) -> str:
    """time, tickers, form, items, priority, sentiment, summary; cut to `width` columns."""
    filing, analysis = record.filing, record.analysis
    when = filing.accepted_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    tickers = ",".join(filing.tickers) or "-"
    # analyze's items first; ingest's (from the feed) only add what analyze did not find.
    items = ",".join(dict.fromkeys((*record.items, *filing.items))) or "-"
    summary = " ".join(analysis.summary.split())  # one line, whatever the analyzer wrote
    line = (
        f"{when}  {tickers:<6} {filing.form_type:<7} {items:<9} {analysis.priority.value:<8} "
        f"{analysis.sentiment:+.2f}  {summary}"
    )
    if width is not None and len(line) > width:
        return line[: max(width - 1, 0)] + "…"
    return line


def render_json(record: FilingAnalysis) -> str:
    """The record as the gateway served it (fields newer than this version included)."""
    return json.dumps(record.raw, ensure_ascii=False, separators=(",", ":"))
