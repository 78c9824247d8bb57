"""The `sec-digester export` subcommand."""

from services.command import Command

COMMANDS = [
    Command(
        ("export",),
        "a range of a topic to JSON lines or Parquet",
        "services.export.settings:ExportSettings",
        "services.export.main:run_export",
    ),
]
