"""`sec-digester gateway`: one gateway process (services/gateway/server.py), or with
GATEWAY_WORKERS (`--workers`) above 1, that many on the one port (services/gateway/workers.py).
The loop is uvloop's (services/gateway/commands.py).
"""

from __future__ import annotations

from services.gateway.server import serve
from services.gateway.settings import GatewaySettings
from services.gateway.workers import run_workers


async def run_gateway(settings: GatewaySettings) -> int:
    if settings.gateway_workers > 1:
        return await run_workers(settings)
    return await serve(settings)
