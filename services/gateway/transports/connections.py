"""Admission of a stream (WebSocket or SSE): is the key valid, and is there room for it?

The auth middleware has already checked the key and noted the outcome in the connection's
scope (it lets WebSocket handshakes through so the endpoint can answer with a protocol error
frame). `stream_slot` reads that, takes one of the key's connection slots
(services/gateway/limits.py), counts the connection, and gives everything back when the stream
ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.requests import HTTPConnection

from services.gateway.auth import auth_outcome
from services.gateway.errors import ErrorCode, GatewayError
from services.gateway.metrics import CONNECTIONS
from services.gateway.state import StreamState


@asynccontextmanager
async def stream_slot(
    connection: HTTPConnection[StreamState], transport: str
) -> AsyncIterator[str | None]:
    """Hold a slot for the stream; raises GatewayError (nothing held then) when it may not go
    on. Yields the client's API key (None: a gateway without keys)."""
    key, problem = auth_outcome(connection.scope)
    if problem is not None:
        raise GatewayError(ErrorCode.UNAUTHORIZED, problem)
    with connection.state["limits"].connections.slot(key):
        CONNECTIONS.labels(transport=transport).inc()
        try:
            yield key
        finally:
            CONNECTIONS.labels(transport=transport).dec()
