"""Admission of a stream (WebSocket or SSE): is the key valid, and is there room for it?

The auth middleware has already checked the key and noted the outcome in the connection's
scope (it lets WebSocket handshakes through so the endpoint can answer with a protocol error
frame). `stream_slot` reads that, takes one of the key's connection slots, counts the
connection, and gives everything back when the stream ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from services.gateway.auth import auth_outcome
from services.gateway.metrics import CONNECTIONS


@dataclass(frozen=True)
class Refusal:
    close_code: int  # WebSocket
    http_status: int  # SSE
    code: str
    message: str


@asynccontextmanager
async def stream_slot(connection: HTTPConnection, transport: str) -> AsyncIterator[Refusal | None]:
    """Yields None when the stream may go on, else why not (nothing is held then)."""
    key, problem = auth_outcome(connection.scope)
    if problem is not None:
        yield Refusal(4401, 401, "unauthorized", problem)
        return
    limiter = connection.app.state.connection_limiter
    # Without API keys there is no key to hold a limit against: the gateway is open.
    limited = key is not None
    if limited and not limiter.acquire(key):
        yield Refusal(
            4429,
            429,
            "too_many_connections",
            "this API key holds its maximum of streams (GATEWAY_MAX_CONNECTIONS_PER_KEY)",
        )
        return
    CONNECTIONS.labels(transport=transport).inc()
    try:
        yield None
    finally:
        CONNECTIONS.labels(transport=transport).dec()
        if limited:
            limiter.release(key)
