"""Kafka clients for asyncio, on confluent-kafka (librdkafka).

librdkafka does its network I/O on its own threads; what blocks is only the call that waits
(consume, flush, transaction commits). Those run on one worker thread per client so the event
loop never blocks, and delivery reports come back to the loop as futures. Each client is an
async context manager, closed in `__aexit__` whatever happened, and cannot be reopened.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, Self, TypeVar

import confluent_kafka
from confluent_kafka.admin import AdminClient

from services.common.errors import KafkaClientError
from services.common.logging import LIBRDKAFKA_LOGGER
from services.common.settings import CommonSettings

T = TypeVar("T")
Headers = Sequence[tuple[str, bytes]]
KafkaErrorOrNone = confluent_kafka.KafkaError | None


def connection_config(settings: CommonSettings) -> dict[str, Any]:
    """The librdkafka settings shared by every client: where the brokers are, how to log in,
    and where librdkafka's log lines go (our logs, as structured events, not its own stderr)."""
    config: dict[str, Any] = {
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "security.protocol": settings.kafka_security_protocol,
        "logger": LIBRDKAFKA_LOGGER,
    }
    if settings.kafka_sasl_mechanism:
        config["sasl.mechanism"] = settings.kafka_sasl_mechanism
        config["sasl.username"] = settings.kafka_sasl_username
        config["sasl.password"] = (
            settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else ""
        )
    if settings.kafka_ssl_ca_location:
        config["ssl.ca.location"] = settings.kafka_ssl_ca_location
    return config


def producer_config(
    settings: CommonSettings, *, client_id: str, transactional_id: str | None = None
) -> dict[str, Any]:
    """Idempotent, acks=all; transactional when a transactional id is given."""
    config = connection_config(settings) | {
        "client.id": client_id,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "compression.type": "zstd",
    }
    if transactional_id:
        config["transactional.id"] = transactional_id
    return config


def consumer_config(
    settings: CommonSettings, *, client_id: str, group_id: str | None = None
) -> dict[str, Any]:
    """Manual commits and read_committed, so aborted transactions are never seen."""
    return connection_config(settings) | {
        "client.id": client_id,
        # librdkafka requires a group id even for assign()-only consumers; it is unused then.
        "group.id": group_id or f"{client_id}.unused",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
    }


def translate(exc: confluent_kafka.KafkaException, doing: str) -> KafkaClientError:
    error = exc.args[0] if exc.args else None
    if isinstance(error, confluent_kafka.KafkaError):
        return KafkaClientError(f"{doing}: {error.str()}", retriable=error.retriable())
    return KafkaClientError(f"{doing}: {exc}")


def probe_broker(config: dict[str, Any], wait_s: float) -> int:
    """Blocking metadata request; the number of brokers that answered. For health checks."""
    try:
        # A refused connection is the expected answer while a broker starts: no log lines.
        metadata = AdminClient(config | {"log_level": 0}).list_topics(timeout=wait_s)
    except confluent_kafka.KafkaException as exc:
        raise translate(exc, f"metadata request to {config['bootstrap.servers']}") from exc
    if not metadata.brokers:
        raise KafkaClientError(f"{config['bootstrap.servers']} answered with no brokers")
    return len(metadata.brokers)


class _ClientBase:
    """One worker thread for the blocking calls of one librdkafka handle."""

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


class KafkaProducer(_ClientBase):
    """`async with KafkaProducer(config) as producer: await producer.send(...)`."""

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
            await self._call("init transactions", self._producer.init_transactions, 30)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._producer is not None:
                await self._call("flush", self._producer.flush, 10)
        finally:
            self._stop_polling.set()
            if self._poller is not None:
                self._poller.join(timeout=5)
            self._closed = True
            self._executor.shutdown(wait=False)

    def _poll_forever(self) -> None:
        while not self._stop_polling.is_set():
            assert self._producer is not None
            self._producer.poll(0.1)

    @property
    def handle(self) -> confluent_kafka.Producer:
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
        on_delivery: Callable[[confluent_kafka.KafkaError | None, confluent_kafka.Message], None]
        | None = None,
    ) -> None:
        """Hand a record to librdkafka without waiting; `flush` or a commit waits for it."""
        while True:
            try:
                self.handle.produce(
                    topic, value=value, key=key, headers=list(headers), on_delivery=on_delivery
                )
                return
            except BufferError:
                # The local queue is full: let the poll thread drain delivery reports.
                self.handle.poll(0.05)
            except confluent_kafka.KafkaException as exc:
                raise translate(exc, f"produce to {topic}") from exc

    async def flush(self, wait_s: float = 30) -> None:
        remaining = await self._call("flush", self.handle.flush, wait_s)
        if remaining:
            raise KafkaClientError(f"flush: {remaining} records not delivered within {wait_s}s")

    async def begin_transaction(self) -> None:
        await self._call("begin transaction", self.handle.begin_transaction)

    async def send_offsets_to_transaction(
        self, offsets: list[confluent_kafka.TopicPartition], group_metadata: object
    ) -> None:
        await self._call(
            "send offsets to transaction",
            self.handle.send_offsets_to_transaction,
            offsets,
            group_metadata,
            30,
        )

    async def commit_transaction(self) -> None:
        await self._call("commit transaction", self.handle.commit_transaction, 30)

    async def abort_transaction(self) -> None:
        await self._call("abort transaction", self.handle.abort_transaction, 30)


def _available(
    consumer: confluent_kafka.Consumer, max_records: int, wait_s: float
) -> list[confluent_kafka.Message]:
    """librdkafka's batch consume waits for a full batch or the timeout: at low rates every
    record would sit out the timeout. Wait for the first record only, then take what is there."""
    first = consumer.poll(wait_s)
    if first is None:
        return []
    return [first, *consumer.consume(max_records - 1, 0)] if max_records > 1 else [first]


def _settle(
    future: asyncio.Future[confluent_kafka.Message],
    error: confluent_kafka.KafkaError | None,
    msg: confluent_kafka.Message,
) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(
            KafkaClientError(
                f"delivery to {msg.topic()}: {error.str()}", retriable=error.retriable()
            )
        )
    else:
        future.set_result(msg)


class KafkaConsumer(_ClientBase):
    """`async with KafkaConsumer(config) as consumer: batch = await consumer.consume()`."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(f"consumer-{config.get('client.id', 'sec-digester')}")
        self._config = config
        self._consumer: confluent_kafka.Consumer | None = None

    async def __aenter__(self) -> Self:
        if self._closed or self._consumer is not None:
            raise KafkaClientError("a KafkaConsumer cannot be reopened", retriable=False)
        self._consumer = confluent_kafka.Consumer(self._config)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._consumer is not None:
                await self._call("close consumer", self._consumer.close)
        finally:
            self._closed = True
            self._executor.shutdown(wait=False)

    @property
    def handle(self) -> confluent_kafka.Consumer:
        if self._consumer is None or self._closed:
            raise KafkaClientError("consumer is not open", retriable=False)
        return self._consumer

    async def run(self, doing: str, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking call of the underlying consumer (`consumer.handle.x`) off the loop."""
        return await self._call(doing, fn, *args)

    async def consume(
        self, max_records: int = 500, wait_s: float = 0.5
    ) -> list[confluent_kafka.Message]:
        """What is available, up to `max_records`, waiting at most `wait_s` for the first one.

        Partition EOF is passed through; other per-message errors are raised."""
        messages: list[confluent_kafka.Message] = await self._call(
            "consume", _available, self.handle, max_records, wait_s
        )
        for message in messages:
            error = message.error()
            if error is not None and error.code() != confluent_kafka.KafkaError._PARTITION_EOF:
                raise KafkaClientError(f"consume: {error.str()}", retriable=error.retriable())
        return messages
