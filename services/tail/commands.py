"""The `sec-digester tail` subcommand."""

from services.command import Command

COMMANDS = [
    Command(
        ("tail",),
        "the live stream in a terminal, or JSON lines",
        "services.tail.settings:TailSettings",
        "services.tail.main:run_tail",
    ),
]
