"""Where librdkafka's errors become the project's: `KafkaClientError`, retriable as librdkafka
says. Every blocking call of a client runs through `ClientThread._call` or `off_loop`, so this
is the one place a `KafkaException` is translated.

librdkafka does its network I/O on its own threads; what blocks is only the call that waits
(consume, flush, transaction commits, metadata and offset requests). Those run off the event
loop so it never blocks.

A call may also never return, whatever timeout it was given: `send_offsets_to_transaction`
waits for ever for a group coordinator that was killed and left the cluster's metadata
(confluentinc/librdkafka#5456, the timeout is never checked; #5511, the coordinator is not
looked up again). A call made with a `deadline_s` is given up after it, and the handle is then
unusable (`UnresponsiveClientError`): its one worker thread is still inside librdkafka, so
every later call would queue behind it. Its owner replaces it, as after any fatal error.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

import confluent_kafka

from services.common.errors import KafkaClientError, UnresponsiveClientError

T = TypeVar("T")


def client_error(error: confluent_kafka.KafkaError, doing: str) -> KafkaClientError:
    return KafkaClientError(
        f"{doing}: {error.str()}",
        retriable=error.retriable(),
        code=error.name(),
        fatal=error.fatal(),
        abortable=error.txn_requires_abort(),
    )


def translate(exc: confluent_kafka.KafkaException, doing: str) -> KafkaClientError:
    error = exc.args[0] if exc.args else None
    if isinstance(error, confluent_kafka.KafkaError):
        return client_error(error, doing)
    return KafkaClientError(f"{doing}: {exc}")


async def off_loop(doing: str, fn: Callable[..., T], *args: Any) -> T:
    """A blocking call on the default thread pool (calls of a thread-safe client that may run
    side by side, e.g. admin requests of many connecting clients)."""
    try:
        return await asyncio.to_thread(fn, *args)
    except confluent_kafka.KafkaException as exc:
        raise translate(exc, doing) from exc


class _Worker:
    """One daemon thread running calls in the order given, each answered on its loop's future.

    Not a ThreadPoolExecutor: the interpreter joins those threads at exit, and a thread stuck
    inside librdkafka would then keep the process from ever exiting."""

    def __init__(self, name: str) -> None:
        self._calls: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._calls.put(_Job(loop, future, functools.partial(fn, *args)))
        return future

    def stop(self) -> None:
        """The thread ends after the calls already given (at once, if it is idle)."""
        self._calls.put(None)

    def _run(self) -> None:
        while (job := self._calls.get()) is not None:
            try:
                outcome: tuple[Any, BaseException | None] = (job.call(), None)
            except BaseException as exc:  # handed to the caller, raised there
                outcome = (None, exc)
            with contextlib.suppress(RuntimeError):  # the loop closed while the call ran
                job.loop.call_soon_threadsafe(_settle, job.future, *outcome)
            del job, outcome  # not held (a handle, a message) until the next call comes


@dataclass(frozen=True, slots=True)
class _Job:
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    call: Callable[[], Any]


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the caller was cancelled
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


class ClientThread:
    """One worker thread for the blocking calls of one librdkafka handle, so they run in the
    order they were made. A client is closed once, and cannot be reopened."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._worker = _Worker(name)
        self._closed = False
        self._stuck_in: str | None = None  # the call that outlived its deadline

    async def _call(
        self, doing: str, fn: Callable[..., T], *args: Any, deadline_s: float | None = None
    ) -> T:
        """`fn(*args)` on the worker thread; given up after `deadline_s` if one is set."""
        if self._closed:
            raise KafkaClientError(f"{doing}: {self._name} is closed", retriable=False)
        if self._stuck_in is not None:
            raise UnresponsiveClientError(
                f"{doing}: {self._name} is still inside {self._stuck_in}, which never returned"
            )
        call = self._worker.submit(fn, *args)
        try:
            if deadline_s is not None:
                try:
                    await asyncio.wait({call}, timeout=deadline_s)  # leaves `call` running
                finally:
                    if not call.done():  # past the deadline, or the caller was cancelled
                        call.cancel()  # its outcome, if it ever comes, is dropped
                if call.cancelled():
                    self._stuck_in = doing
                    raise UnresponsiveClientError(
                        f"{doing}: librdkafka gave no answer within {deadline_s:.0f}s; "
                        f"{self._name} is given up"
                    )
            return await call
        except confluent_kafka.KafkaException as exc:
            raise translate(exc, doing) from exc

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._stuck_in is None:  # else closing would queue behind the stuck call
                await self._close()
        finally:
            self._closed = True
            self._worker.stop()
            self._abandon()

    async def _close(self) -> None:
        """Close the librdkafka handle (its last blocking calls run on the worker thread)."""
        raise NotImplementedError

    def _abandon(self) -> None:
        """Stop whatever else the client runs (threads of its own) without waiting; called
        on close, and the only clean-up of a handle stuck inside librdkafka."""
