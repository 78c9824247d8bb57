"""/mcp on the gateway as users start it (`sec-digester gateway`, its own process, on real
Kafka with three partitions and its own filings store), through the MCP SDK's client: records
put on the analyzed topic as analyze does are found by the tools, whats_new walks them from a
cursor and the next cursor continues with what arrives later, and freshness reports the live
tail's histogram."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from services.common.settings import TopicSettings
from tests.support.gateway import GatewayProcess, publish_analyses
from tests.support.records import sample_analysis

pytestmark = pytest.mark.asyncio
KEY = "integration-mcp-key"


@asynccontextmanager
async def _session(base_url: str) -> AsyncIterator[ClientSession]:
    headers = {"Authorization": f"Bearer {KEY}"}
    async with (
        httpx.AsyncClient(headers=headers, timeout=30) as http,
        streamable_http_client(f"{base_url}/mcp", http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def _call(session: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await session.call_tool(tool, arguments)
    assert not result.isError, result.content
    assert result.structuredContent is not None
    return result.structuredContent


async def _walk(session: ClientSession, since: str, wanted: int) -> tuple[list[str], str]:
    """whats_new from `since` until `wanted` filings came (the store feeds meanwhile)."""
    seen: list[str] = []
    async with asyncio.timeout(60):
        while len(seen) < wanted:
            page = await _call(session, "whats_new", since=since, limit=7)
            seen += [f["filing"]["accession_number"] for f in page["filings"]]
            since = page["next"]
            if not page["more"]:
                await asyncio.sleep(0.2)
    return seen, since


async def test_the_gateway_serves_the_tools_at_mcp(
    three_partitions: TopicSettings, tmp_path: Path
) -> None:
    first = [sample_analysis(n, ticker=("JPM", "GS")[n % 2]) for n in range(1, 31)]
    await publish_analyses(three_partitions, first)
    with GatewayProcess(three_partitions, tmp_path, GATEWAY_API_KEYS=KEY) as gateway:
        async with _session(gateway.base_url) as session:
            tools = {tool.name for tool in (await session.list_tools()).tools}
            seen, cursor = await _walk(session, "0:0,1:0,2:0", len(first))
            assert sorted(seen) == sorted(r["filing"]["accession_number"] for r in first)
            later = [sample_analysis(n, ticker="JPM") for n in range(31, 36)]
            for record in later:  # accepted two hours ago: past the largest bucket (an hour)
                record["filing"]["accepted_at"] = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
            await publish_analyses(three_partitions, later)  # the live tail sees these
            more, _ = await _walk(session, cursor, len(later))
            assert sorted(more) == sorted(r["filing"]["accession_number"] for r in later)
            search = await _call(session, "search_filings", tickers=["jpm"], limit=100)
            async with httpx.AsyncClient(base_url=gateway.base_url) as rest:
                unauthorized = await rest.post("/mcp", json={})
                expected = await rest.get(
                    "/api/filings",
                    params={"tickers": "jpm", "limit": "100"},
                    headers={"Authorization": f"Bearer {KEY}"},
                )
            freshness = await _call(session, "freshness", topic="analyzed")
    assert tools == {"search_filings", "get_filing", "insider_activity", "whats_new", "freshness"}
    assert unauthorized.status_code == 401
    assert search == expected.json()
    assert search["count"] == 15 + 5
    accepted = {s["since"]: s for s in freshness["series"]}["accepted"]
    assert accepted["kafka_topic"] == three_partitions.topic_analyzed
    assert accepted["count"] >= len(later)
    assert accepted["p50"] == {"seconds": 3600, "beyond_largest_bucket": True}
