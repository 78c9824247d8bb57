"""A gateway process for tests, and records put straight on the analyzed topic."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from services.common.avro import AvroCodec
from services.common.kafka import KafkaProducer, producer_config
from services.common.registry import open_registry, subject_for
from services.common.schemas import SchemaName
from services.common.settings import CommonSettings
from tests.support.cli import environment_for
from tests.support.processes import ServiceProcess, free_port
from tests.support.waiting import wait_for


class GatewayProcess(ServiceProcess):
    def __init__(
        self, settings: CommonSettings, log_dir: Path, name: str = "gateway", **env: str
    ) -> None:
        self.port = free_port()
        # Its filings store beside its log: the test's own, never one in HOME.
        env = {"STORE_PATH": str(log_dir / f"{name}-store.sqlite3")} | env
        environment = environment_for(
            settings, GATEWAY_PORT=str(self.port), GATEWAY_HOST="127.0.0.1", **env
        )
        super().__init__(name, ["gateway"], environment, log_dir)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/stream"

    def wait_ready(self, timeout_s: float = 60) -> None:
        def ready() -> bool:
            try:
                return httpx.get(f"{self.base_url}/readyz", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, timeout_s=timeout_s, what=f"{self.name} ready")

    def start(self) -> GatewayProcess:
        super().start()
        self.wait_ready()
        return self


async def publish_analyses(
    settings: CommonSettings,
    records: list[dict[str, Any]],
    texts: Sequence[dict[str, Any]] = (),
) -> None:
    """Put FilingAnalysis records on the analyzed topic, and FilingText records on the text
    topic, in one transaction as analyze does."""
    async with open_registry(settings) as registry:
        codec = await AvroCodec(
            registry, subject_for(settings.topic_analyzed), SchemaName.FILING_ANALYSIS
        ).open()
        text_codec = await AvroCodec(
            registry, subject_for(settings.topic_text), SchemaName.FILING_TEXT
        ).open()
        config = producer_config(
            settings,
            client_id="test-analyses",
            transactional_id=f"analyses-{settings.topic_analyzed}",
        )
        async with KafkaProducer(config) as producer:
            await producer.begin_transaction()
            for record in records:
                key = record["filing"]["accession_number"].encode()
                producer.enqueue(settings.topic_analyzed, key=key, value=codec.encode(record))
            for text in texts:
                key = text["accession_number"].encode()
                producer.enqueue(settings.topic_text, key=key, value=text_codec.encode(text))
            await producer.commit_transaction()
