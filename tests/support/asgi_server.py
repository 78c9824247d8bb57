"""An ASGI app served by uvicorn on an ephemeral port of 127.0.0.1, in the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Literal

import uvicorn
from starlette.types import ASGIApp

from services.common.health import EmbeddedServer
from services.emulator.server import bind_socket
from services.gateway.stream.wire import FanoutWebSocketProtocol


@contextlib.asynccontextmanager
async def serve_app(
    app: ASGIApp,
    *,
    graceful_shutdown_s: int | None = None,
    lifespan: Literal["on", "off"] = "off",
) -> AsyncIterator[str]:
    """Serve `app` for the duration of the block; yields its base URL (http://127.0.0.1:PORT).

    In-flight requests get `graceful_shutdown_s` to finish when the block ends (None: as long
    as they take). `lifespan="on"` runs the app's lifespan, whose state every request sees."""
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan=lifespan,
        ws=FanoutWebSocketProtocol,  # the gateway's WebSocket implementation
        timeout_graceful_shutdown=graceful_shutdown_s,
    )
    server = EmbeddedServer(config)
    sock = bind_socket("127.0.0.1", 0)  # TCP_NODELAY: see bind_socket
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await server.wait_started(task)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()
