"""The client's resume and acknowledgement rules, against a gateway that follows a script.

A real gateway decides by itself when to close a slow client or redeliver; here a small
WebSocket server plays those moments on cue, so each rule is checked deterministically: resume
from the cursor of a 4408 close, skip (and acknowledge) a redelivered record, and never
acknowledge a record whose handler raised.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sec_digester_client import ClientConfig, FilingAnalysis, StreamClient
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from tests.support.filing_json import filing_json

pytestmark = pytest.mark.asyncio


def filing(sequence: int, offset: int) -> dict[str, Any]:
    return {
        "type": "filing",
        "cursor": f"0:{offset + 1}",
        "partition": 0,
        "offset": offset,
        "data": filing_json(sequence),
    }


def welcome(start: str) -> dict[str, Any]:
    return {"type": "welcome", "topic": "t", "partitions": 1, "from": start, "client_id": "c"}


class ScriptedGateway:
    """Connection n plays `scripts[n]`: frames to send, then a close code (None: stay open)."""

    def __init__(self, scripts: list[tuple[list[dict[str, Any]], int | None]]) -> None:
        self._scripts = scripts
        self.queries: list[dict[str, list[str]]] = []
        self.opened: list[float] = []  # when each connection came (time.monotonic)
        self.acks: list[list[str]] = []  # per connection, the cursors acknowledged on it

    async def serve(self, websocket: ServerConnection) -> None:
        assert websocket.request is not None
        self.opened.append(time.monotonic())
        self.queries.append(parse_qs(urlsplit(websocket.request.path).query))
        acks: list[str] = []
        self.acks.append(acks)
        frames, close_code = self._scripts[len(self.queries) - 1]
        for frame in frames:
            await websocket.send(json.dumps(frame))
        if close_code is not None:
            await websocket.close(close_code)
            return
        try:
            async for text in websocket:
                message = json.loads(text)
                if message["type"] == "ack":
                    acks.append(message["cursor"])
        except ConnectionClosed:
            pass

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        async with serve(self.serve, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            yield f"ws://127.0.0.1:{port}/stream"


class HandlerError(Exception):
    pass


async def test_resume_after_a_slow_consumer_close_skip_redeliveries_ack_only_handled() -> None:
    slow = {"type": "error", "code": "slow_consumer", "message": "too slow", "cursor": "0:2"}
    gateway = ScriptedGateway(
        [
            ([welcome("0:0"), filing(1, 0), filing(2, 1), slow], 4408),
            # At least once: record 2 comes again, then 3, whose handler fails.
            ([welcome("0:2"), filing(2, 1), filing(3, 2)], None),
        ]
    )
    handled: list[str] = []

    async def handle(record: FilingAnalysis) -> None:
        if record.accession_number.endswith("3"):
            raise HandlerError(record.accession_number)
        handled.append(record.accession_number)

    async with gateway.running() as url:
        config = ClientConfig(url=url, client_id="c", start="earliest", backoff_initial_s=0.01)
        async with StreamClient(config) as client:
            with pytest.raises(HandlerError):
                await asyncio.wait_for(client.run(handle), timeout=30)
            assert client.position == "0:2"
            # The next run starts with the record whose handler failed.
            with pytest.raises(HandlerError, match="000003"):
                await asyncio.wait_for(client.run(handle), timeout=30)
    assert handled == ["0000019617-26-000001", "0000019617-26-000002"]
    first, second = gateway.queries
    assert first["from"] == ["earliest"]
    assert second["from"] == ["0:2"]  # the cursor of the 4408 close, not `earliest` again
    assert second["client_id"] == ["c"]
    # Record 2's position is acknowledged on the new connection (again for the redelivery,
    # which was not handed out); 3's handler failed, so 3 is not acknowledged.
    assert "0:3" not in gateway.acks[1]
    assert gateway.acks[1][-1] == "0:2"


async def test_a_key_at_its_replay_limit_comes_back_later_from_its_cursor() -> None:
    def refused(cursor: str | None) -> dict[str, Any]:
        frame = {"type": "error", "code": "too_many_replays", "message": "4 replays"}
        return frame | {"retry_after_s": 0.3} | ({"cursor": cursor} if cursor else {})

    gateway = ScriptedGateway(
        [
            # Refused before the stream starts: no welcome, no cursor.
            ([refused(None)], 4430),
            # Refused once it runs (a replay needed later): the cursor to resume from.
            ([welcome("0:0"), filing(1, 0), filing(2, 1), refused("0:2")], 4430),
            ([welcome("0:2"), filing(3, 2)], None),
        ]
    )
    async with gateway.running() as url:
        config = ClientConfig(url=url, start="earliest", backoff_initial_s=0.01)
        async with StreamClient(config) as client:
            handled = [
                (await asyncio.wait_for(anext(client), timeout=30)).accession_number
                for _ in range(3)
            ]
    assert handled == [f"0000019617-26-00000{n}" for n in (1, 2, 3)]
    assert [query["from"] for query in gateway.queries] == [["earliest"], ["earliest"], ["0:2"]]
    # Each time at least the gateway's retry_after_s later, far above the 10 ms backoff.
    first, second, third = gateway.opened
    assert second - first >= 0.3
    assert third - second >= 0.3
