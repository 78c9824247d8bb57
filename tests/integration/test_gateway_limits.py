"""Limits per API key on the gateway as users start it (its own process, real Kafka), through
standard clients (`websockets`, httpx): one key's replay from Kafka past its maximum is refused
with 4430 (HTTP 429 for SSE) while another key and live streams go on, and a freed slot serves
the next replay; likewise streams past the key's maximum with 4429. Every other setting is at
its default, the ring included: the topic holds more history than the ring, so that
`earliest` is read from Kafka.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from services.common.settings import TopicSettings
from services.gateway.settings import GatewaySettings
from tests.integration.test_gateway import first_frame, frames, until_closed
from tests.support.gateway import GatewayProcess, publish_analyses
from tests.support.records import sample_analysis

pytestmark = pytest.mark.asyncio
KEYS = "key-a,key-b"
# Older than the ring (GATEWAY_TAIL_BUFFER) by far more than the socket buffers between the
# gateway and a client that reads nothing hold (a few MB): such a client's replay stays in
# Kafka, holding its slot, until it goes.
RECORDS = GatewaySettings().gateway_tail_buffer + 8000


def _metric(text: str, name: str) -> float:
    """The value of the series `name` (with its labels, as /metrics writes it); 0 if absent."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def _metrics(gateway: GatewayProcess) -> str:
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as http:
        answer = await http.get("/metrics", params={"api_key": "key-b"})
        answer.raise_for_status()
        return answer.text


@contextlib.asynccontextmanager
async def _stalled(gateway: GatewayProcess, query: str) -> AsyncIterator[ClientConnection]:
    """A WebSocket client that reads nothing: a small receive buffer, one message queued."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting: no scaling
    sock.connect(("127.0.0.1", gateway.port))
    async with connect(f"{gateway.ws_url}?{query}", sock=sock, max_queue=1) as ws:
        yield ws


async def _sse(gateway: GatewayProcess, params: dict[str, str]) -> httpx.Response:
    headers = {"Accept": "text/event-stream"}
    async with (
        httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as http,
        http.stream("GET", "/stream", params=params, headers=headers) as response,
    ):
        if response.status_code == 200:
            async for line in response.aiter_lines():
                if line.startswith("event: welcome"):
                    break
        else:
            await response.aread()
        return response


async def test_one_keys_replays_past_its_maximum_are_refused_and_a_freed_slot_serves_again(
    topics: TopicSettings, tmp_path: Path
) -> None:
    maximum = GatewaySettings().gateway_max_replays_per_key
    await publish_analyses(topics, [sample_analysis(n) for n in range(1, RECORDS + 1)])
    with GatewayProcess(topics, tmp_path, GATEWAY_API_KEYS=KEYS) as gateway:
        async with contextlib.AsyncExitStack() as replays:
            held = [
                await replays.enter_async_context(_stalled(gateway, "from=earliest&api_key=key-a"))
                for _ in range(maximum)
            ]

            async def all_replaying() -> bool:
                return _metric(await _metrics(gateway), "gateway_replaying_clients") == maximum

            for _ in range(300):  # the replays reach Kafka
                if await all_replaying():
                    break
                await asyncio.sleep(0.1)
            assert await all_replaying()

            # One more of key a: refused before it starts, nothing to resume from.
            async with connect(f"{gateway.ws_url}?from=earliest&api_key=key-a") as ws:
                code, seen = await until_closed(ws)
            assert code == 4430
            (refusal,) = seen
            assert refusal["code"] == "too_many_replays"
            assert "GATEWAY_MAX_REPLAYS_PER_KEY" in refusal["message"]
            assert refusal["retry_after_s"] > 0
            assert "cursor" not in refusal
            sse = await _sse(gateway, {"from": "earliest", "api_key": "key-a"})
            assert sse.status_code == 429
            assert int(sse.headers["retry-after"]) > 0
            assert sse.json()["error"] == "too_many_replays"

            # Key b replays, and key a's live streams are no replays.
            async with connect(f"{gateway.ws_url}?from=earliest&api_key=key-b") as other:
                assert (await first_frame(other))["type"] == "welcome"
                assert len(await frames(other, 100)) == 100
            async with connect(f"{gateway.ws_url}?from=latest&api_key=key-a") as live:
                assert (await first_frame(live))["type"] == "welcome"
                await frames(live, 1, "caught_up")
            assert (await _sse(gateway, {"from": "latest", "api_key": "key-a"})).status_code == 200

            # A replay that ends gives its slot back: the next one of key a is served.
            await held[0].close()

            async def replays_again() -> dict[str, Any] | None:
                async with connect(f"{gateway.ws_url}?from=earliest&api_key=key-a") as ws:
                    frame = await first_frame(ws)
                    if frame["type"] != "welcome":
                        return None
                    return (await frames(ws, 1))[0]

            served = None
            for _ in range(100):
                if (served := await replays_again()) is not None:
                    break
                await asyncio.sleep(0.1)
            assert served is not None
            assert served["offset"] == 0
        metrics = await _metrics(gateway)
    assert _metric(metrics, 'gateway_key_limit_refusals_total{limit="replays"}') >= 2
    assert _metric(metrics, 'gateway_errors_total{code="too_many_replays"}') >= 2


async def test_one_keys_streams_past_its_maximum_are_refused_and_a_freed_slot_serves_again(
    topics: TopicSettings, tmp_path: Path
) -> None:
    maximum = 3  # the limit under test
    with GatewayProcess(
        topics, tmp_path, GATEWAY_API_KEYS=KEYS, GATEWAY_MAX_CONNECTIONS_PER_KEY=str(maximum)
    ) as gateway:
        url = f"{gateway.ws_url}?from=latest&api_key=key-a"
        async with contextlib.AsyncExitStack() as streams:
            held = [await streams.enter_async_context(connect(url)) for _ in range(maximum - 1)]
            for ws in held:
                assert (await first_frame(ws))["type"] == "welcome"
            sse_headers = {"Accept": "text/event-stream"}
            async with (
                httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as http,
                http.stream(
                    "GET", "/stream", params={"api_key": "key-a"}, headers=sse_headers
                ) as sse,
            ):
                assert sse.status_code == 200  # WebSocket and SSE count together
                async with connect(url) as refused_ws:
                    code, seen = await until_closed(refused_ws)
                refused_sse = await _sse(gateway, {"api_key": "key-a"})
                async with connect(f"{gateway.ws_url}?api_key=key-b") as other:
                    assert (await first_frame(other))["type"] == "welcome"
            assert code == 4429
            assert seen[0]["code"] == "too_many_connections"
            assert seen[0]["retry_after_s"] > 0
            assert refused_sse.status_code == 429
            assert int(refused_sse.headers["retry-after"]) > 0
            assert refused_sse.json()["error"] == "too_many_connections"

            # The SSE client went: its slot serves the next stream once the gateway notices,
            # at the latest at the stream's next keep-alive (15 s).
            async def streams_again() -> bool:
                async with connect(url) as ws:
                    return bool((await first_frame(ws))["type"] == "welcome")

            served, refused_meanwhile = False, 0
            for _ in range(200):
                if served := await streams_again():
                    break
                refused_meanwhile += 1  # refused too, and counted, while the slot was held
                await asyncio.sleep(0.2)
            assert served
        metrics = await _metrics(gateway)
    refusals = _metric(metrics, 'gateway_key_limit_refusals_total{limit="connections"}')
    assert refusals == 2 + refused_meanwhile
