"""Start in any order: services started before Kafka and the registry exist wait for them.

As a scheduler does it: the services first, at their default settings (the outage tolerance
included), then the cluster, then the Job that creates the topics and registers the schemas.
Meanwhile each service is alive (/healthz 200) and not ready (/readyz 503), and says what it
waits for; once everything is there it starts by itself, and nothing is lost.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.infra import local
from services.infra.settings import InfraSettings
from tests.integration.test_whole_stack import corpus_accessions
from tests.support.cli import environment_for
from tests.support.infra import (
    infra_settings_for_tests,
    provision,
    session_port_offset,
    topic_settings,
)
from tests.support.processes import ServiceProcess, free_port
from tests.support.records import CORPUS_DIR
from tests.support.topic_reader import read_topic
from tests.support.waiting import wait_for_async

# Ports of their own, clear of the session's single node (+0) and three-node cluster (+20).
_LATE_INFRA_OFFSET = 30


@pytest.fixture
def late_infra(tmp_path: Path) -> Iterator[InfraSettings]:
    """A cluster and registry that are not running yet: the test starts them."""
    settings = infra_settings_for_tests(
        tmp_path / "late-infra", session_port_offset() + _LATE_INFRA_OFFSET
    )
    try:
        yield settings
    finally:
        local.down(settings)


def _health(port: int, path: str) -> int:
    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5).status_code
    except httpx.HTTPError:
        return 0


@pytest.mark.asyncio
@pytest.mark.timeout(300)
async def test_ingest_started_before_kafka_and_the_registry_waits_then_delivers_everything(
    late_infra: InfraSettings, tmp_path: Path
) -> None:
    topics = topic_settings(late_infra)
    health_port = free_port()
    ingest = ServiceProcess(
        "ingest",
        ["ingest", "--source", "replay", "--corpus", str(CORPUS_DIR), "--speed", "800"],
        environment_for(topics)
        | {"INGEST_REPLAY_MAX_GAP_S": "0.3", "INGEST_HEALTH_PORT": str(health_port)},
        tmp_path,
    )
    with ingest:

        def alive_not_ready() -> bool:
            statuses = [_health(health_port, p) for p in ("/healthz", "/readyz")]
            return statuses == [200, 503]

        await wait_for_async(alive_not_ready, timeout_s=60, what="/healthz 200 and /readyz 503")
        await asyncio.sleep(5)  # several probes and back-offs with nothing there
        assert ingest.running(), ingest.output()[-3000:]
        assert alive_not_ready()
        assert "waiting for the infrastructure" in ingest.output()
        assert "does not answer" in ingest.output()

        await asyncio.to_thread(local.up, late_infra)
        # The cluster answers before the Job has run: ingest names what it still waits for.
        await wait_for_async(
            lambda: "does not exist (`sec-digester topics create`)" in ingest.output(),
            timeout_s=60,
            what="ingest naming the missing topics",
        )
        assert alive_not_ready()  # Kafka and the registry answer, but ingest has not started
        await provision(topics)  # the chart's Job: topics, then schemas

        assert await asyncio.to_thread(ingest.wait, 180) == 0, ingest.output()[-3000:]
    log = ingest.output()
    assert "Traceback" not in log
    assert "the infrastructure answers: starting" in log
    records = read_topic(
        topics.kafka_bootstrap_servers, topics.schema_registry_url, topics.topic_raw
    )
    counts = Counter(record.key for record in records)
    assert set(counts) == corpus_accessions()
    assert max(counts.values()) == 1
