"""The gateway's Starlette app: one port for WebSocket, SSE, REST, MCP, health, metrics, dashboard.

Put together from its lifespan (what the app serves from: lifespan.py, yielding state.py's
state), its routes (routes.py) and its middleware (middleware.py).
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry
from starlette.applications import Starlette

from services.gateway.lifespan import GatewayLifespan
from services.gateway.middleware import gateway_middleware
from services.gateway.routes import gateway_routes
from services.gateway.settings import GatewaySettings


def create_app(
    settings: GatewaySettings,
    lifespan: GatewayLifespan | None = None,
    metrics: CollectorRegistry = REGISTRY,
) -> Starlette:
    """`lifespan`: the caller's, to ask after the app stopped why it did (gave_up); `metrics`:
    what /metrics exposes (a worker's: every worker's, services/gateway/process/workers.py)."""
    lifespan = lifespan or GatewayLifespan(settings, metrics)
    return Starlette(
        routes=gateway_routes(settings, lifespan.tails_running, metrics),
        middleware=gateway_middleware(settings),
        lifespan=lifespan,
    )
