"""Settings of `sec-digester infra`: where the local broker and registry listen and keep data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from services.common.settings import CommonSettings, Port


class InfraSettings(CommonSettings):
    # Data (Kafka log dirs, pid files, logs) and the download cache live under the home
    # directory by default so that a second `up`, and a second CI run, reuse them.
    infra_dir: Path = Path.home() / ".local" / "share" / "sec-digester" / "infra"
    infra_cache_dir: Path = Path.home() / ".cache" / "sec-digester"
    infra_host: str = "127.0.0.1"
    infra_kafka_port: Port = 9092
    infra_controller_port: Port = 9093
    infra_registry_port: Port = 8081
    # kafkasql keeps schemas in a Kafka topic, so they survive a registry restart;
    # mem is for throw-away runs only.
    infra_registry_storage: Literal["kafkasql", "mem"] = "kafkasql"
    infra_kafka_heap: str = "1g"
    infra_registry_heap: str = "512m"
    infra_start_timeout_s: Annotated[float, Field(gt=0)] = 180.0
    java_home: Path | None = None

    @model_validator(mode="after")
    def _ports_distinct(self) -> Self:
        ports = [self.infra_kafka_port, self.infra_controller_port, self.infra_registry_port]
        if len(set(ports)) != len(ports):
            raise ValueError(
                "INFRA_KAFKA_PORT, INFRA_CONTROLLER_PORT and INFRA_REGISTRY_PORT must differ, "
                f"got {ports}"
            )
        return self

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.infra_host}:{self.infra_kafka_port}"

    @property
    def registry_url(self) -> str:
        return f"http://{self.infra_host}:{self.infra_registry_port}/apis/ccompat/v7"

    @property
    def java(self) -> str:
        return str(self.java_home / "bin" / "java") if self.java_home else "java"
