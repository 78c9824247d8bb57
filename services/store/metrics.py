"""What an operator watches on the store's feeder (Prometheus)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

WRITTEN = Counter("store_records_written_total", "Records of the analyzed topic written")
SKIPPED = Counter(
    "store_records_skipped_total", "Records that could not be decoded, logged and passed over"
)
LAG = Gauge(
    "store_lag_records",
    "Per partition, offsets of the analyzed topic the store does not reflect yet",
    ["partition"],
)
REBUILDS = Counter(
    "store_rebuilds_total", "Times the store was emptied to be fed again from the beginning"
)
