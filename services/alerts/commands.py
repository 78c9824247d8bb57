"""The `sec-digester alerts` subcommand."""

from services.command import Command

COMMANDS = [
    Command(
        ("alerts",),
        "high-priority filings to Discord and webhooks, once each",
        "services.alerts.settings:AlertsSettings",
        "services.alerts.main:run_alerts",
    ),
]
