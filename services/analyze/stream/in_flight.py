"""The records analyze is working on, and which of them may be committed.

Records are analyzed concurrently, but a partition's offsets may only move past records whose
outputs are written in the same transaction. So what is ready to commit is, per partition, the
longest run of finished records from the oldest: a filing waiting for EDGAR holds back the
later records of its own partition, never those of the others, and never the next poll.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from services.common.kafka import SuccessfulMessage

T = TypeVar("T")
Partition = tuple[str, int]  # topic, partition


@dataclass(frozen=True)
class Started(Generic[T]):
    message: SuccessfulMessage
    task: asyncio.Task[T]


class InFlight(Generic[T]):
    def __init__(self) -> None:
        self._partitions: dict[Partition, deque[Started[T]]] = {}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, partition: Partition, started: Started[T]) -> None:
        self._partitions.setdefault(partition, deque()).append(started)
        self._count += 1

    def tasks(self) -> set[asyncio.Task[T]]:
        return {started.task for queue in self._partitions.values() for started in queue}

    def take_ready(self) -> tuple[list[tuple[SuccessfulMessage, T]], BaseException | None]:
        """Each partition's finished prefix, in order, and the first failure that stopped one
        (its record and the ones after it stay)."""
        ready: list[tuple[SuccessfulMessage, T]] = []
        failure: BaseException | None = None
        for queue in self._partitions.values():
            while queue and queue[0].task.done():
                error = queue[0].task.exception()
                if error is not None:
                    failure = failure or error
                    break
                started = queue.popleft()
                ready.append((started.message, started.task.result()))
                self._count -= 1
        return ready, failure

    def oldest(self) -> dict[Partition, SuccessfulMessage]:
        """The oldest record still here, per partition: where to read again after a failure."""
        return {
            partition: queue[0].message for partition, queue in self._partitions.items() if queue
        }

    async def drop(self, partitions: Iterable[Partition] | None = None) -> None:
        """Abandon the records of `partitions` (all if None): they will be read again."""
        chosen = list(self._partitions) if partitions is None else list(partitions)
        abandoned = [s.task for p in chosen for s in self._partitions.pop(p, ())]
        self._count -= len(abandoned)
        for task in abandoned:
            task.cancel()
        await asyncio.gather(*abandoned, return_exceptions=True)
