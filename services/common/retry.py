"""How often and how patiently an operation is tried again: one policy type for EDGAR requests,
LLM calls, analyze's processing loop and alerts' webhooks.

A policy with `max_attempts=None` retries for as long as it takes (`RetryPolicy.forever`): the
loops that hold a record until its destination takes it (analyze's transaction, an alert's
sink) give up only on shutdown, never after a count.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int | None = 5  # None: no limit
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0

    @classmethod
    def forever(cls, *, base_delay_s: float = 0.5, max_delay_s: float = 30.0) -> RetryPolicy:
        return cls(max_attempts=None, base_delay_s=base_delay_s, max_delay_s=max_delay_s)

    def attempts(self) -> Iterator[int]:
        """0, 1, 2, ... up to the limit (for ever without one)."""
        return iter(range(self.max_attempts)) if self.max_attempts else itertools.count()

    def allows_another(self, attempt: int) -> bool:
        """Whether the attempt after `attempt` (0-based) is allowed."""
        return self.max_attempts is None or attempt + 1 < self.max_attempts

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2^attempt)]."""
        # The exponent is capped: 2**attempt of a long outage's attempt count would overflow.
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** min(attempt, 62))
        return random.uniform(0, ceiling)  # noqa: S311 (jitter, not security)
