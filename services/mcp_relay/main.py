"""`sec-digester mcp`: an MCP server on stdio that relays every request to a gateway's /mcp.

Desktop MCP clients start a command and speak MCP on its stdin/stdout; the tools live in the
gateway (services/gateway/tools.py), next to the filings store they query and the freshness
histogram they read. Relaying rather than opening the store here: the store is a file on the
gateway's host (or the gateway's PostgreSQL), rarely reachable from a desktop, and freshness
exists only in the gateway. So a desktop client gets exactly the gateway's tools, schemas,
answers and refusals, with the gateway's API keys (GATEWAY_API_KEY, as `tail` takes it).

At start-up it opens one MCP session to MCP_GATEWAY_URL and initializes it: a gateway that
does not answer, or refuses the key, ends the command with a message naming the setting
(stdout is the protocol's, so logs and that message go to stderr). Then it serves stdio until
the client closes it. A call the gateway cannot be reached for is answered with isError.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import structlog
from mcp import ClientSession, types
from mcp.client.streamable_http import streamable_http_client
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import McpError

from services.common.errors import ConfigurationError, UpstreamError
from services.common.settings import setting_label
from services.mcp_relay.settings import McpRelaySettings

log = structlog.get_logger(__name__)


async def run_relay(settings: McpRelaySettings) -> int:
    url = settings.mcp_gateway_url
    headers = {}
    if settings.gateway_api_key is not None:
        headers["Authorization"] = f"Bearer {settings.gateway_api_key.get_secret_value()}"
    structlog.contextvars.bind_contextvars(gateway=url)
    timeout = httpx.Timeout(settings.mcp_timeout_s)
    async with (
        httpx.AsyncClient(headers=headers, timeout=timeout) as http,
        streamable_http_client(url, http_client=http, terminate_on_close=False) as (read, write, _),
        ClientSession(
            read, write, read_timeout_seconds=timedelta(seconds=timeout.read or 30)
        ) as gateway,
    ):
        await _initialize(gateway, http, url)
        server = relay_server(gateway, url)
        log.info("mcp relay serving stdio")
        async with stdio_server() as (stdin, stdout):
            await server.run(stdin, stdout, server.create_initialization_options())
    return 0


async def _initialize(gateway: ClientSession, http: httpx.AsyncClient, url: str) -> None:
    # The SDK's transport reports an HTTP refusal as a failed request without its status:
    # asked first, the gateway's own answer says which setting is wrong.
    try:
        probe = await http.post(
            url, json={}, headers={"Accept": "application/json, text/event-stream"}
        )
    except httpx.HTTPError as exc:
        raise ConfigurationError(
            f"{setting_label('mcp_gateway_url')}: {url} does not answer: {exc}"
        ) from exc
    if probe.status_code == 401:
        raise ConfigurationError(
            f"{setting_label('gateway_api_key')}: the gateway refused it: {_message(probe)}"
        )
    if probe.status_code == 404:
        raise ConfigurationError(f"{setting_label('mcp_gateway_url')}: {url} is not found (404)")
    try:
        await gateway.initialize()
    except McpError as exc:
        raise UpstreamError(f"the gateway's MCP server: {exc}", url=url) from exc


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json()["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


def relay_server(gateway: ClientSession, url: str) -> Server[Any, Any]:
    """A server whose tools are the gateway's: listed and called there."""
    server: Server[Any, Any] = Server("sec-digester")

    async def list_tools() -> list[types.Tool]:
        return (await gateway.list_tools()).tools

    async def call_tool(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        try:
            return await gateway.call_tool(name, arguments)
        except (McpError, httpx.HTTPError, RuntimeError) as exc:
            log.warning("mcp relay call failed", tool=name[:60], error=str(exc))
            message = f"unavailable: the gateway at {url} did not answer: {exc}"
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=message)], isError=True
            )

    # The SDK's decorators are untyped; the arguments are checked by the gateway, whose
    # refusals name the argument, so the relay checks nothing itself.
    server.list_tools()(list_tools)  # type: ignore[no-untyped-call]
    server.call_tool(validate_input=False)(call_tool)
    return server
