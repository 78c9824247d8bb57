"""The small HTTP server of ingest and analyze: /healthz, /readyz and /metrics.

/healthz answers 200 while the process's main loop is alive (liveness); /readyz runs the
readiness checks (Kafka and registry reachable, the loop making progress) and answers 503 with
the failing ones named; /metrics is the Prometheus text exposition of the default registry.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

Check = Callable[[], Awaitable[bool]]


def health_routes(
    alive: Callable[[], bool], checks: Mapping[str, Check], registry: CollectorRegistry = REGISTRY
) -> list[Route]:
    """/healthz, /readyz and /metrics (of `registry`: by default this process's), for any
    Starlette app."""

    async def healthz(request: Request) -> Response:
        ok = alive()
        return JSONResponse({"status": "ok" if ok else "stalled"}, status_code=200 if ok else 503)

    async def readyz(request: Request) -> Response:
        outcomes = await asyncio.gather(*(check() for check in checks.values()))
        results = dict(zip(checks, outcomes, strict=True))
        failing = [name for name, ok in results.items() if not ok]
        body = {"status": "ready" if not failing else "not ready", "checks": results}
        return JSONResponse(body, status_code=503 if failing else 200)

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return [Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics)]


class EmbeddedServer(uvicorn.Server):
    """uvicorn inside a process that owns its signals (lifecycle.shutdown_event)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._started = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self._started.set()

    async def wait_started(self, serving: asyncio.Task[None]) -> None:
        """Return once listening; raise why not if serving ended first (e.g. port taken)."""
        started = asyncio.ensure_future(self._started.wait())
        await asyncio.wait({started, serving}, return_when=asyncio.FIRST_COMPLETED)
        started.cancel()
        if serving.done():
            serving.result()
            raise OSError(f"{self.config.host}:{self.config.port}: server stopped during start-up")


@contextlib.asynccontextmanager
async def serve_health(
    host: str, port: int, alive: Callable[[], bool], checks: Mapping[str, Check]
) -> AsyncIterator[None]:
    """Serve the health endpoints for the duration of the block."""
    app = Starlette(routes=health_routes(alive, checks))
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    server = EmbeddedServer(config)
    task = asyncio.create_task(server.serve())
    await server.wait_started(task)
    try:
        yield
    finally:
        server.should_exit = True
        await task
