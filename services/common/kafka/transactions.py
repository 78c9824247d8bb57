"""A transactional producer that outlives broker outages and its own librdkafka handle.

librdkafka sorts a transaction's errors three ways (`KafkaClientError` carries them), and each
has one answer here, the same for every transactional writer (ingest's publisher, analyze's
processor):

    retriable on commit  commit_transaction is called again: librdkafka allows it after a
                         retriable error, and the second call finishes the same transaction
    abortable            the transaction is aborted; the caller writes its batch again
                         (`Outcome.ABORTED`: nothing of the batch is on the topics)
    fatal                the handle is unusable (fenced, or a fatal idempotence error): a new
                         producer with the same transactional id runs init_transactions, which
                         ends the old one's open transaction; the caller cannot know whether its
                         batch committed and must re-read what did before it goes on
                         (`Outcome.PRODUCER_REBUILT`)

None of these gives up while Kafka is away: each retries with a backoff. What ends a process
is its outage watch (services/common/outage.py), after KAFKA_OUTAGE_TOLERANCE_S.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from enum import StrEnum
from types import TracebackType
from typing import Any, Self

import structlog

from services.common.errors import KafkaClientError
from services.common.kafka.producer import KafkaProducer
from services.common.retry import RetryPolicy

log = structlog.get_logger(__name__)

# How librdkafka (`_FENCED`) and the broker (`PRODUCER_FENCED`) say a newer producer with the
# same transactional id took over.
_FENCED_CODES = frozenset({"_FENCED", "PRODUCER_FENCED"})

Write = Callable[[KafkaProducer], Awaitable[None]]


class Outcome(StrEnum):
    COMMITTED = "committed"
    ABORTED = "aborted"  # nothing was written: write the batch again
    PRODUCER_REBUILT = "producer_rebuilt"  # unknown whether it committed: re-read, then go on


def is_fenced(error: KafkaClientError) -> bool:
    return error.code in _FENCED_CODES or "fenced" in str(error).lower()


class TransactionalProducer:
    """`async with TransactionalProducer(config) as writer: await writer.transaction(write)`.

    `rebuild_when_fenced=False` for a writer that must yield to a newer one (a backfill that a
    live ingest took over): being fenced is then raised, not answered with a new producer."""

    def __init__(
        self,
        config: dict[str, Any],
        *,
        rebuild_when_fenced: bool = True,
    ) -> None:
        if "transactional.id" not in config:
            raise ValueError("a TransactionalProducer needs a transactional.id")
        self._config = config
        self._rebuild_when_fenced = rebuild_when_fenced
        # No limit on attempts: what ends a process is its outage watch, not a count here.
        self._retry = RetryPolicy.forever(base_delay_s=0.2, max_delay_s=5.0)
        self._producer: KafkaProducer | None = None
        self.rebuilds = 0

    async def __aenter__(self) -> Self:
        self._producer = await self._open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.__aexit__(None, None, None)

    @property
    def _current(self) -> KafkaProducer:
        if self._producer is None:
            raise KafkaClientError("transactional producer is not open", retriable=False)
        return self._producer

    async def transaction(self, write: Write) -> Outcome:
        """Run `write` (enqueue records, send offsets) in one transaction and commit it."""
        producer = self._current
        try:
            await producer.begin_transaction()  # no I/O: fails only on an unusable handle
        except KafkaClientError as exc:
            if not exc.fatal:
                raise
            await self._rebuild(exc)
            return Outcome.PRODUCER_REBUILT
        try:
            await write(producer)
            await self._commit(producer)
        except KafkaClientError as exc:
            return await self._recover(producer, exc)
        except BaseException:
            # Cancelled (shutdown) or a bug in `write`: an open transaction would hold back
            # read_committed readers until it timed out.
            with contextlib.suppress(KafkaClientError):
                await asyncio.shield(producer.abort_transaction())
            raise
        return Outcome.COMMITTED

    async def _commit(self, producer: KafkaProducer) -> None:
        for attempt in self._retry.attempts():
            try:
                await producer.commit_transaction()
                return
            except KafkaClientError as exc:
                if exc.fatal or exc.abortable or not exc.retriable:
                    raise
                log.warning(
                    "committing the transaction failed; committing it again",
                    error=str(exc),
                    attempt=attempt + 1,
                )
            await asyncio.sleep(self._retry.backoff(attempt))

    async def _recover(self, producer: KafkaProducer, exc: KafkaClientError) -> Outcome:
        if exc.fatal:
            await self._rebuild(exc)
            return Outcome.PRODUCER_REBUILT
        try:
            await self._abort(producer)
        except KafkaClientError as abort_error:
            if not abort_error.fatal:
                raise
            await self._rebuild(abort_error)
            return Outcome.PRODUCER_REBUILT
        if not (exc.abortable or exc.retriable):
            raise exc  # aborted, but trying again would fail the same way
        log.warning("transaction aborted; the batch will be written again", error=str(exc))
        return Outcome.ABORTED

    async def _abort(self, producer: KafkaProducer) -> None:
        for attempt in self._retry.attempts():
            try:
                await producer.abort_transaction()
                return
            except KafkaClientError as exc:
                if exc.fatal or not exc.retriable:
                    raise
                log.warning(
                    "aborting the transaction failed; aborting it again",
                    error=str(exc),
                    attempt=attempt + 1,
                )
            await asyncio.sleep(self._retry.backoff(attempt))

    async def _rebuild(self, cause: KafkaClientError) -> None:
        if is_fenced(cause) and not self._rebuild_when_fenced:
            raise cause
        log.warning(
            "the transactional producer is unusable; starting a new one with the same "
            "transactional id",
            error=str(cause),
            transactional_id=self._config["transactional.id"],
        )
        old, self._producer = self._producer, None
        if old is not None:
            with contextlib.suppress(KafkaClientError):
                await old.__aexit__(None, None, None)
        self._producer = await self._open()
        self.rebuilds += 1

    async def _open(self) -> KafkaProducer:
        """A new handle with its transactions initialised, tried until Kafka answers."""
        for attempt in self._retry.attempts():
            try:
                return await KafkaProducer(self._config).__aenter__()
            except KafkaClientError as exc:
                if not exc.retriable:
                    raise
                log.warning(
                    "initialising transactions failed; trying again",
                    error=str(exc),
                    attempt=attempt + 1,
                )
            await asyncio.sleep(self._retry.backoff(attempt))
        raise AssertionError("unreachable: RetryPolicy.forever has no last attempt")
