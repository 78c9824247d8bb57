"""One gateway process: the app on uvicorn.

uvicorn owns the signals here: SIGTERM stops accepting connections, closes the open ones
(clients reconnect elsewhere with their cursor), then runs the app's lifespan shutdown, which
writes pending acknowledgements and closes every Kafka client. Inbound WebSocket frames larger
than GATEWAY_MAX_FRAME_BYTES are refused by the protocol layer with close code 1009.
"""

from __future__ import annotations

import socket

import structlog
import uvicorn
from prometheus_client import REGISTRY, CollectorRegistry

from services.gateway.app import create_app
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
    config = uvicorn.Config(
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
    await uvicorn.Server(config).serve(sockets)
    if lifespan.gave_up is not None:
        raise lifespan.gave_up  # Kafka stayed away longer than KAFKA_OUTAGE_TOLERANCE_S
    return 0
