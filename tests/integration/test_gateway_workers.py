"""`sec-digester gateway --workers 2`: two gateway processes on one port, on real Kafka.

The kernel spreads connections over the workers (SO_REUSEPORT); each worker has its own tail,
so every client gets every record whichever worker took it; /metrics counts both workers
whichever answers. SIGTERM to the parent ends every worker cleanly.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from services.common.settings import TopicSettings
from tests.support.gateway import GatewayProcess, publish_analyses
from tests.support.records import sample_analysis
from tests.support.waiting import wait_for

pytestmark = pytest.mark.asyncio

CLIENTS = 40


def listening_sockets(port: int) -> int:
    """Listening TCP sockets on `port` (one per worker with SO_REUSEPORT)."""
    fields = [row.split() for row in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    return sum(1 for f in fields if f[3] == "0A" and int(f[1].split(":")[1], 16) == port)


def workers_that_opened_connections(log: str) -> Counter[int]:
    """From uvicorn's "connection open" lines, which carry the worker's index."""
    opened: Counter[int] = Counter()
    for line in log.splitlines():
        if line.startswith("{") and '"connection open"' in line:
            opened[json.loads(line)["worker"]] += 1
    return opened


def open_websockets(metrics: httpx.Response) -> float:
    for line in metrics.text.splitlines():
        if line.startswith('gateway_connections{transport="websocket"}'):
            return float(line.split()[-1])
    raise AssertionError(f"no gateway_connections on /metrics: {metrics.text[:2000]}")


async def caught_up(ws: ClientConnection) -> None:
    async with asyncio.timeout(60):
        while json.loads(await ws.recv())["type"] != "caught_up":
            pass


async def filings(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    async with asyncio.timeout(60):
        while len(found) < count:
            frame = json.loads(await ws.recv())
            if frame["type"] == "filing":
                found.append(frame)
    return found


@pytest.mark.timeout(240)
async def test_two_workers_share_the_port_every_client_gets_every_record_and_sigterm_ends_all(
    topics: TopicSettings, tmp_path: Path
) -> None:
    records = [sample_analysis(n) for n in range(1, 11)]
    with GatewayProcess(topics, tmp_path, GATEWAY_WORKERS="2") as gateway:
        # Ready means one worker answered /readyz; the other listens once its start-up is done.
        wait_for(lambda: listening_sockets(gateway.port) == 2, timeout_s=60, what="2 workers")
        clients = [await connect(f"{gateway.ws_url}?from=latest") for _ in range(CLIENTS)]
        await asyncio.gather(*(caught_up(ws) for ws in clients))
        opened = workers_that_opened_connections(gateway.output())
        assert set(opened) == {0, 1}, opened  # both workers serve clients
        # Whichever worker answers (new connections each), /metrics is both workers'.
        for _ in range(6):
            async with httpx.AsyncClient(timeout=10) as http:
                assert open_websockets(await http.get(f"{gateway.base_url}/metrics")) == CLIENTS
        await publish_analyses(topics, records)
        received = await asyncio.gather(*(filings(ws, len(records)) for ws in clients))
        expected = [r["filing"]["accession_number"] for r in records]
        for frames in received:  # one partition: in offset order, each with its cursor
            assert [f["data"]["filing"]["accession_number"] for f in frames] == expected
            assert [f["cursor"] for f in frames] == [f"0:{f['offset'] + 1}" for f in frames]
        gateway.signal(signal.SIGTERM)
        assert gateway.wait(timeout_s=60) == 0
        async with asyncio.timeout(30):
            await asyncio.gather(*(ws.wait_closed() for ws in clients))
        assert {ws.close_code for ws in clients} == {1012}  # service restart: reconnect
        assert listening_sockets(gateway.port) == 0
        log = gateway.output()
        assert log.count('"Application shutdown complete."') == 2
        assert '"exit_codes": [0, 0]' in log
