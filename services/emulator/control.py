"""The emulator's state and its Python API: which snapshot the feed shows, the queued faults
and the request log. The HTTP control endpoints (control_api.py) drive the same object, so
a test in this process and a service in another one see the same emulator."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from pathlib import Path

from services.emulator.faults import FaultQueue
from services.emulator.recorded import RecordedFiles
from services.emulator.request_log import RequestLog
from services.ingest.corpus import RecordedSnapshot, list_snapshots, load_recorded_snapshot
from services.ingest.daily_index import daily_index_path


class EmulatorControl:
    def __init__(self, corpus_dir: Path, snapshot: str | None = None) -> None:
        """Serve `corpus_dir`, showing `snapshot` (default: the oldest) in the feed."""
        self.corpus_dir = corpus_dir
        self.snapshots: tuple[str, ...] = tuple(list_snapshots(corpus_dir))
        self.files = RecordedFiles.from_corpus(corpus_dir)
        self.faults = FaultQueue()
        self.requests = RequestLog()
        self._lock = threading.Lock()
        self._loaded: dict[str, RecordedSnapshot] = {}
        if not self.snapshots:
            raise ValueError(f"{corpus_dir} records no getcurrent snapshot")
        self._current = self._load(snapshot or self.snapshots[0])

    @property
    def snapshot(self) -> RecordedSnapshot:
        """The snapshot the feed shows now."""
        with self._lock:
            return self._current

    def switch_snapshot(self, name: str, *, without_newest: int = 0) -> None:
        """Show another snapshot from the next request on (as if time had passed on EDGAR).

        `without_newest` leaves out its newest entries: the feed as it stood earlier that day,
        before they were accepted."""
        loaded = self._load(name)
        if without_newest:
            loaded = dataclasses.replace(loaded, entries=loaded.entries[without_newest:])
        with self._lock:
            self._current = loaded

    def publish_daily_index(self, day: dt.date, recorded_target: str) -> None:
        """Serve a recorded daily index (by its path) as the index of `day` too, as EDGAR does
        when it publishes that day's index in the evening."""
        self.files.alias(daily_index_path(day), recorded_target)

    def _load(self, name: str) -> RecordedSnapshot:
        if name not in self.snapshots:
            raise KeyError(f"no snapshot {name!r}; the corpus has {list(self.snapshots)}")
        # Loading parses every page of the snapshot; done here, in the caller's thread, so
        # that a switch never slows down the request that follows it.
        with self._lock:
            cached = self._loaded.get(name)
        if cached is None:
            cached = load_recorded_snapshot(self.corpus_dir, name)
            with self._lock:
                self._loaded[name] = cached
        return cached
