"""What an operator watches on the store's feeder (Prometheus)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

WRITTEN = Counter("store_records_written_total", "Records of the analyzed topic written")
TEXTS_WRITTEN = Counter("store_texts_written_total", "Records of the text topic written")
SKIPPED = Counter(
    "store_records_skipped_total",
    "Records that could not be decoded, logged and passed over, per topic",
    ["topic"],
)
LAG = Gauge(
    "store_lag_records",
    "Per topic (analyzed, text) and partition, offsets the store does not reflect yet",
    ["topic", "partition"],
)
HELD = Gauge(
    "store_held_records",
    "Analyses read and held back until their text is read (not in as_of yet)",
)
TEXTS_MISSING = Counter(
    "store_texts_missing_total",
    "Analyses stored without the text they announce: none came within STORE_TEXT_WAIT_S",
)
REBUILDS = Counter(
    "store_rebuilds_total", "Times the store was emptied to be fed again from the beginning"
)
FENCED = Counter(
    "store_writes_fenced_total",
    "Writes refused because another feeder moved the positions meanwhile (PostgreSQL: the "
    "group gave a partition to another replica); what was held of them is read again",
)
