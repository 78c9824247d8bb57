"""A progress line on stderr while an export runs, and the summary line when it ends.

On a terminal the line is redrawn in place at most a few times a second; when stderr is not a
terminal (a pipe, a log file, CI) nothing is drawn and only the summary is printed, so logs do
not fill with carriage returns.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

_REDRAW_S = 0.2


class Progress:
    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self.total = total  # offsets to cover
        self.covered = 0
        self.records = 0
        self._stream = stream
        self._live = stream.isatty()
        self._started = time.monotonic()
        self._drawn = 0.0

    def advance(self, offsets: int) -> None:
        self.covered += offsets
        now = time.monotonic()
        if self._live and now - self._drawn >= _REDRAW_S:
            self._drawn = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        share = self.covered / self.total if self.total else 1.0
        width = 30
        bar = "#" * int(share * width)
        rate = self.records / max(now - self._started, 1e-9)
        self._stream.write(
            f"\r[{bar:<{width}}] {share:6.1%} {self.records:,} records {rate:,.0f}/s"
        )
        self._stream.flush()

    def finish(self, summary: str) -> None:
        if self._live:
            self._draw(time.monotonic())
            self._stream.write("\n")
        elapsed = time.monotonic() - self._started
        self._stream.write(f"{summary} in {elapsed:.1f}s\n")
        self._stream.flush()
