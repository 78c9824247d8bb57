"""Process shutdown: SIGTERM and SIGINT set one event that every loop of the process watches.

Loops stop at a safe point (between polls, after a transaction commits or aborts); the entry
point then leaves its `async with` blocks, which flush and close every client.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def shutdown_event() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT (a second signal is handled the same way: no-op)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def sleep_or_stop(
    stop: asyncio.Event, seconds: float, *, wake: asyncio.Event | None = None
) -> bool:
    """Sleep, waking early on shutdown (or when `wake` is set). True if shutdown was requested."""
    if wake is None:
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True
    waiters = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())}
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    return stop.is_set()


async def until_stopped(stop: asyncio.Event, work: Coroutine[Any, Any, T]) -> T | None:
    """Run `work`; cancel it if shutdown comes first (it must be cancellation-safe)."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None
