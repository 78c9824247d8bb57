"""An ASGI app served by uvicorn on an ephemeral port of 127.0.0.1, in the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import uvicorn
from starlette.types import ASGIApp

from services.common.health import EmbeddedServer


@contextlib.asynccontextmanager
async def serve_app(app: ASGIApp) -> AsyncIterator[str]:
    """Serve `app` for the duration of the block; yields its base URL (http://127.0.0.1:PORT)."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        ws="websockets-sansio",  # the gateway's WebSocket implementation
    )
    server = EmbeddedServer(config)
    task = asyncio.create_task(server.serve())
    await server.wait_started(task)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
