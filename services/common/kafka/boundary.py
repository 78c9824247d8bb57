"""Where librdkafka's errors become the project's: `KafkaClientError`, retriable as librdkafka
says. Every blocking call of a client runs through `ClientThread._call` or `off_loop`, so this
is the one place a `KafkaException` is translated.

librdkafka does its network I/O on its own threads; what blocks is only the call that waits
(consume, flush, transaction commits, metadata and offset requests). Those run off the event
loop so it never blocks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

import confluent_kafka

from services.common.errors import KafkaClientError

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


class ClientThread:
    """One worker thread for the blocking calls of one librdkafka handle, so they run in the
    order they were made. A client is closed once, and cannot be reopened."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._closed = False

    async def _call(self, doing: str, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise KafkaClientError(f"{doing}: {self._name} is closed", retriable=False)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fn, *args)
        except confluent_kafka.KafkaException as exc:
            raise translate(exc, doing) from exc

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self._close()
        finally:
            self._closed = True
            self._executor.shutdown(wait=False)

    async def _close(self) -> None:
        """Close the librdkafka handle (its last blocking calls run on the worker thread)."""
        raise NotImplementedError
