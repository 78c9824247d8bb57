"""Hypothesis profiles: `ci` (the default, a few hundred examples per property, deterministic so
a CI failure reproduces) and `fuzz` (10,000 examples per property; `make fuzz`).

Every property allows one input at most a second (`deadline`): a parser that takes longer on
some input is a finding, as much as one that raises an exception of the wrong kind.
"""

from __future__ import annotations

import datetime as dt
import os

from hypothesis import HealthCheck, settings

_COMMON = settings(
    deadline=dt.timedelta(seconds=1),
    # Real corpus pages are large inputs; generating their mutations is not what is measured.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

settings.register_profile("ci", _COMMON, max_examples=200, derandomize=True, database=None)
settings.register_profile("fuzz", _COMMON, max_examples=10_000)


def load_profile() -> None:
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
