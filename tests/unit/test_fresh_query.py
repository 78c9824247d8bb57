"""`FreshQuery`: callers asking at once share requests, and each is answered by a request that
started after it asked."""

from __future__ import annotations

import asyncio

import pytest

from services.common.positions import FreshQuery, Positions

pytestmark = pytest.mark.asyncio


class Broker:
    """Answers each request with the number of requests started so far, when released."""

    def __init__(self) -> None:
        self.started = 0
        self.release = asyncio.Event()
        self.fail = False

    async def ends(self) -> Positions:
        self.started += 1
        number = self.started
        await self.release.wait()
        self.release.clear()
        if self.fail:
            raise RuntimeError("broker down")
        return {0: number}


async def settle() -> None:
    """Let every ready task run its next steps."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_callers_at_once_share_one_request_and_later_ones_the_next() -> None:
    broker = Broker()
    query = FreshQuery(broker.ends)
    first = [asyncio.create_task(query()) for _ in range(50)]
    await settle()
    assert broker.started == 1
    # Asked while the first request is under way: answered by the next one, not that one.
    later = [asyncio.create_task(query()) for _ in range(50)]
    await settle()
    broker.release.set()
    assert {tuple((await t).items()) for t in first} == {((0, 1),)}
    await settle()
    assert broker.started == 2
    broker.release.set()
    assert {tuple((await t).items()) for t in later} == {((0, 2),)}
    assert broker.started == 2


async def test_a_failed_request_fails_its_callers_and_the_next_caller_asks_again() -> None:
    broker = Broker()
    query = FreshQuery(broker.ends)
    broker.fail = True
    waiting = [asyncio.create_task(query()) for _ in range(3)]
    await settle()
    broker.release.set()
    for task in waiting:
        with pytest.raises(RuntimeError, match="broker down"):
            await task
    broker.fail = False
    again = asyncio.create_task(query())
    await settle()
    broker.release.set()
    assert await again == {0: 2}


async def test_a_caller_that_goes_does_not_cancel_the_request_of_the_others() -> None:
    broker = Broker()
    query = FreshQuery(broker.ends)
    leaving, staying = asyncio.create_task(query()), asyncio.create_task(query())
    await settle()
    leaving.cancel()
    broker.release.set()
    assert await staying == {0: 1}
