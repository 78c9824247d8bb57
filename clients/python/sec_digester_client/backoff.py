"""Reconnection delays: exponential backoff with full jitter.

Full jitter (a delay drawn uniformly between 0 and the exponential bound) spreads out clients
that lost the same gateway at the same moment, so they do not all come back at once.
"""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    def __init__(
        self,
        initial_s: float,
        maximum_s: float,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self._initial_s = initial_s
        self._maximum_s = maximum_s
        self._uniform = uniform
        self.attempts = 0  # failures since the last connection that delivered something

    def bound(self) -> float:
        """The largest delay the next failure may wait."""
        # min() first: 2**attempts alone overflows a float after ~1000 failures.
        return min(self._maximum_s, self._initial_s * 2.0 ** min(self.attempts, 64))

    def next_delay(self) -> float:
        """The delay before the next attempt; each call doubles the bound, up to the maximum."""
        delay = self._uniform(0, self.bound())
        self.attempts += 1
        return delay

    def reset(self) -> None:
        self.attempts = 0
