"""Two connections with the same `client_id` at once: the newer one takes over, the older one
is closed with 4409 `superseded`, and the committed position never goes back
(docs/gateway-protocol.md, "One client_id, one connection").

On one gateway the takeover is immediate; across two gateways (what routing by client_id at the
balancer avoids, and what happens while the set of gateways changes) the older connection is
superseded at its next commit, which finds the newer one's claim on the committed offsets.
Throughout, the group's committed offsets are read every few milliseconds: they never decrease.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from services.common.kafka import GroupOffsets
from services.common.settings import TopicSettings
from tests.support.gateway import GatewayProcess, publish_analyses, running_gateways
from tests.support.records import sample_analysis

pytestmark = pytest.mark.asyncio

RECORDS = 30


@pytest.fixture
def gateway(topics: TopicSettings, tmp_path: Path) -> Iterator[GatewayProcess]:
    with GatewayProcess(topics, tmp_path) as process:
        yield process


class CommittedWatch:
    """The group's committed offset of partition 0, read over and over."""

    def __init__(self, settings: TopicSettings, client_id: str) -> None:
        self._settings = settings
        self._group = f"sec-gateway.{client_id}"
        self.seen: list[int] = []
        self._changed = asyncio.Event()

    async def current(self) -> int | None:
        committed = await self._pool.committed(self._group, self._settings.topic_analyzed, [0])
        return committed.get(0)

    async def _watch(self) -> None:
        while True:
            offset = await self.current()
            if offset is not None and (not self.seen or self.seen[-1] != offset):
                self.seen.append(offset)
                self._changed.set()
            await asyncio.sleep(0.01)

    async def until(self, offset: int) -> None:
        async with asyncio.timeout(20):
            while not self.seen or self.seen[-1] != offset:
                self._changed.clear()
                await self._changed.wait()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[CommittedWatch]:
        self._pool = GroupOffsets(self._settings, size=1, client_id="test-takeover")
        task = asyncio.create_task(self._watch())
        try:
            yield self
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await self._pool.aclose()


async def filings(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    async with asyncio.timeout(30):
        while len(found) < count:
            frame = json.loads(await ws.recv())
            if frame["type"] == "filing":
                found.append(frame)
    return found


async def ack(ws: ClientConnection, frame: dict[str, Any]) -> None:
    await ws.send(json.dumps({"type": "ack", "cursor": frame["cursor"]}))


async def superseded(ws: ClientConnection) -> dict[str, Any]:
    """The error frame that ends the connection (frames before it are skipped)."""
    async with asyncio.timeout(20):
        frame: dict[str, Any] = json.loads(await ws.recv())
        while frame["type"] != "error":
            frame = json.loads(await ws.recv())
        with pytest.raises(ConnectionClosed):
            await ws.recv()
    assert ws.close_code == 4409, ws.close_code
    assert ws.close_reason == "superseded"
    return frame


async def test_a_newer_connection_on_another_gateway_takes_over_and_the_position_never_goes_back(
    topics: TopicSettings, tmp_path: Path
) -> None:
    await publish_analyses(topics, [sample_analysis(n) for n in range(1, RECORDS + 1)])
    with running_gateways(
        GatewayProcess(topics, tmp_path, name="gateway-a"),
        GatewayProcess(topics, tmp_path, name="gateway-b"),
    ) as (first, second):
        async with CommittedWatch(topics, "bot-1").running() as committed:
            async with connect(f"{first.ws_url}?client_id=bot-1&from=earliest") as older:
                got = await filings(older, 20)
                await ack(older, got[9])
                await committed.until(got[9]["offset"] + 1)
                # The newer connection resumes from the committed position and claims it.
                async with connect(f"{second.ws_url}?client_id=bot-1") as newer:
                    welcome = json.loads(await newer.recv())
                    assert welcome["from"] == got[9]["cursor"]
                    # The older one acknowledges further: its commit finds the claim, and it
                    # is closed instead of writing.
                    await ack(older, got[19])
                    error = await superseded(older)
                    assert error["code"] == "superseded"
                    assert "client_id" in error["message"]
                    resumed = await filings(newer, 5)
                    assert resumed[0]["offset"] == got[10]["offset"]
                    await ack(newer, resumed[4])
                    await committed.until(resumed[4]["offset"] + 1)
                    await asyncio.sleep(1)  # two commit intervals: nothing else is written
            assert committed.seen == sorted(committed.seen), committed.seen
            assert committed.seen[-1] == resumed[4]["offset"] + 1
            assert got[19]["offset"] + 1 not in committed.seen  # the superseded ack


async def test_a_newer_connection_on_the_same_gateway_takes_over_at_once_after_the_older_acks(
    topics: TopicSettings, gateway: GatewayProcess
) -> None:
    await publish_analyses(topics, [sample_analysis(n) for n in range(1, RECORDS + 1)])
    async with CommittedWatch(topics, "bot-2").running() as committed:
        async with connect(f"{gateway.ws_url}?client_id=bot-2&from=earliest") as older:
            got = await filings(older, 12)
            await ack(older, got[11])
            await asyncio.sleep(0.1)  # the ack is in; its commit is not due yet
            async with connect(f"{gateway.ws_url}?client_id=bot-2") as newer:
                # The older connection's acknowledgement was written before the newer one
                # resolved `committed`: it starts right after it.
                welcome = json.loads(await newer.recv())
                assert welcome["from"] == got[11]["cursor"]
                error = await superseded(older)
                assert error["cursor"]  # where the older one had got to
                resumed = await filings(newer, 3)
                assert resumed[0]["offset"] == got[11]["offset"] + 1
                await ack(newer, resumed[2])
                await committed.until(resumed[2]["offset"] + 1)
        assert committed.seen == sorted(committed.seen), committed.seen


async def test_a_durable_client_that_acknowledged_nothing_resumes_from_its_first_start(
    topics: TopicSettings, gateway: GatewayProcess
) -> None:
    await publish_analyses(topics, [sample_analysis(n) for n in range(1, 11)])
    async with connect(f"{gateway.ws_url}?client_id=bot-3") as ws:  # nothing committed: latest
        first = json.loads(await ws.recv())
    # Its connection claimed the position with that start, before the welcome: records written
    # while it was away are not skipped by a `latest` resolved again.
    late = [sample_analysis(n) for n in range(11, 16)]
    await publish_analyses(topics, late)
    async with connect(f"{gateway.ws_url}?client_id=bot-3") as ws:
        welcome = json.loads(await ws.recv())
        assert welcome["from"] == first["from"]
        got = await filings(ws, len(late))
    assert [f["data"]["filing"]["accession_number"] for f in got] == [
        r["filing"]["accession_number"] for r in late
    ]
