"""The accession numbers handled most recently, to drop redeliveries.

The gateway delivers at least once across reconnects; a record redelivered after a reconnect
was handled a moment before, so a window of the last N accession numbers (least recently seen
dropped first) makes delivery exactly once at bounded memory.
"""

from __future__ import annotations

from collections import OrderedDict


class DedupeWindow:
    def __init__(self, size: int) -> None:
        self._size = size
        self._seen: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, accession_number: object) -> bool:
        return accession_number in self._seen

    def __len__(self) -> int:
        return len(self._seen)

    def add(self, accession_number: str) -> None:
        """Remember it as handled (again: it becomes the most recent)."""
        self._seen[accession_number] = None
        self._seen.move_to_end(accession_number)
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)
