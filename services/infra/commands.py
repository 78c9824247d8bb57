"""The `sec-digester infra` subcommands: the local Kafka and schema registry."""

from services.command import Command

_SETTINGS = "services.infra.settings:InfraSettings"

COMMANDS = [
    Command(
        ("infra", "up"),
        "start local Kafka and the schema registry (--postgres: and PostgreSQL)",
        _SETTINGS,
        "services.infra.main:run_infra_up",
    ),
    Command(
        ("infra", "fetch"),
        "download Kafka and the registry (once)",
        _SETTINGS,
        "services.infra.main:run_infra_fetch",
    ),
    Command(
        ("infra", "down"),
        "stop them (data is kept)",
        _SETTINGS,
        "services.infra.main:run_infra_down",
    ),
    Command(
        ("infra", "status"),
        "exit 0 when every node and the registry answer",
        _SETTINGS,
        "services.infra.main:run_infra_status",
    ),
]
