"""The gateway's routes: the stream (WebSocket and SSE on one path), REST, OpenAPI, MCP, health
and the dashboard with its assets.

The dashboard is native ES modules (static/js/, docs/dashboard.md). A browser runs a module only
when it comes with a JavaScript media type, so `.js` is served as `text/javascript` whatever the
host's MIME table says (a Windows registry or an odd /etc/mime.types can map it to text/plain).
Its assets are revalidated on every load (`no-cache`, answered 304 when unchanged): with no
bundle to version, a browser must never run a cached module beside the new ones of an upgrade.
The page carries a Content-Security-Policy: scripts, styles and connections (the WebSocket too)
from the gateway's own origin only, which module scripts and the page's API calls satisfy.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

from services.common.health import health_routes
from services.common.probes import kafka_reachable, registry_reachable
from services.gateway.settings import GatewaySettings
from services.gateway.transports.mcp import MCP_ROUTE
from services.gateway.transports.openapi import OPENAPI_ROUTE
from services.gateway.transports.rest import REST_ROUTES
from services.gateway.transports.sse import stream_sse
from services.gateway.transports.ws import stream_websocket

STATIC = Path(__file__).parent / "static"
JAVASCRIPT = "text/javascript; charset=utf-8"
REVALIDATE = "no-cache"
# 'self' covers the page's own ws:/wss: origin (CSP Level 3); the favicon is a data: URL.
DASHBOARD_CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'"
)


class DashboardAssets(StaticFiles):
    """The dashboard's static files: modules as JavaScript, everything revalidated."""

    def file_response(
        self, full_path: PathLike, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        if str(full_path).endswith(".js"):
            response.headers["content-type"] = JAVASCRIPT
        response.headers["cache-control"] = REVALIDATE
        return response


async def dashboard(request: Request) -> Response:
    return FileResponse(
        STATIC / "index.html",
        headers={"content-security-policy": DASHBOARD_CSP, "cache-control": REVALIDATE},
    )


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
        Mount("/static", DashboardAssets(directory=STATIC), name="static"),
    ]
