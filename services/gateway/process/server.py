"""One gateway process: the app on uvicorn, once the infrastructure answers.

Started before Kafka, the registry, its topics or subjects are there, the process first waits
for them (services/common/startup.py), on its own port: a small app answers /healthz 200,
/readyz 503 naming what is missing, and everything else 503 `unavailable` (a WebSocket
handshake too, as an HTTP answer), so a load balancer keeps traffic away and a client retries.
The listening socket is the same in both phases (the small app serves a duplicate of it), so a
connection that arrives between them waits in the backlog instead of being refused.

uvicorn owns the signals here: SIGTERM stops accepting connections, closes the open ones
(clients reconnect elsewhere with their cursor), then runs the app's lifespan shutdown, which
writes pending acknowledgements and closes every Kafka client. Inbound WebSocket frames larger
than GATEWAY_MAX_FRAME_BYTES are refused by the protocol layer with close code 1009.
"""

from __future__ import annotations

import asyncio
import signal
import socket

import structlog
import uvicorn
from prometheus_client import REGISTRY, CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from services.common.health import EmbeddedServer, health_routes
from services.common.probes import kafka_reachable, registry_reachable
from services.common.startup import Needs, missing, wait_for_infrastructure
from services.gateway.app import create_app
from services.gateway.errors import ErrorCode, GatewayError, error_response
from services.gateway.lifespan import GatewayLifespan
from services.gateway.process.http_protocol import with_head_deadline
from services.gateway.settings import GatewaySettings
from services.gateway.stream.wire import FanoutWebSocketProtocol


async def serve(
    settings: GatewaySettings,
    sockets: list[socket.socket] | None = None,
    metrics: CollectorRegistry = REGISTRY,
) -> int:
    """One gateway process; on `sockets` if given (a worker), else it binds host and port;
    /metrics exposes `metrics`."""
    structlog.contextvars.bind_contextvars(service="gateway")
    lifespan = GatewayLifespan(settings, metrics)
    config = _config(settings, lifespan, metrics)
    if sockets is None:
        # Bound once for both phases (waiting, then serving); uvicorn logs where it listens.
        sockets = [config.bind_socket()]
    if not await _wait_for_infrastructure(settings, sockets, metrics):
        return 0  # asked to stop while waiting
    await uvicorn.Server(config).serve(sockets)
    if lifespan.gave_up is not None:
        raise lifespan.gave_up  # Kafka stayed away longer than KAFKA_OUTAGE_TOLERANCE_S
    return 0


def _config(
    settings: GatewaySettings, lifespan: GatewayLifespan, metrics: CollectorRegistry
) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(settings, lifespan, metrics),
        host=settings.gateway_host,
        port=settings.gateway_port,
        http=with_head_deadline(settings.gateway_handshake_timeout_s),
        ws=FanoutWebSocketProtocol,
        ws_per_message_deflate=settings.gateway_ws_compression,
        ws_max_size=settings.gateway_max_frame_bytes,
        lifespan="on",
        log_config=None,  # our structlog configuration stands
        access_log=False,
        timeout_graceful_shutdown=10,
    )


def _needs(settings: GatewaySettings) -> Needs:
    topics = [settings.topic_analyzed, settings.topic_raw, settings.topic_text]
    return Needs(topics=topics, schema_topics=topics)


async def _wait_for_infrastructure(
    settings: GatewaySettings, sockets: list[socket.socket], metrics: CollectorRegistry
) -> bool:
    """Wait (serving the waiting app on `sockets`) until the infrastructure is there: True, or
    False when SIGTERM or SIGINT came first."""
    needs = _needs(settings)
    if not await missing(settings, needs):
        return True
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    server = EmbeddedServer(
        uvicorn.Config(
            _waiting_app(settings, needs, metrics),
            lifespan="off",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=1,
        )
    )
    serving = asyncio.create_task(server.serve([sock.dup() for sock in sockets]))
    try:
        await server.wait_started(serving)
        return await wait_for_infrastructure(settings, needs, stop)
    finally:
        server.should_exit = True
        await serving
        for signum in signals:
            loop.remove_signal_handler(signum)


def _waiting_app(settings: GatewaySettings, needs: Needs, metrics: CollectorRegistry) -> Starlette:
    async def not_yet() -> bool:
        return False

    async def unavailable_answer() -> Response:
        absent = await missing(settings, needs)
        message = "the gateway is starting: " + ("; ".join(absent) or "opening its clients")
        return error_response(GatewayError(ErrorCode.UNAVAILABLE, message))

    async def unavailable(request: Request) -> Response:
        return await unavailable_answer()

    async def unavailable_websocket(websocket: WebSocket) -> None:
        await websocket.send_denial_response(await unavailable_answer())

    checks = {
        "kafka": lambda: kafka_reachable(settings),
        "registry": lambda: registry_reachable(settings),
        "started": not_yet,
    }
    return Starlette(
        routes=[
            *health_routes(lambda: True, checks, metrics),
            Route("/{path:path}", unavailable, methods=["GET", "HEAD", "POST", "DELETE", "PUT"]),
            WebSocketRoute("/{path:path}", unavailable_websocket),
        ]
    )
