"""Start in any order: services started before Kafka and the registry exist wait for them.

As a scheduler does it: the services first, at their default settings (the outage tolerance
included), and `schemas register` (the chart's Job), then the cluster, then `topics create`.
Meanwhile each service is alive (/healthz 200) and not ready (/readyz 503), and says what it
waits for; once everything is there it starts by itself, and nothing is lost.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from services.infra import local
from services.infra.settings import InfraSettings
from tests.integration.test_whole_stack import corpus_accessions
from tests.support.cli import environment_for, run_cli
from tests.support.infra import (
    OWN_SINGLE_NODE_OFFSET,
    infra_settings_for_tests,
    session_port_offset,
    topic_settings,
)
from tests.support.processes import ServiceProcess, free_port
from tests.support.records import CORPUS_DIR
from tests.support.topic_reader import read_topic
from tests.support.waiting import wait_for_async


@pytest.fixture
def late_infra(tmp_path: Path) -> Iterator[InfraSettings]:
    """A cluster and registry that are not running yet: the test starts them (on the ports
    of the session's own single node, which tests start and stop one at a time)."""
    settings = infra_settings_for_tests(
        tmp_path / "late-infra", session_port_offset() + OWN_SINGLE_NODE_OFFSET
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


def _says(service: ServiceProcess, phrase: str) -> bool:
    return phrase in service.output()


def _alive_not_ready(port: int) -> bool:
    return [_health(port, path) for path in ("/healthz", "/readyz")] == [200, 503]


@pytest.mark.asyncio
@pytest.mark.timeout(420)
async def test_services_started_before_kafka_and_the_registry_wait_then_deliver_everything(
    late_infra: InfraSettings, tmp_path: Path
) -> None:
    topics = topic_settings(late_infra)
    env = environment_for(topics, ANALYZE_FETCH_FORMS="")
    ports = {"ingest": free_port(), "analyze": free_port(), "gateway": free_port()}
    ingest = ServiceProcess(
        "ingest",
        ["ingest", "--source", "replay", "--corpus", str(CORPUS_DIR), "--speed", "800"],
        env | {"INGEST_REPLAY_MAX_GAP_S": "0.3", "INGEST_HEALTH_PORT": str(ports["ingest"])},
        tmp_path,
    )
    analyze = ServiceProcess(
        "analyze",
        ["analyze"],
        env
        | {
            "ANALYZE_HEALTH_PORT": str(ports["analyze"]),
            "ANALYZE_GROUP_ID": f"start-order-{topics.topic_raw}",
        },
        tmp_path,
    )
    gateway = ServiceProcess(
        "gateway",
        ["gateway"],
        env
        | {
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(ports["gateway"]),
            "STORE_PATH": str(tmp_path / "gateway-store.sqlite3"),
        },
        tmp_path,
    )
    services = {"ingest": ingest, "analyze": analyze, "gateway": gateway}
    with ingest, analyze, gateway:
        for name in services:
            await wait_for_async(
                functools.partial(_alive_not_ready, ports[name]),
                timeout_s=60,
                what=f"{name}: /healthz 200 and /readyz 503",
            )
        await asyncio.sleep(5)  # several probes and back-offs with nothing there
        for name, service in services.items():
            assert service.running(), service.output()[-3000:]
            assert _alive_not_ready(ports[name]), name
            assert "waiting for the infrastructure" in service.output(), name
            assert "does not answer" in service.output(), name
        await _assert_gateway_says_it_is_starting(ports["gateway"])
        # The chart's Job started as early: `schemas register` waits for the registry too.
        register = ServiceProcess("schemas-register", ["schemas", "register"], env, tmp_path)
        register.start()
        await asyncio.sleep(3)
        assert register.running(), register.output()
        assert "waiting for the infrastructure" in register.output()

        await asyncio.to_thread(local.up, late_infra)
        assert await asyncio.to_thread(register.wait, 120) == 0, register.output()
        # The subjects are there, the topics not yet: each service names what it waits for.
        for name, service in services.items():
            await wait_for_async(
                functools.partial(
                    _says,
                    service,
                    "does not exist or has no leader yet (`sec-digester topics create`)",
                ),
                timeout_s=60,
                what=f"{name} naming the missing topics",
            )
            assert _alive_not_ready(ports[name]), name  # not started: not ready
        created = run_cli("topics", "create", env=env)
        assert created.returncode == 0, created.stderr

        assert await asyncio.to_thread(ingest.wait, 180) == 0, ingest.output()[-3000:]
        wanted = corpus_accessions()

        def analyzed() -> bool:
            records = read_topic(
                topics.kafka_bootstrap_servers, topics.schema_registry_url, topics.topic_analyzed
            )
            return len(records) >= len(wanted)

        await wait_for_async(analyzed, timeout_s=120, what="every filing analyzed")
        assert _health(ports["analyze"], "/readyz") == 200
        assert _health(ports["gateway"], "/readyz") == 200
        assert analyze.running()
        streamed = await _stream_to_the_end(ports["gateway"])
        assert set(streamed) == wanted
    for name, service in services.items():
        log = service.output()
        assert "Traceback" not in log, name
        assert "the infrastructure answers: starting" in log, name
    for topic in (topics.topic_raw, topics.topic_analyzed):
        records = read_topic(topics.kafka_bootstrap_servers, topics.schema_registry_url, topic)
        counts = Counter(record.key for record in records)
        assert set(counts) == wanted, topic
        assert max(counts.values()) == 1, topic


async def _assert_gateway_says_it_is_starting(port: int) -> None:
    """While it waits, the gateway answers every request 503 `unavailable`, saying why."""
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.get(f"http://127.0.0.1:{port}/api/filings")
    assert answer.status_code == 503
    assert answer.json()["error"] == "unavailable"
    assert answer.json()["message"].startswith("the gateway is starting: Kafka (")
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"ws://127.0.0.1:{port}/stream?from=earliest", open_timeout=10):
            pass
    assert refused.value.response.status_code == 503


async def _stream_to_the_end(port: int) -> list[str]:
    """The accession numbers /stream gives from the beginning until it has caught up."""
    accessions: list[str] = []
    async with connect(f"ws://127.0.0.1:{port}/stream?from=earliest", open_timeout=10) as ws:
        async with asyncio.timeout(60):
            async for message in ws:
                frame = json.loads(message)
                if frame["type"] == "filing":
                    accessions.append(frame["data"]["filing"]["accession_number"])
                elif frame["type"] == "caught_up":
                    return accessions
    raise AssertionError("the stream ended before it caught up")
