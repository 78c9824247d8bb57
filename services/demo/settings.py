"""Settings of `sec-digester demo`: the local infrastructure's, the topics', the schemas', and
what the demo starts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Self

from pydantic import Field, model_validator

from services.common.settings import Port, SchemaSettings, TopicSettings
from services.infra.settings import InfraSettings

_REPOSITORY_CORPUS = Path(__file__).resolve().parents[2] / "samples" / "edgar-corpus"


class DemoSettings(InfraSettings, TopicSettings, SchemaSettings):
    demo_corpus: Path = _REPOSITORY_CORPUS
    demo_speed: Annotated[float, Field(gt=0)] = 60.0
    demo_live: bool = False
    demo_emulator_port: Port = 8900
    gateway_port: Port = 8000
    edgar_user_agent: str | None = None
    llm_model: str | None = None

    @model_validator(mode="after")
    def _corpus_or_live(self) -> Self:
        if not self.demo_live and not (self.demo_corpus / "manifest.jsonl").is_file():
            raise ValueError(
                f"DEMO_CORPUS (--demo-corpus): no recorded corpus at {self.demo_corpus}"
            )
        if self.demo_live and not self.edgar_user_agent:
            raise ValueError(
                "EDGAR_USER_AGENT is required with --demo-live (SEC blocks undeclared tools)"
            )
        return self
