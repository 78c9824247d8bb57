"""What analyze may commit: each partition's finished prefix, never a record behind an
unfinished one of its own partition."""

from __future__ import annotations

import asyncio

import confluent_kafka
import pytest

from services.analyze.stream.in_flight import InFlight, Started
from services.common.kafka import successful

pytestmark = pytest.mark.asyncio


class Work:
    """Records in flight whose analyses finish when the test says so."""

    def __init__(self) -> None:
        self.in_flight: InFlight[str] = InFlight()
        self._gates: dict[tuple[int, int], asyncio.Event] = {}
        self._failures: set[tuple[int, int]] = set()

    def start(self, partition: int, offset: int) -> None:
        gate = self._gates[(partition, offset)] = asyncio.Event()

        async def analyze() -> str:
            await gate.wait()
            if (partition, offset) in self._failures:
                raise ConnectionError("registry unreachable")
            return f"{partition}:{offset}"

        message = successful(
            confluent_kafka.Message(topic="raw", partition=partition, offset=offset)
        )
        self.in_flight.add(("raw", partition), Started(message, asyncio.create_task(analyze())))

    async def finish(self, *records: tuple[int, int], failing: bool = False) -> None:
        for record in records:
            if failing:
                self._failures.add(record)
            self._gates[record].set()
        await asyncio.sleep(0.01)  # let the tasks run to completion

    def ready(self) -> tuple[list[str], BaseException | None]:
        ready, failure = self.in_flight.take_ready()
        return [output for _, output in ready], failure


@pytest.mark.timeout(10)
async def test_each_partition_commits_its_finished_prefix_only() -> None:
    work = Work()
    for partition, offset in [(0, 1), (0, 2), (1, 5), (1, 6)]:
        work.start(partition, offset)
    # Partition 0's first record waits (EDGAR); its second is done; partition 1 is all done.
    await work.finish((0, 2), (1, 5), (1, 6))
    assert work.ready() == (["1:5", "1:6"], None)
    assert len(work.in_flight) == 2
    await work.finish((0, 1))
    assert work.ready() == (["0:1", "0:2"], None)
    assert len(work.in_flight) == 0


@pytest.mark.timeout(10)
async def test_a_failure_stops_its_partition_and_is_reported() -> None:
    work = Work()
    for partition, offset in [(0, 1), (0, 2), (1, 5)]:
        work.start(partition, offset)
    await work.finish((0, 1), (1, 5))
    await work.finish((0, 2), failing=True)
    outputs, failure = work.ready()
    assert outputs == ["0:1", "1:5"]
    assert isinstance(failure, ConnectionError)
    assert {p: m.offset() for p, m in work.in_flight.oldest().items()} == {("raw", 0): 2}


@pytest.mark.timeout(10)
async def test_dropped_partitions_are_cancelled_and_forgotten() -> None:
    work = Work()
    for partition, offset in [(0, 1), (1, 5), (1, 6)]:
        work.start(partition, offset)
    tasks = work.in_flight.tasks()
    await work.in_flight.drop({("raw", 1)})
    assert len(work.in_flight) == 1
    assert sum(task.cancelled() for task in tasks) == 2
    assert list(work.in_flight.oldest()) == [("raw", 0)]
    await work.in_flight.drop()
    assert len(work.in_flight) == 0
    assert all(task.done() for task in tasks)
