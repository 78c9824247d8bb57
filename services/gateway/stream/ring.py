"""The shared tail's recent records, addressed by sequence number.

A client that is behind but within the ring replays from memory (no Kafka read, no decoding)
and joins the live feed the moment it has read the newest record. Records are addressed by
their sequence number (how many came before them), so a reader keeps its place while the tail
appends, and learns when the records it had not read yet were overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.common.filters import RecordFacts
from services.common.positions import Positions


@dataclass(frozen=True, slots=True)
class BufferedRecord:
    partition: int
    offset: int
    facts: RecordFacts
    # The filing frame as the tail sent it; its `data` object starts at `data_start`. Kept
    # whole because it is an exact-size copy (orjson's own output reserves far more memory).
    frame: bytes
    data_start: int

    @property
    def data(self) -> bytes:
        """The record's JSON (an exact-size copy)."""
        return self.frame[self.data_start : -1]


class RecordRing:
    def __init__(self, capacity: int, start: Positions) -> None:
        self._slots: list[BufferedRecord | None] = [None] * capacity
        self.end = 0  # the sequence number of the next record
        # Per partition, the first offset the ring still holds records from.
        self.floor: Positions = dict(start)

    @property
    def start(self) -> int:
        """The sequence number of the oldest record held."""
        return max(0, self.end - len(self._slots))

    def append(self, record: BufferedRecord) -> None:
        slot = self.end % len(self._slots)
        gone = self._slots[slot]
        if gone is not None:
            self.floor[gone.partition] = gone.offset + 1
        self._slots[slot] = record
        self.end += 1

    def __getitem__(self, sequence: int) -> BufferedRecord:
        if not self.start <= sequence < self.end:
            raise IndexError(sequence)
        record = self._slots[sequence % len(self._slots)]
        assert record is not None
        return record

    def covers(self, positions: Positions) -> bool:
        """Whether every record at or after `positions` is still held."""
        return all(positions.get(p, 0) >= floor for p, floor in self.floor.items())
