"""One writer for the raw topic: a backfill started beside a live ingest is handed over to it.

Exactly-once emission needs one writer with one memory of what it emitted. Two processes with
two emitted sets (a live ingest and `ingest --source index`) could both find the same filing
missing and both publish it, whatever each reads back from the topic: Kafka transactions of two
producers do not exclude each other. So every source runs under the one transactional id
(`INGEST_TRANSACTIONAL_ID`), and a process that is not the live ingest first asks on the control
topic (`TOPIC_INGEST_CONTROL`, one partition, JSON records keyed by request id) whether a live
ingest is running:

    index/replay -> {"type": "backfill", "id", "first_day", "last_day"}  (or "ping")
    live         -> {"type": "accepted", "id"}, then per day {"type": "day", "id", "day",
                    "status", "listed", "added"}, then {"type": "done", "id", "added"}
                    or {"type": "failed", "id", "error"}

A live ingest answers at once and runs the backfill as one more task of its own process, through
its own publisher. With no answer within `INGEST_HANDOFF_TIMEOUT_S` there is no live ingest; the
backfill (or replay) then initialises the shared transactional id itself. A live ingest started
after that fences it, and the backfill exits saying so; either way no filing is written twice.
A replay is refused while a live ingest runs: recorded filings do not belong in a live topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import confluent_kafka
import orjson
import structlog

from services.common.errors import SecDigesterError
from services.common.kafka import KafkaConsumer, KafkaProducer, consumer_config, producer_config
from services.common.settings import CommonSettings
from services.ingest.metrics import BACKFILL_REQUESTS
from services.ingest.reconcile import DayOutcome

log = structlog.get_logger(__name__)

# A backfill of old days first reads the raw topic since then; it reports nothing meanwhile.
_SILENCE_LIMIT_S = 900.0

Message = dict[str, Any]
RunBackfill = Callable[[dt.date, dt.date, Callable[[DayOutcome], Awaitable[None]]], Awaitable[int]]


class HandoffError(SecDigesterError):
    """The live ingest took a backfill and then failed it, or stopped answering."""


@dataclass(frozen=True, slots=True)
class HandedOver:
    added: int


class ControlChannel:
    """The control topic, read from where it stood when the channel opened, or from what was
    written in the last `look_back_s` seconds before that."""

    def __init__(self, settings: CommonSettings, role: str, *, look_back_s: float = 0) -> None:
        self._topic = settings.topic_ingest_control
        self._look_back_s = look_back_s
        self._producer = KafkaProducer(producer_config(settings, client_id=f"ingest-{role}"))
        self._consumer = KafkaConsumer(consumer_config(settings, client_id=f"ingest-{role}"))

    async def __aenter__(self) -> ControlChannel:
        await self._producer.__aenter__()
        await self._consumer.__aenter__()
        try:
            await self._start_at_end()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def _start_at_end(self) -> None:
        await self._consumer.partitions(self._topic, setting="TOPIC_INGEST_CONTROL")
        # An explicit offset, not OFFSET_END: that would be resolved later, and a request
        # written in between would be skipped.
        partition = confluent_kafka.TopicPartition(self._topic, 0)
        _, end = await self._consumer.watermarks(partition, wait_s=10)
        start = end
        if self._look_back_s:
            since_ms = int((time.time() - self._look_back_s) * 1000)
            [found] = await self._consumer.offsets_for_times(
                [confluent_kafka.TopicPartition(self._topic, 0, since_ms)], wait_s=10
            )
            start = found.offset if found.offset >= 0 else end
        await self._consumer.assign([confluent_kafka.TopicPartition(self._topic, 0, start)])

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            await self._consumer.__aexit__(None, None, None)
        finally:
            await self._producer.__aexit__(None, None, None)

    async def send(self, message: Message) -> None:
        await self._producer.send(
            self._topic, key=str(message["id"]).encode(), value=orjson.dumps(message)
        )

    async def receive(self, wait_s: float) -> list[Message]:
        messages = []
        for record in await self._consumer.consume(max_records=100, wait_s=wait_s):
            try:
                decoded = orjson.loads(record.value() or b"")
            except orjson.JSONDecodeError:
                log.warning("control record is not JSON", offset=record.offset())
                continue
            if isinstance(decoded, dict):
                messages.append(decoded)
        return messages


async def ask_live_ingest(
    settings: CommonSettings, request: Message, timeout_s: float
) -> AsyncGenerator[Message]:
    """Send `request`; yield the live ingest's answers to it. Yields nothing when none answers
    within `timeout_s`; raises `HandoffError` when it falls silent after answering."""
    async with ControlChannel(settings, "requester") as channel:
        await channel.send(request)
        deadline, answered = time.monotonic() + timeout_s, False
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if not answered:
                    return
                raise HandoffError(
                    f"the live ingest stopped answering request {request['id']} on "
                    f"{settings.topic_ingest_control}; run the command again"
                )
            for message in await channel.receive(min(remaining, 0.5)):
                if message.get("id") != request["id"] or message.get("type") == request["type"]:
                    continue
                answered, deadline = True, time.monotonic() + _SILENCE_LIMIT_S
                yield message
                if message.get("type") in ("done", "failed", "owner"):
                    return


async def live_ingest_running(settings: CommonSettings, timeout_s: float) -> bool:
    ping = {"type": "ping", "id": uuid.uuid4().hex}
    async with contextlib.aclosing(ask_live_ingest(settings, ping, timeout_s)) as answers:
        async for _ in answers:
            return True
    return False


async def hand_over_backfill(
    settings: CommonSettings,
    first_day: dt.date,
    last_day: dt.date,
    timeout_s: float,
    on_day: Callable[[Message], None],
) -> HandedOver | None:
    """Have a running live ingest backfill the days; None when no live ingest answered."""
    request = {
        "type": "backfill",
        "id": uuid.uuid4().hex,
        "first_day": first_day.isoformat(),
        "last_day": last_day.isoformat(),
    }
    async with contextlib.aclosing(ask_live_ingest(settings, request, timeout_s)) as answers:
        async for answer in answers:
            match answer.get("type"):
                case "accepted":
                    log.info("backfill handed over to the running live ingest", id=request["id"])
                case "day":
                    on_day(answer)
                case "done":
                    return HandedOver(added=int(answer.get("added", 0)))
                case "failed":
                    error = answer.get("error")
                    raise HandoffError(f"the live ingest failed the backfill: {error}")
    return None


class ControlListener:
    """The live ingest's side: answer at once, and run handed-over backfills one at a time on
    a task of their own (so a ping is answered while a long backfill runs)."""

    def __init__(
        self, settings: CommonSettings, run_backfill: RunBackfill, *, look_back_s: float
    ) -> None:
        self._settings = settings
        self._run_backfill = run_backfill
        # A requester waits this long for an answer: what it asked while this process was
        # starting is still answered.
        self._look_back_s = look_back_s

    async def run(self, stop: asyncio.Event) -> None:
        async with ControlChannel(self._settings, "live", look_back_s=self._look_back_s) as channel:
            queue: asyncio.Queue[tuple[str, dt.date, dt.date]] = asyncio.Queue()
            worker = asyncio.create_task(self._work(channel, queue))
            try:
                while not stop.is_set() and not worker.done():
                    for message in await channel.receive(0.5):
                        await self._answer(channel, message, queue)
            finally:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker

    async def _answer(
        self,
        channel: ControlChannel,
        message: Message,
        queue: asyncio.Queue[tuple[str, dt.date, dt.date]],
    ) -> None:
        kind, request_id = message.get("type"), str(message.get("id"))
        if kind == "ping":
            await channel.send({"type": "owner", "id": request_id})
        elif kind == "backfill":
            try:
                first = dt.date.fromisoformat(str(message["first_day"]))
                last = dt.date.fromisoformat(str(message["last_day"]))
            except (KeyError, ValueError) as exc:
                BACKFILL_REQUESTS.labels(outcome="refused").inc()
                error = f"bad request: {exc}"
                await channel.send({"type": "failed", "id": request_id, "error": error})
                return
            await channel.send({"type": "accepted", "id": request_id})
            log.info(
                "backfill handed over", id=request_id, first_day=str(first), last_day=str(last)
            )
            queue.put_nowait((request_id, first, last))

    async def _work(
        self, channel: ControlChannel, queue: asyncio.Queue[tuple[str, dt.date, dt.date]]
    ) -> None:
        while True:
            request_id, first, last = await queue.get()

            async def report(outcome: DayOutcome, request_id: str = request_id) -> None:
                await channel.send(
                    {
                        "type": "day",
                        "id": request_id,
                        "day": outcome.day.isoformat(),
                        "status": outcome.status.value,
                        "listed": outcome.listed,
                        "added": outcome.added,
                    }
                )

            try:
                added = await self._run_backfill(first, last, report)
            except SecDigesterError as exc:
                log.warning("handed-over backfill failed", id=request_id, error=str(exc))
                BACKFILL_REQUESTS.labels(outcome="failed").inc()
                await channel.send({"type": "failed", "id": request_id, "error": str(exc)})
                continue
            BACKFILL_REQUESTS.labels(outcome="done").inc()
            await channel.send({"type": "done", "id": request_id, "added": added})
