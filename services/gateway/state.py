"""What the gateway's lifespan yields: the objects its endpoints serve from (Starlette's
"Lifespan State").

Starlette copies the yielded mapping into every connection's scope, where an endpoint reads it
as `request.state["store"]`; declaring the endpoint's parameter `Request[RestState]` (or
`WebSocket[StreamState]`) makes that typed. Each endpoint names the part it needs, so a test can
serve it with just that part. The auth middleware adds its own entries to the same scope state
(services/gateway/auth.py); they are per connection, not part of this.
"""

from __future__ import annotations

from typing import TypedDict

from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from services.gateway.limits import KeyLimits
from services.gateway.stream.streams import Streams
from services.store.backend import FilingsStore


class RestState(TypedDict):
    store: FilingsStore  # the filings store `GET /api/filings` answers from


class LimitsState(TypedDict):
    limits: KeyLimits  # what each API key may hold at once: streams, replays, /mcp requests


class StreamState(LimitsState):
    streams: Streams  # per topic: the shared tail, positions and codec; durable positions
    close_timeout_s: float  # how long a closing WebSocket may take to take its error frame


class McpState(LimitsState):
    mcp: StreamableHTTPSessionManager  # /mcp's (transports/mcp.py), running in the lifespan


class GatewayState(RestState, StreamState, McpState):
    """Everything the lifespan yields (services/gateway/lifespan.py)."""
