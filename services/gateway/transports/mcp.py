"""`/mcp`: the gateway's tools (services/gateway/tools.py) for agents, over MCP's Streamable
HTTP, with the official SDK (`mcp`, its low-level Server and StreamableHTTPSessionManager).

Stateless, with JSON answers: every POST is a whole exchange, no session lives in a process.
With several workers (SO_REUSEPORT spreads connections over them) a session kept in one
would be unknown to the next worker a client's request reaches; and the tools only answer, they
never send a notification later, so nothing needs the SSE stream a session holds open.

The session manager runs in the app's lifespan (services/gateway/lifespan.py: its task group
serves the requests) and is lifespan state (`McpState`); the route is a raw ASGI endpoint on
`/mcp` itself rather than a Mount, which would answer `/mcp` with a redirect to `/mcp/`
(modelcontextprotocol/python-sdk#781). The API keys are the rest of the gateway's: the auth
middleware (services/gateway/auth.py) answers a request without a valid key 401 before it
gets here, and `auth_outcome` refuses to serve at all if that middleware is not installed.
Each key has at most GATEWAY_MAX_MCP_REQUESTS_PER_KEY requests in flight (services/gateway/
limits.py); one more is answered HTTP 429 (too_many_requests) with Retry-After, before the SDK
sees it.

Tool results: the structured result (validated by the SDK against the tool's output schema)
and its JSON as text. A refused call (a bad argument, an unknown accession, the store
unavailable) is a result with isError and the message alone, which names the argument; anything
else that fails is logged with its traceback and answered "internal" without it.
"""

from __future__ import annotations

import contextlib
import functools
import time
from typing import Any

import orjson
import structlog
from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from services.common.schemas import SchemaName, schema_dict
from services.gateway.auth import auth_outcome
from services.gateway.errors import GatewayError, error_response
from services.gateway.metrics import MCP_CALLS
from services.gateway.state import McpState
from services.gateway.tools import RECORD_MARK, GatewayTools
from services.gateway.transports.json_schema import record_schemas

log = structlog.get_logger(__name__)
MCP_PATH = "/mcp"
SERVER_NAME = "sec-digester"
_DEFS = "#/$defs/"
_RECORD = "FilingAnalysis"  # the record type of the analyzed topic, by its short name
_INSTRUCTIONS = (
    "SEC EDGAR filings as sec-digester analyzed them: search the history (search_filings, "
    "get_filing, insider_activity), follow what arrives (whats_new with the cursor of the "
    "previous call) and how fresh the stream is (freshness)."
)


@functools.cache
def _record_definitions() -> dict[str, dict[str, Any]]:
    return record_schemas(schema_dict(SchemaName.FILING_ANALYSIS), _DEFS)


def _with_records(schema: dict[str, Any]) -> dict[str, Any]:
    """An output schema whose records (marked by tools.py) refer to the Avro-derived schema."""
    marked = False

    def replaced(node: Any) -> Any:
        nonlocal marked
        if isinstance(node, dict):
            if node.get(RECORD_MARK):
                marked = True
                return {"$ref": f"{_DEFS}{_RECORD}"}
            return {key: replaced(value) for key, value in node.items()}
        if isinstance(node, list):
            return [replaced(value) for value in node]
        return node

    schema = replaced(schema)
    if not marked:
        return schema
    records = _record_definitions()
    own = schema.get("$defs", {})
    if clash := own.keys() & records.keys():
        raise RuntimeError(f"output models named like record types: {sorted(clash)}")
    return schema | {"$defs": own | records}


def tool_list(tools: GatewayTools) -> list[types.Tool]:
    return [
        types.Tool(
            name=tool.name,
            description=tool.description,
            inputSchema=tool.input.model_json_schema(),
            outputSchema=_with_records(tool.output.model_json_schema()),
            annotations=types.ToolAnnotations(readOnlyHint=True, openWorldHint=False),
        )
        for tool in tools.tools.values()
    ]


def mcp_server(tools: GatewayTools) -> Server[Any, Any]:
    server: Server[Any, Any] = Server(SERVER_NAME, instructions=_INSTRUCTIONS)
    listed = tool_list(tools)

    async def list_tools() -> list[types.Tool]:
        return listed

    async def call_tool(
        name: str, arguments: dict[str, Any]
    ) -> tuple[list[types.ContentBlock], dict[str, Any]] | types.CallToolResult:
        started = time.perf_counter()
        bound = log.bind(tool=name[:60], arguments=sorted(arguments)[:20])
        try:
            result = await tools.call(name, arguments)
        except GatewayError as exc:
            MCP_CALLS.labels(tool=_label(tools, name), outcome=exc.code.value).inc()
            bound.warning("mcp tool refused", code=exc.code.value, error=str(exc))
            return _refusal(str(exc))
        except Exception:
            MCP_CALLS.labels(tool=_label(tools, name), outcome="internal").inc()
            bound.exception("mcp tool failed")
            return _refusal("internal: the gateway failed to answer; its log says why")
        MCP_CALLS.labels(tool=name, outcome="ok").inc()
        bound.debug("mcp tool", ms=round((time.perf_counter() - started) * 1000, 1))
        text = types.TextContent(type="text", text=orjson.dumps(result).decode())
        return [text], result

    # The SDK's decorators are untyped; its own validation of the arguments is off: the tools
    # check them and name what is wrong in the protocol's words (services/gateway/tools.py).
    server.list_tools()(list_tools)  # type: ignore[no-untyped-call]
    server.call_tool(validate_input=False)(call_tool)
    return server


def _label(tools: GatewayTools, name: str) -> str:
    return name if name in tools.tools else "unknown"  # no label per made-up name


def _refusal(message: str) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=message)], isError=True
    )


def mcp_sessions(tools: GatewayTools) -> StreamableHTTPSessionManager:
    """The session manager of /mcp; its `run()` is entered by the lifespan."""
    return StreamableHTTPSessionManager(mcp_server(tools), stateless=True, json_response=True)


class _McpEndpoint:
    """A class, not a function: Starlette hands a non-function endpoint the raw ASGI call."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key, _ = auth_outcome(scope)  # raises when the API-key middleware is not in front
        state: McpState = scope["state"]
        with contextlib.ExitStack() as held:
            try:
                held.enter_context(state["limits"].mcp_requests.slot(key))
            except GatewayError as exc:
                await error_response(exc)(scope, receive, send)
                return
            await state["mcp"].handle_request(scope, receive, send)


MCP_ROUTE = Route(MCP_PATH, _McpEndpoint(), methods=["GET", "POST", "DELETE"])
