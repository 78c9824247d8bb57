"""What every backend of the filings store answers with, and the errors it raises."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.common.errors import SecDigesterError


class StoreError(SecDigesterError):
    """The store's database failed (a full disk, a corrupt file): retriable, it may pass."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retriable=True)


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


def cursor_of(positions: Mapping[int, int]) -> str:
    return ",".join(f"{partition}:{offset}" for partition, offset in sorted(positions.items()))
