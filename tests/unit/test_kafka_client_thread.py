"""ClientThread: a client's blocking calls in order on one thread, and a call that never
returns (librdkafka#5456, #5511) given up at its deadline without taking the process with it;
and the producer's poll thread, which an error raised by poll must not end.

The calls here are plain blocking functions: what is under test is the thread and the deadline,
not librdkafka (tests/integration/test_broker_faults.py meets the real hang)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time

import confluent_kafka
import pytest

from services.common.errors import KafkaClientError, UnresponsiveClientError
from services.common.kafka.boundary import ClientThread
from services.common.kafka.producer import KafkaProducer


class Client(ClientThread):
    def __init__(self) -> None:
        super().__init__("test-client")
        self.closed_by_call = False
        self.abandoned = False

    async def call(self, fn: object, *args: object, deadline_s: float | None = None) -> object:
        assert callable(fn)
        return await self._call("test call", fn, *args, deadline_s=deadline_s)

    async def _close(self) -> None:
        await self._call("close", lambda: None)
        self.closed_by_call = True

    def _abandon(self) -> None:
        self.abandoned = True


@pytest.mark.asyncio
@pytest.mark.timeout(10)
async def test_calls_run_in_order_on_one_thread_that_is_not_the_loops() -> None:
    client = Client()
    seen: list[tuple[int, str]] = []

    def record(i: int) -> int:
        time.sleep(0.01 * (3 - i))  # the first sleeps longest: order is the queue's
        seen.append((i, threading.current_thread().name))
        return i

    results = await asyncio.gather(*(client.call(record, i) for i in range(3)))
    assert results == [0, 1, 2]
    assert [i for i, _ in seen] == [0, 1, 2]
    assert {name for _, name in seen} == {"test-client"}
    await client.__aexit__(None, None, None)
    assert client.closed_by_call
    assert client.abandoned


@pytest.mark.asyncio
@pytest.mark.timeout(10)
async def test_an_exception_of_the_call_is_raised_to_its_caller() -> None:
    client = Client()

    def fail() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        await client.call(fail)
    assert await client.call(lambda: 7) == 7  # the thread goes on
    await client.__aexit__(None, None, None)


@pytest.mark.asyncio
@pytest.mark.timeout(10)
async def test_a_call_past_its_deadline_gives_the_handle_up_and_closing_does_not_wait() -> None:
    client = Client()
    release = threading.Event()
    started = time.monotonic()
    with pytest.raises(UnresponsiveClientError) as raised:
        await client.call(release.wait, deadline_s=0.2)
    assert 0.2 <= time.monotonic() - started < 2
    assert raised.value.fatal  # the owner replaces the handle
    assert not raised.value.retriable
    assert "no answer within" in str(raised.value)
    # Every later call would queue behind the stuck one: refused at once instead.
    with pytest.raises(UnresponsiveClientError, match="still inside test call"):
        await client.call(lambda: None)
    await asyncio.wait_for(client.__aexit__(None, None, None), timeout=1)
    assert not client.closed_by_call  # a close call would never have run
    assert client.abandoned
    with pytest.raises(KafkaClientError, match="is closed"):
        await client.call(lambda: None)
    release.set()  # the late answer is collected without an "exception never retrieved"
    await asyncio.sleep(0.1)


@pytest.mark.asyncio
@pytest.mark.timeout(10)
async def test_a_caller_cancelled_before_the_deadline_leaves_the_handle_usable() -> None:
    client = Client()
    release = threading.Event()
    waiting = asyncio.create_task(client.call(release.wait, deadline_s=5))
    await asyncio.sleep(0.1)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    release.set()  # the call ends; the next one runs after it
    assert await client.call(lambda: "next", deadline_s=5) == "next"
    await client.__aexit__(None, None, None)
    assert client.closed_by_call


@pytest.mark.asyncio
@pytest.mark.timeout(10)
async def test_a_call_within_its_deadline_returns_normally() -> None:
    client = Client()
    assert await client.call(lambda: "answer", deadline_s=5) == "answer"
    await client.__aexit__(None, None, None)
    assert client.closed_by_call


@pytest.mark.timeout(30)
def test_a_process_whose_client_is_stuck_inside_a_call_still_exits() -> None:
    """The stuck thread must not be joined at interpreter exit (a service's SIGTERM path)."""
    program = """
import asyncio, threading
from services.common.errors import UnresponsiveClientError
from services.common.kafka.boundary import ClientThread

class Client(ClientThread):
    async def _close(self): pass

async def main():
    client = Client("stuck")
    try:
        await client._call("wait for ever", threading.Event().wait, deadline_s=0.1)
    except UnresponsiveClientError:
        print("given up")
    await client.__aexit__(None, None, None)

asyncio.run(main())
"""
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=20, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "given up"


class _PollRaisingOnce:
    """Stands in for librdkafka's handle only where the poll thread calls it: its first poll
    raises the fatal error seen in CI after a broker outage (an abort in an invalid state)."""

    def __init__(self) -> None:
        self.polls = 0

    def poll(self, timeout: float) -> int:
        self.polls += 1
        if self.polls == 1:
            error = confluent_kafka.KafkaError(
                confluent_kafka.KafkaError.INVALID_TXN_STATE, "Failed to end transaction", True
            )
            raise confluent_kafka.KafkaException(error)
        time.sleep(timeout)
        return 0


@pytest.mark.timeout(10)
def test_the_producers_poll_thread_outlives_an_error_raised_by_poll() -> None:
    """An exception ending the thread would stop delivery reports for good (and pytest makes
    an exception that ends a thread an error)."""
    producer = KafkaProducer({"bootstrap.servers": "127.0.0.1:9"})
    handle = _PollRaisingOnce()
    producer._producer = handle  # type: ignore[assignment]
    poller = threading.Thread(target=producer._poll_forever)
    poller.start()
    deadline = time.monotonic() + 5
    while handle.polls < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert poller.is_alive()
    assert handle.polls >= 3  # it went on polling after the error
    producer._stop_polling.set()
    poller.join(timeout=5)
    assert not poller.is_alive()
