"""The gateway's Starlette app: one port for WebSocket, SSE, REST, health, metrics, dashboard.

The lifespan opens everything the app serves from and closes it on the way out: the registry
client, one shared tail consumer per topic (analyzed, raw), the broker-offsets client (durable
client positions), and the REST index and the tails' rings, filled from the recent end of each
topic (services/gateway/warmup.py) before the tail takes over from exactly where that stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from services.common.avro import AvroCodec
from services.common.health import health_routes
from services.common.kafka import KafkaConsumer, connection_config, consumer_config
from services.common.probes import kafka_reachable, registry_reachable
from services.common.registry import RegistryClient, open_registry, subject_for
from services.common.schemas import SchemaName
from services.gateway.auth import ApiKeyMiddleware, ConnectionLimiter, cors_options
from services.gateway.index import FilingIndex
from services.gateway.offsets import BrokerOffsets
from services.gateway.openapi import OPENAPI_ROUTE
from services.gateway.positions import PositionResolver, format_cursor
from services.gateway.rest import REST_ROUTES
from services.gateway.ring import BufferedRecord, RecordRing
from services.gateway.settings import GatewaySettings
from services.gateway.sse import stream_sse
from services.gateway.streams import Streams, TopicStream
from services.gateway.tail import TopicTail, buffer_record
from services.gateway.warmup import read_recent, recent_starts
from services.gateway.ws import stream_websocket

log = structlog.get_logger(__name__)
STATIC = Path(__file__).parent / "static"


async def _topic_stream(
    settings: GatewaySettings,
    stack: contextlib.AsyncExitStack,
    registry: RegistryClient,
    offsets: BrokerOffsets,
    topic: str,
    schema: SchemaName,
    index: FilingIndex | None,
) -> TopicStream:
    codec = await AvroCodec(registry, subject_for(topic), schema).open()
    partitions = await offsets.partitions(topic)
    ends = await offsets.ends(topic, partitions)
    history = settings.gateway_tail_buffer
    if index is not None:
        history = max(history, settings.gateway_index_size)
    starts = recent_starts(ends, history)
    ring = RecordRing(settings.gateway_tail_buffer, starts)

    def feed_index(record: dict[str, Any], buffered: BufferedRecord) -> None:
        assert index is not None
        index.add(record, buffered.data)

    def take_recent(partition: int, offset: int, record: dict[str, Any]) -> None:
        buffered = buffer_record(partition, offset, record, format_cursor({partition: offset + 1}))
        ring.append(buffered)
        if index is not None:
            feed_index(record, buffered)

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
        on_record=feed_index if index is not None else None,
    )
    return TopicStream(tail, PositionResolver(offsets, topic, partitions), codec)


def create_app(settings: GatewaySettings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        async with contextlib.AsyncExitStack() as stack:
            registry = await stack.enter_async_context(open_registry(settings))
            offsets = BrokerOffsets(connection_config(settings), settings.gateway_commit_interval_s)
            index = FilingIndex(settings.gateway_index_size)
            topics = {
                "analyzed": await _topic_stream(
                    settings,
                    stack,
                    registry,
                    offsets,
                    settings.topic_analyzed,
                    SchemaName.FILING_ANALYSIS,
                    index,
                ),
                "raw": await _topic_stream(
                    settings, stack, registry, offsets, settings.topic_raw, SchemaName.FILING, None
                ),
            }
            tasks = [asyncio.create_task(s.tail.run(stop)) for s in topics.values()]
            tasks.append(asyncio.create_task(offsets.run(stop)))
            app.state.streams = Streams(settings, topics, offsets)
            app.state.index = index
            app.state.close_timeout_s = settings.gateway_close_timeout_s
            app.state.connection_limiter = ConnectionLimiter(
                settings.gateway_max_connections_per_key
            )
            app.state.tails_running = lambda: all(s.tail.running for s in topics.values())
            # Every collection stops the event loop, hence every stream, for as long as it
            # walks what it tracks (bench/gateway.py measured pauses of 50-500 ms with a
            # thousand clients). What exists now (modules, the index read at start-up) lives
            # as long as the process: frozen, it is never walked again. Collecting the young
            # generation less often promotes less short-lived garbage into the costly older
            # ones; the fan-out path allocates little per delivery.
            gc.collect()
            gc.freeze()
            gc.set_threshold(20_000, 50, 50)
            log.info("gateway ready", topics={a: s.tail.topic for a, s in topics.items()})
            try:
                yield
            finally:
                stop.set()
                await asyncio.gather(*tasks, return_exceptions=True)
                await offsets.flush()

    async def tails_running() -> bool:
        running: bool = app.state.tails_running()
        return running

    async def dashboard(request: object) -> Response:
        return FileResponse(STATIC / "index.html")

    routes = [
        WebSocketRoute("/stream", stream_websocket),
        Route("/stream", stream_sse),
        *REST_ROUTES,
        OPENAPI_ROUTE,
        *health_routes(
            alive=lambda: True,
            checks={
                "kafka": lambda: kafka_reachable(settings),
                "registry": lambda: registry_reachable(settings),
                "tails": tails_running,
            },
        ),
        Route("/", dashboard),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [
        Middleware(CORSMiddleware, **cors_options(settings.cors_origins)),
        Middleware(ApiKeyMiddleware, keys=settings.api_keys),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    return app
