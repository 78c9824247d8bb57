"""What an operator watches on analyze (Prometheus, served on /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RECORDS = Counter("analyze_records_total", "Raw records processed, by outcome", ["outcome"])
STAGE_SECONDS = Histogram(
    "analyze_stage_seconds",
    "Time per filing (fetch, analyze) or per batch (produce) in each stage",
    ["stage"],
    buckets=(0.001, 0.005, 0.02, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
TEXT_RECORDS = Counter(
    "analyze_text_records_total", "FilingText records committed to the text topic"
)
TEXT_BYTES = Counter(
    "analyze_text_bytes_total", "Bytes of FilingText values (Avro, before compression) committed"
)
LLM_TOKENS = Counter("analyze_llm_tokens_total", "LLM tokens paid for", ["kind"])
LLM_COST = Counter("analyze_llm_cost_usd_total", "LLM cost in USD (calls litellm can price)")
DEAD_LETTERS = Counter(
    "analyze_dead_letters_total", "Records sent to the dead-letter topic", ["error_type"]
)
CONSUMER_LAG = Gauge(
    "analyze_consumer_lag", "Records behind the end of the raw topic", ["partition"]
)
BATCHES_ABORTED = Counter("analyze_batches_aborted_total", "Transactions aborted and retried")
DEAD_LETTER_RECORDS = Gauge(
    "analyze_dead_letter_topic_records",
    "Records on the dead-letter topic (all partitions; every replica reports the same topic)",
)
