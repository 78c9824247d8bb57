"""What an operator watches on the gateway (Prometheus, served on /metrics).

With several workers (services/gateway/process/workers.py) each writes prometheus_client's
multiprocess files and /metrics merges them: counters and histograms add up, the gauges say how.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CONNECTIONS = Gauge(
    "gateway_connections", "Open streams", ["transport"], multiprocess_mode="livesum"
)
REPLAYING = Gauge(
    "gateway_replaying_clients",
    "Streams reading Kafka before joining the tail",
    multiprocess_mode="livesum",
)
DELIVERIES = Counter("gateway_deliveries_total", "Filing frames handed to clients")
SLOW_CLOSES = Counter("gateway_slow_client_closes_total", "Clients closed for falling behind")
GAPS = Counter(
    "gateway_gaps_total", "Streams that started after records they asked for were removed"
)
SUPERSEDED = Counter(
    "gateway_superseded_total",
    "Durable connections closed because a newer one with the same client_id took over",
)
ERRORS = Counter("gateway_errors_total", "Streams ended by an error, by code", ["code"])
CLIENT_LAG = Histogram(
    "gateway_client_lag_records",
    "Frames waiting in a client's queue when one is sent (how far behind clients run)",
    buckets=(0, 1, 5, 20, 100, 500, 2000, 10000),
)
FRESHNESS_NAME = "gateway_freshness_seconds"  # what services/gateway/freshness.py reads
FRESHNESS_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)
FRESHNESS = Histogram(
    FRESHNESS_NAME,
    "From EDGAR's acceptance (since=accepted) and from ingest's detection (since=detected) of a "
    "filing to its delivery to the live clients, per record",
    ["topic", "since"],
    buckets=FRESHNESS_BUCKETS,
)
TAIL_POSITION = Gauge(
    "gateway_tail_position",
    "Where the shared tail has read to: the sum over the topic's partitions of the next offset "
    "it reads (the sum of the topic's end offsets minus this is how far live clients lag)",
    ["topic"],
    multiprocess_mode="livemin",  # every worker's tail reads the whole topic: the furthest behind
)
MCP_CALLS = Counter(
    "gateway_mcp_calls_total",
    "MCP tool calls (/mcp), by tool and outcome (ok, or the error code of a refused call)",
    ["tool", "outcome"],
)
KEY_LIMIT_REFUSALS = Counter(
    "gateway_key_limit_refusals_total",
    "Streams, replays from Kafka and /mcp requests refused because their API key held its "
    "maximum of them (services/gateway/limits.py), by limit",
    ["limit"],
)
