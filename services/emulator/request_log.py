"""What clients asked the emulator, so a test can check the client's manners: at most
10 requests in any second (SEC fair access), a declared User-Agent, backing off after a 429."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from dataclasses import dataclass, replace
from typing import Any

from services.emulator.faults import FaultKind


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    monotonic: float  # time.monotonic() when the request arrived, for intervals
    wall_time: dt.datetime  # UTC, when the request arrived
    method: str
    target: str  # path and query, as sent
    user_agent: str | None
    status: int | None  # None until answered, and for ever if the connection was reset
    fault: FaultKind | None  # the fault applied to it, if any

    def to_json(self) -> dict[str, Any]:
        return {
            "monotonic": self.monotonic,
            "wall_time": self.wall_time.isoformat(),
            "method": self.method,
            "target": self.target,
            "user_agent": self.user_agent,
            "status": self.status,
            "fault": self.fault.value if self.fault else None,
        }


class RequestLog:
    """Requests are logged when they arrive, so a request the client gave up on is there
    too; `answered` fills in the status when the answer starts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[int, LoggedRequest] = {}  # by arrival number, in arrival order
        self._arrivals = itertools.count()

    def arrive(self, request: LoggedRequest) -> int:
        """Log a request that has just arrived; returns its number for `answered`."""
        with self._lock:
            number = next(self._arrivals)
            self._requests[number] = request
            return number

    def answered(self, number: int, status: int) -> None:
        with self._lock:
            if number in self._requests:  # not cleared in the meantime
                self._requests[number] = replace(self._requests[number], status=status)

    def snapshot(self) -> list[LoggedRequest]:
        """Every request so far, in order of arrival."""
        with self._lock:
            return list(self._requests.values())

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    def max_in_window(self, seconds: float = 1.0) -> int:
        """The largest number of requests that arrived within any `seconds`-long window."""
        arrivals = [request.monotonic for request in self.snapshot()]
        most, first = 0, 0
        for last, arrival in enumerate(arrivals):
            while arrival - arrivals[first] >= seconds:
                first += 1
            most = max(most, last - first + 1)
        return most
