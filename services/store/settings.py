"""Settings of the filings store (the gateway's, and `sec-digester store feed`'s)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from services.common.settings import CommonSettings, Port


class StoreSettings(CommonSettings):
    # The SQLite file; empty = ~/.local/share/sec-digester/<analyzed topic>.sqlite3, so
    # pipelines on other topic names never share a store.
    store_path: Path | None = None
    # PostgreSQL instead of SQLite (services/store/postgres.py): a libpq URI,
    # postgresql://user:password@host:port/database; empty = the SQLite file above. Every
    # replica reads it; each partition has one writer at a time, from the consumer group.
    store_dsn: SecretStr | None = None
    # The PostgreSQL schema the store's tables live in (created when missing).
    store_pg_schema: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,62}$")] = "sec_digester"
    # With PostgreSQL, the consumer group the feeders of every replica share: its assignment
    # gives each partition one writer at a time (the offsets stay in the database).
    store_group_id: Annotated[str, Field(min_length=1, max_length=200)] = "sec-digester-store"
    # With PostgreSQL, how long a replica that stopped answering (killed, its host gone) keeps
    # its partitions before the group gives them to the others (librdkafka's
    # session.timeout.ms; the broker allows 6 s at least by default).
    store_group_session_timeout_s: Annotated[float, Field(ge=1, le=1800)] = 45.0
    # Records written per database transaction, at most (with the offsets they came from).
    store_batch_size: Annotated[int, Field(ge=1, le=100_000)] = 1000
    # How often the feeder logs its progress and measures its lag while it is behind.
    store_progress_interval_s: Annotated[float, Field(gt=0)] = 5.0
    # How long an analysis that announces a text waits, once the text topic has nothing more
    # to read, before it is stored without it (feeder.py: a text retention removed, say).
    store_text_wait_s: Annotated[float, Field(ge=0)] = 10.0
    # Analyses held for their texts at most; past it the analyzed topic pauses.
    store_held_max: Annotated[int, Field(ge=1, le=1_000_000)] = 10_000

    @field_validator("store_dsn")
    @classmethod
    def _postgres_dsn(cls, dsn: SecretStr | None) -> SecretStr | None:
        if dsn is None or not dsn.get_secret_value():
            return None  # empty: SQLite
        if not dsn.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ValueError("STORE_DSN is not a postgresql:// or postgres:// URI")
        return dsn

    @property
    def store_postgres_dsn(self) -> str | None:
        """The PostgreSQL DSN, or None for the SQLite file."""
        return self.store_dsn.get_secret_value() if self.store_dsn is not None else None

    @property
    def store_description(self) -> str:
        """Where the store is, for the logs (no password)."""
        dsn = self.store_postgres_dsn
        if dsn is None:
            return str(self.store_file)
        url = urlsplit(dsn)
        where = f"{url.hostname or ''}:{url.port or 5432}{url.path}"
        return f"postgresql://{where} schema {self.store_pg_schema}"

    @property
    def store_file(self) -> Path:
        if self.store_path is not None:
            return self.store_path
        return Path.home() / ".local" / "share" / "sec-digester" / f"{self.topic_analyzed}.sqlite3"


class FeederSettings(StoreSettings):
    """`sec-digester store feed`: the feeder as a process of its own, with its probes."""

    store_health_host: str = "0.0.0.0"  # noqa: S104 (probes come from outside the pod)
    store_health_port: Port = 8004
