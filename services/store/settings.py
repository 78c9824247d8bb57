"""Settings of the filings store (the gateway's, and `sec-digester store feed`'s)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from services.common.settings import CommonSettings, Port


class StoreSettings(CommonSettings):
    # The SQLite file; empty = ~/.local/share/sec-digester/<analyzed topic>.sqlite3, so
    # pipelines on other topic names never share a store.
    store_path: Path | None = None
    # Records written per database transaction, at most (with the offsets they came from).
    store_batch_size: Annotated[int, Field(ge=1, le=100_000)] = 1000
    # How often the feeder logs its progress and measures its lag while it is behind.
    store_progress_interval_s: Annotated[float, Field(gt=0)] = 5.0
    # How long an analysis that announces a text waits, once the text topic has nothing more
    # to read, before it is stored without it (feeder.py: a text retention removed, say).
    store_text_wait_s: Annotated[float, Field(ge=0)] = 10.0
    # Analyses held for their texts at most; past it the analyzed topic pauses.
    store_held_max: Annotated[int, Field(ge=1, le=1_000_000)] = 10_000

    @property
    def store_file(self) -> Path:
        if self.store_path is not None:
            return self.store_path
        return Path.home() / ".local" / "share" / "sec-digester" / f"{self.topic_analyzed}.sqlite3"


class FeederSettings(StoreSettings):
    """`sec-digester store feed`: the feeder as a process of its own, with its probes."""

    store_health_host: str = "0.0.0.0"  # noqa: S104 (probes come from outside the pod)
    store_health_port: Port = 8004
