"""Quantiles of the gateway's freshness histogram (metrics.py FRESHNESS), as the MCP tool
`freshness` reports them.

Read from the registry /metrics exposes, so with several workers (prometheus multiprocess,
services/gateway/process/workers.py) they are of every worker's observations merged, as a
scrape sees them; with one process, of its own. The histogram counts since each process
started: these are quantiles over the gateway's lifetime, not over a recent window.

A quantile is found as Prometheus' histogram_quantile finds it: the bucket holding the rank
(q times the count), and linear interpolation between that bucket's lower and upper bounds by
how far into the bucket's count the rank falls (the first bucket's lower bound is 0). A rank in
the +Inf bucket cannot be interpolated: it is given as the largest finite bound, a lower bound
of the true value, and `beyond_largest_bucket` says so.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from services.gateway.metrics import FRESHNESS_NAME


@dataclass(frozen=True, slots=True)
class Quantile:
    seconds: float | None  # None when nothing was observed
    beyond_largest_bucket: bool  # the value is at least `seconds`, possibly far more


@dataclass(frozen=True, slots=True)
class FreshnessSeries:
    topic: str
    since: str  # accepted (EDGAR's acceptance) or detected (ingest's detection)
    count: int
    sum_s: float
    buckets: tuple[tuple[float, float], ...]  # (upper bound, cumulative count), +Inf last

    def quantile(self, q: float) -> Quantile:
        return quantile(q, self.buckets)


def freshness_series(registry: CollectorRegistry) -> list[FreshnessSeries]:
    """Every (topic, since) series of the histogram in `registry`, by topic and since."""
    buckets: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    sums: dict[tuple[str, str], float] = defaultdict(float)
    for family in registry.collect():
        if family.name != FRESHNESS_NAME:
            continue
        for sample in family.samples:
            series = (sample.labels["topic"], sample.labels["since"])
            if sample.name.endswith("_bucket"):
                buckets[series].append((float(sample.labels["le"]), sample.value))
            elif sample.name.endswith("_sum"):
                sums[series] += sample.value
    found = []
    for (topic, since), bounds in sorted(buckets.items()):
        ordered = tuple(sorted(bounds))
        found.append(
            FreshnessSeries(topic, since, int(ordered[-1][1]), sums[(topic, since)], ordered)
        )
    return found


def quantile(q: float, buckets: Sequence[tuple[float, float]]) -> Quantile:
    """The q-quantile (0 < q < 1) of cumulative `buckets` (upper bound, count), +Inf last."""
    if not 0 < q < 1:
        raise ValueError(f"q must be between 0 and 1, got {q}")
    total = buckets[-1][1] if buckets else 0
    if total == 0:
        return Quantile(None, beyond_largest_bucket=False)
    rank = q * total
    lower, below = 0.0, 0.0
    for upper, cumulative in buckets:
        if cumulative >= rank:
            if math.isinf(upper):
                return Quantile(lower, beyond_largest_bucket=True)
            share = (rank - below) / (cumulative - below)
            return Quantile(lower + (upper - lower) * share, beyond_largest_bucket=False)
        lower, below = upper, cumulative
    raise ValueError("the buckets' last count is not their largest")  # not cumulative
