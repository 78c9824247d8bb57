"""The producer for asyncio: idempotent or transactional, delivery reports as futures.

`async with KafkaProducer(config) as producer: await producer.send(...)`; closed (flushed) in
`__aexit__` whatever happened.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from typing import Any, Self

import confluent_kafka
import structlog

from services.common.errors import KafkaClientError
from services.common.kafka.boundary import ClientThread, client_error, translate

# librdkafka's timeout for each transactional call, and how much longer we wait for it before
# giving the handle up (services/common/kafka/boundary.py: some calls ignore their timeout).
_TRANSACTION_CALL_S = 30
_TRANSACTION_DEADLINE_S = _TRANSACTION_CALL_S + 15

log = structlog.get_logger(__name__)

Headers = Sequence[tuple[str, bytes]]
OnDelivery = Callable[[confluent_kafka.KafkaError | None, confluent_kafka.Message], None]


class KafkaProducer(ClientThread):
    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(f"producer-{config.get('client.id', 'sec-digester')}")
        self._config = config
        self._producer: confluent_kafka.Producer | None = None
        self._poller: threading.Thread | None = None
        self._stop_polling = threading.Event()

    async def __aenter__(self) -> Self:
        if self._closed or self._producer is not None:
            raise KafkaClientError("a KafkaProducer cannot be reopened", retriable=False)
        self._producer = confluent_kafka.Producer(self._config)
        # Delivery reports are served by poll(); one thread does that for the whole lifetime.
        self._poller = threading.Thread(target=self._poll_forever, name=self._name, daemon=True)
        self._poller.start()
        if "transactional.id" in self._config:
            try:
                await self._transactional("init transactions", self._producer.init_transactions)
            except BaseException:
                # No `async with` body runs, so nothing else would close it (and its thread).
                await self.__aexit__(None, None, None)
                raise
        return self

    async def _close(self) -> None:
        if self._producer is not None:
            await self._call("flush", self._producer.flush, 10)
        self._stop_polling.set()
        if self._poller is not None:
            self._poller.join(timeout=5)

    def _abandon(self) -> None:
        self._stop_polling.set()  # the poller ends within its next poll

    def _poll_forever(self) -> None:
        while not self._stop_polling.is_set():
            assert self._producer is not None
            try:
                self._producer.poll(0.1)
            except confluent_kafka.KafkaException as exc:
                # A fatal error (a transaction in an invalid state after an outage, say) is
                # also raised here, on this thread, where no one would catch it: the owner meets
                # it on its next call and replaces the producer; this thread serves on till then.
                error = translate(exc, "poll")
                log.warning("producer error", error=str(error), fatal=error.fatal, code=error.code)
                self._stop_polling.wait(0.1)

    @property
    def _handle(self) -> confluent_kafka.Producer:
        if self._producer is None or self._closed:
            raise KafkaClientError("producer is not open", retriable=False)
        return self._producer

    async def send(
        self, topic: str, *, key: bytes | None, value: bytes | None, headers: Headers = ()
    ) -> confluent_kafka.Message:
        """Produce one record and wait until the broker has acknowledged it."""
        loop = asyncio.get_running_loop()
        delivered: asyncio.Future[confluent_kafka.Message] = loop.create_future()

        def on_delivery(
            error: confluent_kafka.KafkaError | None, msg: confluent_kafka.Message
        ) -> None:
            loop.call_soon_threadsafe(_settle, delivered, error, msg)

        self.enqueue(topic, key=key, value=value, headers=headers, on_delivery=on_delivery)
        return await delivered

    def enqueue(
        self,
        topic: str,
        *,
        key: bytes | None,
        value: bytes | None,
        headers: Headers = (),
        on_delivery: OnDelivery | None = None,
    ) -> None:
        """Hand a record to librdkafka without waiting; `flush` or a commit waits for it."""
        while True:
            try:
                self._handle.produce(
                    topic, value=value, key=key, headers=list(headers), on_delivery=on_delivery
                )
                return
            except BufferError:
                # The local queue is full: let the poll thread drain delivery reports.
                self._handle.poll(0.05)
            except confluent_kafka.KafkaException as exc:
                raise translate(exc, f"produce to {topic}") from exc

    async def flush(self, wait_s: float = 30) -> None:
        remaining = await self._call("flush", self._handle.flush, wait_s)
        if remaining:
            raise KafkaClientError(f"flush: {remaining} records not delivered within {wait_s}s")

    async def begin_transaction(self) -> None:
        await self._call("begin transaction", self._handle.begin_transaction)

    async def send_offsets_to_transaction(
        self, offsets: list[confluent_kafka.TopicPartition], group_metadata: object
    ) -> None:
        await self._transactional(
            "send offsets to transaction",
            self._handle.send_offsets_to_transaction,
            offsets,
            group_metadata,
        )

    async def commit_transaction(self) -> None:
        await self._transactional("commit transaction", self._handle.commit_transaction)

    async def abort_transaction(self) -> None:
        await self._transactional("abort transaction", self._handle.abort_transaction)

    async def _transactional(self, doing: str, fn: Callable[..., None], *args: Any) -> None:
        """A transactional call with librdkafka's timeout, given up if it outlives it: the
        handle is then unusable (`UnresponsiveClientError`, fatal) and is replaced."""
        await self._call(doing, fn, *args, _TRANSACTION_CALL_S, deadline_s=_TRANSACTION_DEADLINE_S)


def _settle(
    future: asyncio.Future[confluent_kafka.Message],
    error: confluent_kafka.KafkaError | None,
    msg: confluent_kafka.Message,
) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(client_error(error, f"delivery to {msg.topic()}"))
    else:
        future.set_result(msg)
