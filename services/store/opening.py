"""The store the settings name: PostgreSQL when STORE_DSN is set, the SQLite file otherwise."""

from __future__ import annotations

from services.store.backend import FilingsStore
from services.store.postgres import PostgresStore
from services.store.settings import StoreSettings
from services.store.sqlite import SqliteStore


def open_store(settings: StoreSettings, *, writer: bool) -> FilingsStore:
    """The store, to open with `async with`; `writer=False`: it only reads (with SQLite,
    another process feeds the file; with PostgreSQL it creates nothing)."""
    dsn = settings.store_postgres_dsn
    if dsn is not None:
        return PostgresStore(
            dsn,
            settings.topic_analyzed,
            settings.topic_text,
            schema=settings.store_pg_schema,
            writer=writer,
        )
    return SqliteStore(
        settings.store_file, settings.topic_analyzed, settings.topic_text, writer=writer
    )
