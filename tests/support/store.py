"""A filings store (services/store) on a real SQLite file, holding given records."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from services.store.rows import FilingRow
from services.store.sqlite import SqliteStore


@asynccontextmanager
async def store_of(
    path: Path, records: list[dict[str, Any]], topic: str = "sec.filings.analyzed"
) -> AsyncIterator[SqliteStore]:
    """The records (decoded, as from the topic) at offsets 0, 1, ... of partition 0."""
    async with SqliteStore(path, topic, "sec.filings.text") as store:
        rows = [FilingRow.of(0, offset, record) for offset, record in enumerate(records)]
        await store.write(rows, {0: len(rows)})
        yield store
