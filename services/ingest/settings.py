"""Settings of `sec-digester ingest`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, ClassVar, Literal, Self

from pydantic import Field, model_validator

from services.common.settings import EdgarSettings, Port


class IngestSettings(EdgarSettings):
    ingest_source: Literal["live", "index", "replay"] = "live"
    ingest_date: dt.date | None = None  # index: the day (or first day of a range)
    ingest_date_to: dt.date | None = None  # index: last day of a range, inclusive
    ingest_corpus: Path | None = None  # replay: a recorded corpus directory
    # replay: how much faster than real time; filings are spaced by their acceptance times.
    ingest_speed: Annotated[float, Field(gt=0)] = 60.0
    ingest_replay_max_gap_s: Annotated[float, Field(ge=0)] = 2.0
    # live: a poll a second finds a new filing within ~2 s at one request a second.
    ingest_poll_interval_s: Annotated[float, Field(gt=0)] = 1.0
    ingest_page_size: Literal[10, 20, 40, 80, 100] = 100
    # A safety limit, far above the feed's depth (EDGAR serves ~5,000 entries, 50 pages): a poll
    # pages until known ground or the end of the feed. Reaching it counts as a gap, which the
    # daily-index reconciliation closes.
    ingest_max_pages: Annotated[int, Field(ge=1, le=1000)] = 200
    # Reconciliation against the daily index: the last N business days, re-checked this often
    # (conditional GETs: an unchanged index costs EDGAR a 304).
    ingest_reconcile_days: Annotated[int, Field(ge=1, le=30)] = 3
    ingest_reconcile_interval_s: Annotated[float, Field(gt=0)] = 300.0
    # `--source index|replay`: how long to wait for a running live ingest to answer on the
    # control topic before concluding there is none.
    ingest_handoff_timeout_s: Annotated[float, Field(gt=0)] = 5.0
    # This process's share of SEC's 10 requests/s; analyze's default share is 5.
    ingest_max_requests_per_second: Annotated[float, Field(gt=0, le=10)] = 4.0
    ingest_tickers_refresh_s: Annotated[float, Field(gt=0)] = 24 * 3600
    ingest_transactional_id: str = "sec-digester-ingest"
    ingest_health_host: str = "0.0.0.0"  # noqa: S104 (probes come from outside the pod)
    ingest_health_port: Port = 8001

    # The spelling of the flags that choose what to ingest.
    FLAG_ALIASES: ClassVar[dict[str, str]] = {
        "ingest_source": "source",
        "ingest_date": "date",
        "ingest_date_to": "date-to",
        "ingest_corpus": "corpus",
        "ingest_speed": "speed",
    }

    @property
    def uses_edgar(self) -> bool:
        return self.ingest_source != "replay"  # a replay reads files, not EDGAR

    @model_validator(mode="after")
    def _source_has_what_it_needs(self) -> Self:
        if self.ingest_source == "index" and self.ingest_date is None:
            raise ValueError("INGEST_DATE (--date) is required with --source index")
        if self.ingest_date_to and self.ingest_date and self.ingest_date_to < self.ingest_date:
            raise ValueError("INGEST_DATE_TO (--date-to) is before INGEST_DATE (--date)")
        if self.ingest_source == "replay" and (
            self.ingest_corpus is None or not (self.ingest_corpus / "manifest.jsonl").is_file()
        ):
            raise ValueError(
                "INGEST_CORPUS (--corpus) must be a recorded corpus directory (with "
                f"manifest.jsonl) for --source replay, got {self.ingest_corpus}"
            )
        return self
