"""The gateway's lifespan: opens everything the app serves from, yields it, closes it after.

It opens the registry client, one shared tail consumer per topic (analyzed, raw), the admin
client (offsets of partitions), the pool of consumers that commit and read durable client
positions (services/common/kafka/group_offsets.py), the filings store REST answers from (and,
in the process that feeds it, the store's feeder: services/store), the MCP session manager
that serves /mcp's tools over that store and the metrics (transports/mcp.py; its task group
runs here, for the app's lifetime), and fills the tails' rings from the recent end of each topic
(services/gateway/stream/warmup.py) before the tail takes over from exactly where that stopped.
What the endpoints use is yielded as the lifespan state (services/gateway/state.py); the
readiness probe asks the lifespan whether its tails still run.

While Kafka is away the gateway keeps its clients: the tails and replays poll on (librdkafka
reconnects by itself), acknowledgements stay pending, /readyz answers 503. Only an outage
longer than KAFKA_OUTAGE_TOLERANCE_S ends it: the outage watch then asks uvicorn to shut down
(as SIGTERM does) and `gave_up` says why, for `run_gateway` to exit non-zero with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import structlog
from prometheus_client import REGISTRY, CollectorRegistry
from starlette.applications import Starlette

from services.common.avro import AvroCodec
from services.common.errors import KafkaOutageError
from services.common.kafka import (
    GroupOffsets,
    KafkaAdmin,
    KafkaConsumer,
    connection_config,
    consumer_config,
)
from services.common.outage import watch_kafka_outages
from services.common.positions import PositionResolver, format_cursor
from services.common.registry import RegistryClient, open_registry, subject_for
from services.common.schemas import SchemaName
from services.gateway.limits import KeyLimits
from services.gateway.settings import GatewaySettings
from services.gateway.state import GatewayState
from services.gateway.stream.acks import AckCommitter
from services.gateway.stream.fanout import TopicTail, buffer_record
from services.gateway.stream.ring import RecordRing
from services.gateway.stream.streams import Streams, TopicStream
from services.gateway.stream.transcoding import TranscoderPool
from services.gateway.stream.warmup import read_recent, recent_starts
from services.gateway.tools import GatewayTools
from services.gateway.transports.mcp import mcp_sessions
from services.store.feeder import FeederTopics, StoreFeeder, feeder_config
from services.store.opening import open_store

log = structlog.get_logger(__name__)


class GatewayLifespan:
    """Starlette's `lifespan` for one app: call it with the app for the context it runs in."""

    def __init__(self, settings: GatewaySettings, metrics: CollectorRegistry = REGISTRY) -> None:
        """`metrics`: what /metrics exposes, which the freshness tool reads (every worker's)."""
        self._settings = settings
        self._metrics = metrics
        self._tails: list[TopicTail] = []
        self.gave_up: KafkaOutageError | None = None

    def tails_running(self) -> bool:
        """Readiness: every shared tail follows its topic (none does before start-up ends)."""
        return bool(self._tails) and all(tail.running for tail in self._tails)

    @contextlib.asynccontextmanager
    async def __call__(self, app: Starlette) -> AsyncIterator[GatewayState]:
        settings = self._settings
        stop = asyncio.Event()
        async with contextlib.AsyncExitStack() as stack:
            registry = await stack.enter_async_context(open_registry(settings))
            admin = KafkaAdmin(connection_config(settings))
            group_offsets = GroupOffsets(
                settings,
                size=settings.gateway_position_consumers,
                client_id="sec-gateway-positions",
            )
            stack.push_async_callback(group_offsets.aclose)
            acks = AckCommitter(group_offsets, settings.gateway_commit_interval_s)
            transcoder = TranscoderPool(settings.gateway_replay_processes)
            stack.callback(transcoder.close)
            transcoder.start()  # while the tails read the recent records
            store = await stack.enter_async_context(
                open_store(settings, writer=settings.gateway_store_feeder)
            )
            topics = {
                "analyzed": await _topic_stream(
                    settings,
                    stack,
                    registry,
                    admin,
                    group_offsets,
                    settings.topic_analyzed,
                    SchemaName.FILING_ANALYSIS,
                ),
                "raw": await _topic_stream(
                    settings,
                    stack,
                    registry,
                    admin,
                    group_offsets,
                    settings.topic_raw,
                    SchemaName.FILING,
                ),
            }
            await transcoder.started()
            self._tails = [stream.tail for stream in topics.values()]
            tasks = [asyncio.create_task(tail.run(stop)) for tail in self._tails]
            tasks.append(asyncio.create_task(acks.run(stop)))
            tasks.append(asyncio.create_task(self._give_up_after_the_tolerance(stop)))
            if settings.gateway_store_feeder:
                feeder = StoreFeeder(
                    store,
                    await stack.enter_async_context(
                        KafkaConsumer(feeder_config(settings, client_id="sec-gateway-store"))
                    ),
                    (
                        topics["analyzed"].codec,
                        await AvroCodec(
                            registry, subject_for(settings.topic_text), SchemaName.FILING_TEXT
                        ).open(),
                    ),
                    FeederTopics(settings.topic_analyzed, settings.topic_text),
                    batch_size=settings.store_batch_size,
                    progress_interval_s=settings.store_progress_interval_s,
                    text_wait_s=settings.store_text_wait_s,
                    held_max=settings.store_held_max,
                    grouped=settings.store_postgres_dsn is not None,
                )
                tasks.append(asyncio.create_task(_logged(feeder.run(stop), "store feeder")))
            tools = GatewayTools(
                store,
                self._metrics,
                {"analyzed": settings.topic_analyzed, "raw": settings.topic_raw},
            )
            mcp = mcp_sessions(tools)
            await stack.enter_async_context(mcp.run())
            limits = KeyLimits.of(settings)
            state: GatewayState = {
                "streams": Streams(settings, topics, acks, transcoder, limits.replays),
                "store": store,
                "limits": limits,
                "close_timeout_s": settings.gateway_close_timeout_s,
                "mcp": mcp,
            }
            # Every collection stops the event loop, hence every stream, for as long as it
            # walks what it tracks (bench/gateway.py measured pauses of 50-500 ms with a
            # thousand clients). What exists now (modules, the rings read at start-up) lives
            # as long as the process: frozen, it is never walked again. Collecting the young
            # generation less often promotes less short-lived garbage into the costly older
            # ones; the fan-out path allocates little per delivery.
            gc.collect()
            gc.freeze()
            gc.set_threshold(20_000, 50, 50)
            log.info("gateway ready", topics={a: s.tail.topic for a, s in topics.items()})
            try:
                yield state
            finally:
                stop.set()
                await asyncio.gather(*tasks, return_exceptions=True)
                await acks.flush()

    async def _give_up_after_the_tolerance(self, stop: asyncio.Event) -> None:
        try:
            await watch_kafka_outages(self._settings, stop)
        except KafkaOutageError as exc:
            log.error("giving up", error=str(exc))
            self.gave_up = exc
            signal.raise_signal(signal.SIGTERM)  # uvicorn's own shutdown: clients are closed


async def _topic_stream(
    settings: GatewaySettings,
    stack: contextlib.AsyncExitStack,
    registry: RegistryClient,
    admin: KafkaAdmin,
    group_offsets: GroupOffsets,
    topic: str,
    schema: SchemaName,
) -> TopicStream:
    codec = await AvroCodec(registry, subject_for(topic), schema).open()
    partitions = await admin.partitions(topic)
    ends = await admin.ends(topic, partitions)
    starts = recent_starts(ends, settings.gateway_tail_buffer)
    ring = RecordRing(settings.gateway_tail_buffer, starts)

    def take_recent(partition: int, offset: int, record: dict[str, Any]) -> None:
        buffered = buffer_record(partition, offset, record, format_cursor({partition: offset + 1}))
        ring.append(buffered)

    await read_recent(settings, codec, topic, starts, ends, take_recent)

    consumer = await stack.enter_async_context(
        KafkaConsumer(
            consumer_config(settings, client_id=f"sec-gateway-tail-{schema.name.lower()}")
            | {"enable.partition.eof": True}  # the tail's position must pass transaction markers
        )
    )
    tail = TopicTail(
        consumer,
        codec,
        topic,
        ends,
        ring,
    )
    resolver = PositionResolver(admin, topic, partitions, committed=group_offsets.committed)
    return TopicStream(tail, resolver, codec)


async def _logged(work: Coroutine[Any, Any, None], what: str) -> None:
    """A background task whose failure is logged when it happens, not at shutdown."""
    try:
        await work
    except Exception:
        log.exception(f"{what} failed")
        raise
