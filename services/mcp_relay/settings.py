"""Settings of `sec-digester mcp`."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr

from services.common.settings import CommonSettings, HttpUrl


class McpRelaySettings(CommonSettings):
    # The gateway's MCP endpoint (Streamable HTTP).
    mcp_gateway_url: HttpUrl = "http://localhost:8000/mcp"
    # One of the gateway's GATEWAY_API_KEYS (as for `tail`); unset for a gateway without keys.
    gateway_api_key: SecretStr | None = None
    # How long one call to the gateway may take (a search over a large store, a slow network).
    mcp_timeout_s: Annotated[float, Field(gt=0, le=600)] = 30.0
