"""The `sec-digester topics` and `schemas` subcommands."""

from services.command import Command

_SCHEMA_SETTINGS = "services.common.settings:SchemaSettings"
_TOPIC_SETTINGS = "services.common.settings:TopicSettings"

COMMANDS = [
    Command(
        ("schemas", "register"),
        "register the Avro schemas",
        _SCHEMA_SETTINGS,
        "services.provision.main:run_schemas_register",
    ),
    Command(
        ("schemas", "check"),
        "compare schemas/ with the registry",
        _SCHEMA_SETTINGS,
        "services.provision.main:run_schemas_check",
    ),
    Command(
        ("topics", "create"),
        "create the topics (idempotent)",
        _TOPIC_SETTINGS,
        "services.provision.main:run_topics_create",
    ),
]
