"""The filings store as its users see it (the gateway, its tools, the feeder): FilingsStore,
which SQLite (sqlite.py) and PostgreSQL (postgres.py) both are, what they answer with, and
the errors they raise. services/store/opening.py opens the one the settings name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

from services.common.errors import SecDigesterError
from services.store.query import AfterQuery, StoreQuery
from services.store.rows import FilingRow, TextRow

# The positions (analyzed topic, text topic) a writer read from the store or wrote last.
ReadPositions = tuple[Mapping[int, int], Mapping[int, int]]


class StoreError(SecDigesterError):
    """The store's database failed (a full disk, a corrupt file): retriable, it may pass."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retriable=True)


class PositionsMovedError(SecDigesterError):
    """Another writer moved a partition's position since this one read it (the consumer group
    gave the partition to another replica): nothing of the write was stored. Not retriable as
    it is: the writer drops what it holds of those partitions and reads their positions again."""

    def __init__(self, moved: Mapping[str, Sequence[int]]) -> None:
        self.moved = {topic: sorted(partitions) for topic, partitions in moved.items()}
        described = "; ".join(f"{topic} {ps}" for topic, ps in self.moved.items() if ps)
        super().__init__(
            f"positions moved by another writer since they were read: {described}",
            retriable=False,
        )


@dataclass(frozen=True, slots=True)
class Page:
    filings: list[bytes]  # each a record's JSON, newest first
    next: str | None  # the `before` of the next page; None on the last one
    as_of: str  # the cursor the store reflects: /stream?from=<as_of> continues it


@dataclass(frozen=True, slots=True)
class AfterPage:
    filings: list[bytes]  # each a record's JSON, in topic order within each partition
    next: str  # the cursor after this page: the `after` of the next one
    more: bool  # whether the store holds more after `next` already
    as_of: str  # the cursor the store reflects


def moved_since(
    stored: Mapping[int, int], read: Mapping[int, int], moving: Iterable[int]
) -> list[int]:
    """The partitions among `moving` whose stored position is not the one read (a partition
    absent from both has none stored, as read)."""
    return sorted(p for p in moving if stored.get(p) != read.get(p))


def cursor_of(positions: Mapping[int, int]) -> str:
    return ",".join(f"{partition}:{offset}" for partition, offset in sorted(positions.items()))


class FilingsStore(Protocol):
    """A view of the analyzed topic (`topic`) and the text topic (`text_topic`). Opened once
    by `async with`; a store opened as a writer creates or rebuilds its tables (`rebuilt`: it
    was empty, or of another layout or topics, and is fed afresh)."""

    topic: str
    text_topic: str
    rebuilt: bool

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def positions(self) -> dict[int, int]:
        """Per partition of the analyzed topic, the next offset to read: where a feeder
        resumes."""
        ...

    async def text_positions(self) -> dict[int, int]:
        """Per partition of the text topic, the next offset to read."""
        ...

    async def waiting_texts(self) -> set[tuple[str, str]]:
        """(accession, analyzed_at) of the texts stored before their analysis."""
        ...

    async def write(
        self,
        rows: Sequence[FilingRow],
        positions: Mapping[int, int],
        texts: Sequence[TextRow] = (),
        text_positions: Mapping[int, int] | None = None,
        *,
        read: ReadPositions | None = None,
    ) -> None:
        """The texts, the rows and the positions after them (of both topics), in one
        transaction: all or nothing. A text pairs with the row of its accession and
        analyzed_at, written before or after it.

        `read`: the positions the writer read or wrote last. Each partition the write moves
        must still be at its position there (absent there: none stored), else nothing is
        written and PositionsMovedError names the partitions that moved (compare and set:
        a writer the group took a partition from cannot overwrite its new writer's work).
        None: unconditionally (tests, tools that are the only writer)."""
        ...

    async def rebuild(self, reason: str) -> None:
        """Empty the store (positions included) for a feed from the topics' beginning."""
        ...

    async def query(self, query: StoreQuery) -> Page: ...

    async def after(self, query: AfterQuery) -> AfterPage:
        """What the store holds after a cursor, a page of it, and the cursor after the page."""
        ...

    async def get(self, accession: str) -> tuple[bytes | None, str]:
        """The record's JSON (None when the store has none), and the store's `as_of`."""
        ...

    async def count(self) -> int: ...
