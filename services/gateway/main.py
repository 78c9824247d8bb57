"""`sec-digester gateway`: one gateway process (services/gateway/process/server.py), or with
GATEWAY_WORKERS (`--workers`) above 1, that many on the one port
(services/gateway/process/workers.py).
The loop is uvloop's (services/gateway/commands.py).
"""

from __future__ import annotations

from services.gateway.process.server import serve
from services.gateway.process.workers import run_workers
from services.gateway.settings import GatewaySettings


async def run_gateway(settings: GatewaySettings) -> int:
    if settings.gateway_workers > 1:
        return await run_workers(settings)
    return await serve(settings)
