"""/mcp on the gateway as users start it (`sec-digester gateway`, its own process, on real
Kafka with three partitions and its own filings store), through the MCP SDK's client: records
put on the analyzed topic as analyze does are found by the tools, whats_new walks them from a
cursor and the next cursor continues with what arrives later, and freshness reports the live
tail's histogram."""

from __future__ import annotations

import asyncio
import datetime as dt
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx
import pytest
from mcp import ClientSession

from services.common.settings import TopicSettings
from tests.support.gateway import GatewayProcess, publish_analyses
from tests.support.mcp import mcp_session, structured_result
from tests.support.records import sample_analysis

pytestmark = pytest.mark.asyncio
KEY = "integration-mcp-key"


def _session(base_url: str) -> AbstractAsyncContextManager[ClientSession]:
    return mcp_session(base_url, KEY)


async def _walk(session: ClientSession, since: str, wanted: int) -> tuple[list[str], str]:
    """whats_new from `since` until `wanted` filings came (the store feeds meanwhile)."""
    seen: list[str] = []
    async with asyncio.timeout(60):
        while len(seen) < wanted:
            page = await structured_result(session, "whats_new", since=since, limit=7)
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
            search = await structured_result(session, "search_filings", tickers=["jpm"], limit=100)
            async with httpx.AsyncClient(base_url=gateway.base_url) as rest:
                unauthorized = await rest.post("/mcp", json={})
                expected = await rest.get(
                    "/api/filings",
                    params={"tickers": "jpm", "limit": "100"},
                    headers={"Authorization": f"Bearer {KEY}"},
                )
            freshness = await structured_result(session, "freshness", topic="analyzed")
    assert tools == {"search_filings", "get_filing", "insider_activity", "whats_new", "freshness"}
    assert unauthorized.status_code == 401
    assert search == expected.json()
    assert search["count"] == 15 + 5
    accepted = {s["since"]: s for s in freshness["series"]}["accepted"]
    assert accepted["kafka_topic"] == three_partitions.topic_analyzed
    assert accepted["count"] >= len(later)
    assert accepted["p50"] == {"seconds": 3600, "beyond_largest_bucket": True}
