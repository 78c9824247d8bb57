"""SEC fair access, enforced: at most N requests in any one-second window, and a shared pause.

A sliding window of request start times (not a token bucket, which allows a burst of 2N across
a window boundary) guarantees the property SEC states and the tests check: no 1-second window
ever holds more than N requests. A 429's Retry-After pauses every request of the process, not
only the one that was refused, since SEC throttles the client, not the URL.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

_JITTER_MARGIN_S = 0.1


class RequestLimiter:
    def __init__(self, max_per_second: float) -> None:
        if max_per_second <= 0:
            raise ValueError("max_per_second must be positive")
        # A fractional rate (e.g. 2.5/s for one of two analyze replicas) becomes a longer
        # window holding a whole number of requests.
        window_s = max(1.0, 1.0 / max_per_second)
        self._capacity = max(1, int(max_per_second * window_s))
        # What counts is when requests *arrive* at SEC; network jitter can bunch two requests
        # sent a window apart, so the window we enforce is a little longer than the promise.
        self._window_s = window_s + _JITTER_MARGIN_S
        self._starts: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause_for(self, seconds: float) -> None:
        """Hold every request until `seconds` from now (a Retry-After)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    async def acquire(self) -> None:
        """Wait until one more request fits the window, then count it as started now."""
        async with self._lock:
            while True:
                now = time.monotonic()
                if now < self._paused_until:
                    await asyncio.sleep(self._paused_until - now)
                    continue
                while self._starts and now - self._starts[0] >= self._window_s:
                    self._starts.popleft()
                if len(self._starts) < self._capacity:
                    self._starts.append(now)
                    return
                await asyncio.sleep(self._starts[0] + self._window_s - now)
