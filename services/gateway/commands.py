"""The `sec-digester gateway` subcommand."""

from services.command import Command

COMMANDS = [
    Command(
        ("gateway",),
        "WebSocket, SSE and REST on the topics",
        "services.gateway.settings:GatewaySettings",
        "services.gateway.main:run_gateway",
        uvloop=True,
    ),
]
