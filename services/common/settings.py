"""Typed settings, built once per process in `main` and passed down.

Each process has one settings class (a subclass of `CommonSettings`), read from environment
variables and overridden by command-line flags. Validation happens at start-up; a bad value
becomes a `ConfigurationError` that names the environment variable and the flag. Nothing below
the entry points reads `os.environ`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self, TypeVar

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from services.common.compat import Level
from services.common.errors import ConfigurationError

_TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
_HOST_PORT = re.compile(r"^[A-Za-z0-9.\-\[\]:]+:\d{1,5}$")


def _check_topic(name: str) -> str:
    if not _TOPIC_NAME.match(name) or name in {".", ".."}:
        raise ValueError(f"{name!r} is not a legal Kafka topic name ([A-Za-z0-9._-], 1-249 chars)")
    return name


def _check_bootstrap(servers: str) -> str:
    for server in servers.split(","):
        if not _HOST_PORT.match(server.strip()):
            raise ValueError(f"{server!r} is not host:port")
    return servers


def _check_http_url(url: str) -> str:
    if not re.match(r"^https?://[^/\s]+", url):
        raise ValueError(f"{url!r} is not an http(s) URL")
    return url.rstrip("/")


def comma_separated(text: str) -> tuple[str, ...]:
    """`a, b,,c` -> ("a", "b", "c"): the values of a comma-separated setting."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _split_commas(value: object) -> object:
    return comma_separated(value) if isinstance(value, str) else value


TopicName = Annotated[str, AfterValidator(_check_topic)]
# A list given as one comma-separated string, in the environment or as a flag (NoDecode: not
# read as JSON, as pydantic-settings reads other list types).
CommaList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_split_commas)]
BootstrapServers = Annotated[str, AfterValidator(_check_bootstrap)]
HttpUrl = Annotated[str, AfterValidator(_check_http_url)]
Port = Annotated[int, Field(ge=1, le=65535)]


class CommonSettings(BaseSettings):
    """What every command needs: where Kafka and the registry are, topic names, logging."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    kafka_bootstrap_servers: BootstrapServers = "localhost:9092"
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_ca_location: str | None = None
    schema_registry_url: HttpUrl = "http://localhost:8081/apis/ccompat/v7"
    schema_registry_basic_auth: SecretStr | None = None
    topic_raw: TopicName = "sec.filings.raw"
    topic_analyzed: TopicName = "sec.filings.analyzed"
    topic_dlq: TopicName = "sec.filings.dlq"
    # The document text analyze read, per filing (FilingText), written with each analysis.
    topic_text: TopicName = "sec.filings.text"
    # Compacted; analyze's LLM answers by accession and model, so nothing is paid for twice.
    topic_llm_cache: TopicName = "sec.filings.llm-cache"
    # One partition; backfills handed over to the running live ingest (services/ingest/handoff.py).
    topic_ingest_control: TopicName = "sec.ingest.control"
    # How long a service rides out Kafka being unreachable (not ready meanwhile, resuming by
    # itself when it is back) before it exits non-zero for its supervisor to act.
    kafka_outage_tolerance_s: Annotated[float, Field(gt=0)] = 300.0
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"

    @model_validator(mode="after")
    def _topics_distinct(self) -> Self:
        names = [
            self.topic_raw,
            self.topic_analyzed,
            self.topic_dlq,
            self.topic_text,
            self.topic_llm_cache,
            self.topic_ingest_control,
        ]
        if len(set(names)) != len(names):
            raise ValueError(
                "TOPIC_RAW, TOPIC_ANALYZED, TOPIC_DLQ, TOPIC_TEXT, TOPIC_LLM_CACHE and "
                f"TOPIC_INGEST_CONTROL must differ, got {names}"
            )
        return self

    @model_validator(mode="after")
    def _sasl_complete(self) -> Self:
        if self.kafka_security_protocol.startswith("SASL_") and not (
            self.kafka_sasl_mechanism and self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError(
                "KAFKA_SECURITY_PROTOCOL is SASL_*, so KAFKA_SASL_MECHANISM, "
                "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required"
            )
        return self


class EdgarSettings(CommonSettings):
    """Services that read EDGAR (ingest, analyze). Each has its own share of SEC's 10 req/s."""

    edgar_base_url: HttpUrl = "https://www.sec.gov"
    edgar_data_url: HttpUrl = "https://data.sec.gov"
    # SEC requires a declared User-Agent naming the company and a contact address.
    edgar_user_agent: str | None = None
    edgar_timeout_s: Annotated[float, Field(gt=0)] = 10.0
    edgar_max_attempts: Annotated[int, Field(ge=1, le=20)] = 5

    @model_validator(mode="after")
    def _declared_user_agent_for_sec(self) -> Self:
        talks_to_sec = any(
            re.match(r"^https?://([^/]*\.)?sec\.gov(:\d+)?(/|$)", url)
            for url in (self.edgar_base_url, self.edgar_data_url)
        )
        declared = self.edgar_user_agent and re.search(r"\S+@\S+\.\S+", self.edgar_user_agent)
        if self.uses_edgar and talks_to_sec and not declared:
            raise ValueError(
                "EDGAR_USER_AGENT must name your company and a contact e-mail "
                '(e.g. "Example Corp contact@example.com"): SEC blocks undeclared tools'
            )
        return self

    @property
    def uses_edgar(self) -> bool:
        """Whether this configuration makes requests to EDGAR at all."""
        return True

    @property
    def user_agent(self) -> str:
        return self.edgar_user_agent or "sec-digester/0.1 (offline; no contact configured)"


class TopicSettings(CommonSettings):
    """`topics create`: partition counts, replication and retention of the topics."""

    topic_partitions: Annotated[int, Field(ge=1, le=10_000)] = 3
    topic_replication_factor: Annotated[int, Field(ge=1, le=32)] = 1
    # -1 is Kafka's "keep forever": replay from any position is the product.
    topic_retention_ms: Annotated[int, Field(ge=-1)] = -1
    topic_dlq_retention_ms: Annotated[int, Field(ge=-1)] = 30 * 24 * 3600 * 1000


class SchemaSettings(CommonSettings):
    """`schemas register|check`: the compatibility rule set on every subject."""

    # FULL_TRANSITIVE: new code replays every old record, and old consumers read new ones.
    schema_compatibility: Level = "FULL_TRANSITIVE"
    # `schemas check` only: a directory of proposed .avsc files to check instead of ours.
    schemas_dir: Path | None = None


def shared_environment(settings: CommonSettings) -> dict[str, str]:
    """The variables that point another process at the same Kafka, registry and topics."""
    return {
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "SCHEMA_REGISTRY_URL": settings.schema_registry_url,
        "TOPIC_RAW": settings.topic_raw,
        "TOPIC_ANALYZED": settings.topic_analyzed,
        "TOPIC_DLQ": settings.topic_dlq,
        "TOPIC_TEXT": settings.topic_text,
        "TOPIC_LLM_CACHE": settings.topic_llm_cache,
        "TOPIC_INGEST_CONTROL": settings.topic_ingest_control,
    }


SettingsT = TypeVar("SettingsT", bound=CommonSettings)


def setting_label(field: str) -> str:
    """How a user spells a setting: its environment variable and its flag."""
    return f"{field.upper()} (--{field.replace('_', '-')})"


def load_settings(cls: type[SettingsT], overrides: Mapping[str, object] | None = None) -> SettingsT:
    """Build a settings object from the environment plus flag overrides (None = not given)."""
    given: dict[str, Any] = {
        key: value for key, value in (overrides or {}).items() if value is not None
    }
    try:
        return cls(**given)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            where = setting_label(field) if field else "settings"
            problems.append(f"{where}: {error['msg']}")
        raise ConfigurationError("invalid configuration: " + "; ".join(problems)) from exc
