"""SEC fair access, enforced: at most N requests reach EDGAR in any one-second window.

What counts is when a request *arrives*, which the client cannot see: a request started on time
may leave late on a loaded machine. So a request holds its place in the window from the moment
it starts until its answer is back (it arrived somewhere in between), and only then does its
window begin to expire. A sliding window of those times (not a token bucket, which allows 2N
across a window boundary) then guarantees what SEC states and the tests check. A 429's
Retry-After pauses every request of the process, since SEC throttles the client, not the URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator

# A request answered in no time still counts a little longer: the emulator's and SEC's clocks
# see it a moment later than ours.
_MARGIN_S = 0.05


class RequestLimiter:
    def __init__(self, max_per_second: float) -> None:
        if max_per_second <= 0:
            raise ValueError("max_per_second must be positive")
        # A fractional rate (e.g. 2.5/s for one of two analyze replicas) becomes a longer
        # window holding a whole number of requests.
        self._window_s = max(1.0, 1.0 / max_per_second) + _MARGIN_S
        self._capacity = max(1, int(max_per_second * max(1.0, 1.0 / max_per_second)))
        # When each recent request last could have reached the server: inf while in flight.
        self._reached: list[float] = []
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause_for(self, seconds: float) -> None:
        """Hold every request until `seconds` from now (a Retry-After)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a place in the window for one request, from its start to its answer."""
        index = await self._acquire()
        try:
            yield
        finally:
            self._reached[index] = time.monotonic()

    async def _acquire(self) -> int:
        async with self._lock:
            while True:
                now = time.monotonic()
                if now < self._paused_until:
                    await asyncio.sleep(self._paused_until - now)
                    continue
                live = [i for i, t in enumerate(self._reached) if now - t < self._window_s]
                if len(live) < self._capacity:
                    free = next(
                        (i for i, t in enumerate(self._reached) if now - t >= self._window_s),
                        None,
                    )
                    if free is None:
                        self._reached.append(math.inf)
                        return len(self._reached) - 1
                    self._reached[free] = math.inf
                    return free
                oldest = min(self._reached[i] for i in live)
                # All places are in flight: check again shortly; else when the oldest expires.
                wait = 0.01 if math.isinf(oldest) else oldest + self._window_s - now
                await asyncio.sleep(wait)
