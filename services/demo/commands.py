"""The `sec-digester demo` subcommand."""

from services.command import Command

COMMANDS = [
    Command(
        ("demo",),
        "everything, locally, on the bundled corpus",
        "services.demo.settings:DemoSettings",
        "services.demo.main:run_demo",
    ),
]
