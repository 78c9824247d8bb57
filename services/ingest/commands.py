"""The `sec-digester ingest` subcommand."""

from services.command import Command

COMMANDS = [
    Command(
        ("ingest",),
        "EDGAR into the raw topic",
        "services.ingest.settings:IngestSettings",
        "services.ingest.main:run_ingest",
    ),
]
