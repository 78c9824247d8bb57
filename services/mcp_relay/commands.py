"""The `sec-digester mcp` subcommand."""

from services.command import Command

COMMANDS = [
    Command(
        ("mcp",),
        "the gateway's MCP tools on stdio (for desktop clients), relayed to its /mcp",
        "services.mcp_relay.settings:McpRelaySettings",
        "services.mcp_relay.main:run_relay",
    ),
]
