"""The `sec-digester analyze` subcommand."""

from services.command import Command

COMMANDS = [
    Command(
        ("analyze",),
        "the raw topic into analyses, exactly once",
        "services.analyze.settings:AnalyzeSettings",
        "services.analyze.main:run_analyze",
    ),
]
