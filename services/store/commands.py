"""The `sec-digester store` subcommands."""

from services.command import Command

COMMANDS = [
    Command(
        ("store", "feed"),
        "keep the filings store (SQLite, or PostgreSQL: STORE_DSN) a view of the analyzed topic,"
        " exactly once",
        "services.store.settings:FeederSettings",
        "services.store.main:run_feeder",
    ),
]
