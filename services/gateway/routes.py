"""The gateway's routes: the stream (WebSocket and SSE on one path), REST, OpenAPI, MCP, health
and the dashboard with its assets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from services.common.health import health_routes
from services.common.probes import kafka_reachable, registry_reachable
from services.gateway.settings import GatewaySettings
from services.gateway.transports.mcp import MCP_ROUTE
from services.gateway.transports.openapi import OPENAPI_ROUTE
from services.gateway.transports.rest import REST_ROUTES
from services.gateway.transports.sse import stream_sse
from services.gateway.transports.ws import stream_websocket

STATIC = Path(__file__).parent / "static"


async def dashboard(request: Request) -> Response:
    return FileResponse(STATIC / "index.html")


def gateway_routes(
    settings: GatewaySettings, tails_running: Callable[[], bool], metrics: CollectorRegistry
) -> list[BaseRoute]:
    """`tails_running`: whether the shared tails follow their topics (a readiness check);
    `metrics`: what /metrics exposes."""

    async def tails() -> bool:
        return tails_running()

    return [
        WebSocketRoute("/stream", stream_websocket),
        Route("/stream", stream_sse),
        *REST_ROUTES,
        OPENAPI_ROUTE,
        MCP_ROUTE,
        *health_routes(
            alive=lambda: True,
            checks={
                "kafka": lambda: kafka_reachable(settings),
                "registry": lambda: registry_reachable(settings),
                "tails": tails,
            },
            registry=metrics,
        ),
        Route("/", dashboard),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
