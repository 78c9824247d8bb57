"""Misbehaviour the emulator can be told to show, the way EDGAR shows it to a real client.

A `Fault` applies to the next `count` requests whose path starts with `path_prefix`; faults
queue up and the oldest matching one is used first. The queue is shared between the test's
thread (which adds faults) and the server's event loop (which takes them), hence the lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from enum import StrEnum


class FaultKind(StrEnum):
    RATE_LIMITED = "429"  # 429 with Retry-After
    FORBIDDEN = "403"  # EDGAR's answer to an undeclared automated tool
    STALL = "stall"  # wait stall_seconds, then answer normally
    TRUNCATE = "truncate"  # the first half of the body, with a matching Content-Length
    MALFORMED = "malformed"  # 200 with an HTML error page where Atom or a document was asked for
    RESET = "reset"  # the TCP connection is reset without an answer


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    count: int = 1
    path_prefix: str = "/"
    retry_after: int = 1  # seconds, for RATE_LIMITED
    stall_seconds: float = 1.0  # for STALL

    def __post_init__(self) -> None:
        if self.count < 1 or self.retry_after < 0 or self.stall_seconds < 0:
            raise ValueError(f"{self!r}: count must be >= 1, delays >= 0")
        if not self.path_prefix.startswith("/"):
            raise ValueError(f"{self!r}: path_prefix must start with '/'")


class FaultQueue:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._pending.append(fault)

    def take(self, path: str) -> Fault | None:
        """The fault to apply to a request for `path`, if any; uses up one of its count."""
        with self._lock:
            for index, fault in enumerate(self._pending):
                if path.startswith(fault.path_prefix):
                    if fault.count == 1:
                        del self._pending[index]
                    else:
                        self._pending[index] = replace(fault, count=fault.count - 1)
                    return fault
        return None

    def pending(self) -> list[Fault]:
        """What is still queued, each with the count it has left."""
        with self._lock:
            return list(self._pending)

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()


# Reproductions of the pages EDGAR sends, shortened to what a client could look at.
UNDECLARED_TOOL_PAGE = b"""<!DOCTYPE html>
<html lang="en"><head><title>SEC.gov | Request Rate Threshold Exceeded</title></head>
<body><h1>Your Request Originates from an Undeclared Automated Tool</h1>
<p>To allow for equitable access to all users, SEC reserves the right to limit requests
originating from undeclared automated tools. Your request has been identified as part of a
network of automated tools outside of the acceptable policy and will be managed until action
is taken to declare your traffic.</p>
<p>Please declare your traffic by updating your user agent to include company specific
information.</p></body></html>
"""

RATE_LIMITED_PAGE = b"""<!DOCTYPE html>
<html lang="en"><head><title>SEC.gov | Too Many Requests</title></head>
<body><h1>Too Many Requests</h1><p>Please slow down and retry later.</p></body></html>
"""

ERROR_PAGE = b"""<!DOCTYPE html>
<html lang="en"><head><title>SEC.gov | File Unavailable</title>
<meta http-equiv="content-type" content="text/html; charset=utf-8"></head>
<body><p>This page is temporarily unavailable.</p>
<p>SEC.gov is undergoing maintenance. During this time, webforms will not be available.</p>
</body></html>
"""
