"""The librdkafka settings of every client: connection, producer and consumer."""

from __future__ import annotations

from typing import Any

from services.common.logging import LIBRDKAFKA_LOGGER
from services.common.settings import CommonSettings


def connection_config(settings: CommonSettings) -> dict[str, Any]:
    """The librdkafka settings shared by every client: where the brokers are, how to log in,
    and where librdkafka's log lines go (our logs, as structured events, not its own stderr)."""
    config: dict[str, Any] = {
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "security.protocol": settings.kafka_security_protocol,
        "logger": LIBRDKAFKA_LOGGER,
    }
    if settings.kafka_sasl_mechanism:
        config["sasl.mechanism"] = settings.kafka_sasl_mechanism
        config["sasl.username"] = settings.kafka_sasl_username
        config["sasl.password"] = (
            settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else ""
        )
    if settings.kafka_ssl_ca_location:
        config["ssl.ca.location"] = settings.kafka_ssl_ca_location
    return config


def producer_config(
    settings: CommonSettings, *, client_id: str, transactional_id: str | None = None
) -> dict[str, Any]:
    """Idempotent, acks=all; transactional when a transactional id is given."""
    config = connection_config(settings) | {
        "client.id": client_id,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "compression.type": "zstd",
    }
    if transactional_id:
        config["transactional.id"] = transactional_id
    return config


def consumer_config(
    settings: CommonSettings, *, client_id: str, group_id: str | None = None
) -> dict[str, Any]:
    """Manual commits and read_committed, so aborted transactions are never seen."""
    return connection_config(settings) | {
        "client.id": client_id,
        # librdkafka requires a group id even for assign()-only consumers; it is unused then.
        "group.id": group_id or f"{client_id}.unused",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
    }
