"""The freshness quantiles (services/gateway/freshness.py) of the histogram as /metrics exposes
it: interpolated within buckets, and, with several workers, over every worker's observations
merged from prometheus' multiprocess files (two real processes write them here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from services.gateway.freshness import freshness_series, quantile

REPOSITORY = Path(__file__).resolve().parents[2]
# A worker: the gateway's own histogram, in multiprocess mode (the directory set before the
# metrics module is imported, as services/gateway/process/workers.py does for its workers).
_WORKER = """
import sys
from services.gateway.metrics import FRESHNESS
for seconds in sys.argv[1:]:
    FRESHNESS.labels(topic="sec.filings.analyzed", since="accepted").observe(float(seconds))
"""


def test_a_quantile_is_interpolated_within_its_bucket() -> None:
    buckets = [(1.0, 4.0), (2.0, 4.0), (10.0, 8.0), (float("inf"), 10.0)]
    # Rank 5 of 10: the first of the four in (2, 10]: a quarter of the way.
    assert quantile(0.5, buckets).seconds == pytest.approx(4.0)
    # Rank 2: half of the first bucket's 4, from 0.
    assert quantile(0.2, buckets).seconds == pytest.approx(0.5)
    # Rank 9.5: in +Inf: the largest finite bound, a lower bound.
    past = quantile(0.95, buckets)
    assert (past.seconds, past.beyond_largest_bucket) == (10.0, True)
    assert quantile(0.5, [(1.0, 0.0), (float("inf"), 0.0)]).seconds is None


def test_several_workers_observations_are_merged(tmp_path: Path) -> None:
    environment = os.environ | {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for observed in (["0.3"] * 10, ["1.5"] * 10):
        subprocess.run(
            [sys.executable, "-c", _WORKER, *observed],
            env=environment,
            cwd=REPOSITORY,
            check=True,
            timeout=60,
        )
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(tmp_path))  # type: ignore[no-untyped-call]
    (series,) = freshness_series(registry)
    assert (series.topic, series.since, series.count) == ("sec.filings.analyzed", "accepted", 20)
    assert series.sum_s == pytest.approx(18.0)
    # As from one process: p50 at the top of (0.25, 0.5], p95 nine tenths into (1, 2].
    assert series.quantile(0.5).seconds == pytest.approx(0.5)
    assert series.quantile(0.95).seconds == pytest.approx(1.9)
