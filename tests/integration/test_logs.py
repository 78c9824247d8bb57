"""The gateway's stderr off a terminal: one JSON object a line, uvicorn's and httpx's lines
included, and no line per WebSocket connection (connection counts are a metric)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from services.common.settings import TopicSettings
from tests.support.gateway import GatewayProcess, publish_analyses
from tests.support.records import sample_analysis

pytestmark = pytest.mark.asyncio

_CONNECTIONS = 5


def _events(output: str) -> list[dict[str, Any]]:
    events = []
    for line in output.splitlines():
        if line.startswith("--- start"):  # ServiceProcess's marker, not the gateway's output
            continue
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
    return events


async def test_gateway_logs_json_lines_and_none_per_websocket_connection(
    topics: TopicSettings, tmp_path: Path
) -> None:
    await publish_analyses(topics, [sample_analysis(n) for n in range(1, 4)])
    # DEBUG lets httpx's line per request through (the readiness probe asks the registry);
    # LOG_FORMAT auto, as deployed: stderr is a file, so JSON.
    with GatewayProcess(topics, tmp_path, LOG_LEVEL="DEBUG", LOG_FORMAT="auto") as gateway:
        for _ in range(_CONNECTIONS):
            async with connect(f"{gateway.ws_url}?from=earliest") as ws:
                assert json.loads(await ws.recv())["type"] == "welcome"
                assert json.loads(await ws.recv())["type"] == "filing"
    events = _events(gateway.output())  # read after SIGTERM: shutdown lines included

    uvicorn = [e for e in events if e.get("logger") == "uvicorn.error"]
    assert any("Uvicorn running on" in e["event"] for e in uvicorn), uvicorn
    assert any("Shutting down" in e["event"] for e in uvicorn), uvicorn
    httpx = [e for e in events if e.get("logger") == "httpx"]
    assert any("/subjects" in e["event"] for e in httpx), httpx
    per_connection = [
        e for e in uvicorn if e["level"] != "debug" and '"WebSocket /stream' in e["event"]
    ]
    assert per_connection == []
