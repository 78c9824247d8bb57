"""A gateway process for tests, and records put straight on the analyzed topic."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Self

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

    def start(self, *, wait: bool = True) -> GatewayProcess:
        """`wait`: until /readyz answers 200 (else start several, then wait for each)."""
        super().start()
        if wait:
            self.wait_ready()
        return self


@contextlib.contextmanager
def running_gateways(*gateways: GatewayProcess) -> Iterator[tuple[GatewayProcess, ...]]:
    """Start the gateways side by side, then wait for each to be ready; stop them all after."""
    with contextlib.ExitStack() as stack:
        for gateway in gateways:
            stack.callback(gateway.__exit__, None, None, None)
            gateway.start(wait=False)
        for gateway in gateways:
            gateway.wait_ready()
        yield gateways


class AnalysesPublisher:
    """Puts FilingAnalysis records on the analyzed topic, and FilingText records on the text
    topic, each batch in one transaction as analyze does; one producer for every batch."""

    def __init__(self, settings: CommonSettings) -> None:
        self._settings = settings
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> Self:
        settings = self._settings
        registry = await self._stack.enter_async_context(open_registry(settings))
        self._codec = await AvroCodec(
            registry, subject_for(settings.topic_analyzed), SchemaName.FILING_ANALYSIS
        ).open()
        self._text_codec = await AvroCodec(
            registry, subject_for(settings.topic_text), SchemaName.FILING_TEXT
        ).open()
        config = producer_config(
            settings,
            client_id="test-analyses",
            transactional_id=f"analyses-{settings.topic_analyzed}",
        )
        self._producer = await self._stack.enter_async_context(KafkaProducer(config))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stack.aclose()

    async def publish(
        self, records: Sequence[dict[str, Any]], texts: Sequence[dict[str, Any]] = ()
    ) -> None:
        settings, producer = self._settings, self._producer
        await producer.begin_transaction()
        for record in records:
            key = record["filing"]["accession_number"].encode()
            producer.enqueue(settings.topic_analyzed, key=key, value=self._codec.encode(record))
        for text in texts:
            key = text["accession_number"].encode()
            producer.enqueue(settings.topic_text, key=key, value=self._text_codec.encode(text))
        await producer.commit_transaction()


async def publish_analyses(
    settings: CommonSettings,
    records: list[dict[str, Any]],
    texts: Sequence[dict[str, Any]] = (),
) -> None:
    """Put FilingAnalysis records on the analyzed topic, and FilingText records on the text
    topic, in one transaction as analyze does."""
    async with AnalysesPublisher(settings) as publisher:
        await publisher.publish(records, texts)
