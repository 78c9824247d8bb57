"""The tail's ring: sequence addressing, overwriting, and which positions it still covers."""

from __future__ import annotations

import pytest

from services.common.filters import RecordFacts
from services.gateway.stream.ring import BufferedRecord, RecordRing

_FACTS = RecordFacts(frozenset(), "8-K", 0, frozenset())


def _record(partition: int, offset: int) -> BufferedRecord:
    return BufferedRecord(partition, offset, _FACTS, b"{}", 0)


def test_records_are_addressed_by_sequence_until_overwritten() -> None:
    ring = RecordRing(3, {0: 10, 1: 5})
    for offset in range(10, 14):
        ring.append(_record(0, offset))
    assert (ring.start, ring.end) == (1, 4)
    assert [ring[s].offset for s in range(ring.start, ring.end)] == [11, 12, 13]
    with pytest.raises(IndexError):
        ring[0]
    with pytest.raises(IndexError):
        ring[4]


def test_covers_positions_only_while_the_records_after_them_are_held() -> None:
    ring = RecordRing(2, {0: 10, 1: 5})
    assert ring.covers({0: 10, 1: 5})
    assert not ring.covers({0: 9, 1: 5})
    ring.append(_record(1, 5))
    ring.append(_record(0, 10))
    ring.append(_record(0, 11))  # overwrites partition 1's record at offset 5
    assert not ring.covers({0: 10, 1: 5})
    assert ring.covers({0: 10, 1: 6})
    assert not ring.covers({0: 9, 1: 6})
