"""What an operator watches on ingest (Prometheus, served on /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

FILINGS_EMITTED = Counter(
    "ingest_filings_emitted_total", "Filings written to the raw topic", ["form_type", "source"]
)
POLLS = Counter("ingest_polls_total", "Feed polls by outcome", ["outcome"])
PAGES_PER_POLL = Histogram(
    "ingest_pages_per_poll", "Feed pages read in one poll", buckets=(1, 2, 3, 5, 10, 20, 50, 100)
)
REJECTED_ENTRIES = Counter(
    "ingest_rejected_entries_total", "Feed entries or index lines that could not be parsed"
)
DETECTION_LATENCY = Histogram(
    "ingest_detection_latency_seconds",
    "From EDGAR acceptance to detection by ingest (live source)",
    buckets=(0.5, 1, 2, 3, 5, 10, 30, 60, 300, 900, 3600),
)
LAST_SUCCESSFUL_POLL = Gauge(
    "ingest_last_successful_poll_timestamp_seconds", "Unix time of the last poll that succeeded"
)
EMITTED_KNOWN = Gauge("ingest_emitted_accessions", "Accession numbers known to be on the raw topic")
RECONCILED_FILINGS = Counter(
    "ingest_reconciled_filings",
    "Filings the live feed had not delivered that reconciliation added from a daily index",
)
RECONCILIATIONS = Counter(
    "ingest_reconciliations_total",
    "Daily indexes checked by reconciliation, by outcome (read, unchanged, not_published, failed)",
    ["outcome"],
)
FEED_GAPS = Counter(
    "ingest_feed_gaps_total",
    "Polls that could not reach known ground (page bound reached, a deeper page failed)",
    ["reason"],
)
BACKFILL_REQUESTS = Counter(
    "ingest_backfill_requests_total",
    "Backfills handed over to this live ingest by `ingest --source index`, by outcome",
    ["outcome"],
)
