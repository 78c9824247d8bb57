"""The MCP tools at /mcp through the SDK's own client (ClientSession over Streamable HTTP),
against the gateway's routes served by uvicorn over a real SQLite store: the five tools with
their schemas, answers equal to REST's for the same filters, insider totals against figures
computed by hand from real Form 4s (the corpus), whats_new walked to the end and continued,
bad arguments refused by name, the API keys, and `sec-digester mcp` on stdio relaying to it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client
from prometheus_client import CollectorRegistry, Histogram
from starlette.applications import Starlette
from starlette.middleware import Middleware

from services.gateway.auth import ApiKeyMiddleware
from services.gateway.limits import KeyLimits
from services.gateway.metrics import FRESHNESS_BUCKETS, FRESHNESS_NAME
from services.gateway.settings import GatewaySettings
from services.gateway.state import McpState, RestState
from services.gateway.tools import GatewayTools
from services.gateway.transports.mcp import MCP_ROUTE, mcp_sessions
from services.gateway.transports.rest import REST_ROUTES
from services.store.rows import FilingRow
from services.store.sqlite import SqliteStore
from tests.support.asgi_server import serve_app
from tests.support.facts_records import insider_record
from tests.support.filing_json import as_decoded, filing_record
from tests.support.mcp import mcp_session, structured_result
from tests.support.waiting import wait_for_async

KEY = "mcp-test-key"
ANALYZED = "sec.filings.analyzed"
NOW = dt.datetime.now(dt.UTC)
T0 = NOW - dt.timedelta(days=30)
TOOLS = {"search_filings", "get_filing", "insider_activity", "whats_new", "freshness"}
# Real Form 4s of the corpus (tests/fixtures/facts/ownership_expected.json): Apple's COO
# Williams sold five lots on 2019-05-02, its CFO Maestri one; Snowflake's CFO Scarpelli
# exercised options (M, in both tables) and sold five lots.
APPLE_WILLIAMS = ("aapl-4-1.xml", 3)  # accepted 3 days ago
APPLE_MAESTRI = ("aapl-4-2.xml", 10)
APPLE_OLD = ("aapl-4-2.xml", 400)  # outside a year's window
SNOWFLAKE = ("snow-4-1.xml", 2)


class _State(RestState, McpState):
    """What the routes under test read."""


REPOSITORY = Path(__file__).resolve().parents[2]


class _Served:
    def __init__(
        self, url: str, registry: CollectorRegistry, freshness: Histogram, limits: KeyLimits
    ) -> None:
        self.url = url
        self.registry = registry
        self.freshness = freshness
        self.limits = limits


def _records() -> list[dict[str, Any]]:
    """60 filings a minute apart from T0 (even ones GS, every third a 10-Q/A), then the Form 4s."""
    records = [
        filing_record(
            n,
            tickers=("GS",) if n % 2 == 0 else ("JPM",),
            form_type="10-Q/A" if n % 3 == 0 else "8-K",
            accepted_at=T0 + dt.timedelta(minutes=n),
        )
        for n in range(1, 61)
    ]
    for sequence, (document, days_ago) in enumerate(
        (APPLE_WILLIAMS, APPLE_MAESTRI, APPLE_OLD, SNOWFLAKE), start=901
    ):
        record = insider_record(sequence, document)
        record["filing"]["accepted_at"] = NOW - dt.timedelta(days=days_ago)
        records.append(as_decoded(record))
    return records


def _rows(records: list[dict[str, Any]]) -> list[FilingRow]:
    """Over three partitions, offsets 0, 1, 2, ... in each."""
    return [FilingRow.of(n % 3, n // 3, record) for n, record in enumerate(records)]


def _ends(rows: list[FilingRow]) -> dict[int, int]:
    ends: dict[int, int] = {}
    for row in rows:
        ends[row.partition] = max(ends.get(row.partition, 0), row.offset + 1)
    return ends


@asynccontextmanager
async def _gateway(
    path: Path, rows: list[FilingRow], keys: frozenset[str] = frozenset(), *, writer: bool = True
) -> AsyncIterator[_Served]:
    """The gateway's REST and MCP routes behind its auth middleware, over a store of `rows`;
    the freshness histogram of a registry of the test's own (as /metrics exposes it)."""
    registry = CollectorRegistry()
    limits = KeyLimits.of(GatewaySettings())
    freshness = Histogram(
        FRESHNESS_NAME,
        "freshness",
        ["topic", "since"],
        buckets=FRESHNESS_BUCKETS,
        registry=registry,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[_State]:
        async with SqliteStore(path, ANALYZED, "sec.filings.text", writer=writer) as store:
            if writer:
                await store.write(rows, _ends(rows))
            tools = GatewayTools(store, registry, {"analyzed": ANALYZED, "raw": "sec.filings.raw"})
            sessions = mcp_sessions(tools)
            async with sessions.run():
                yield {"store": store, "mcp": sessions, "limits": limits}

    app = Starlette(
        routes=[*REST_ROUTES, MCP_ROUTE],
        middleware=[Middleware(ApiKeyMiddleware, keys=keys)],
        lifespan=lifespan,
    )
    async with serve_app(app, lifespan="on") as base_url:
        yield _Served(base_url, registry, freshness, limits)


async def _refusal(session: ClientSession, tool: str, **arguments: Any) -> str:
    result = await session.call_tool(tool, arguments)
    assert result.isError
    assert result.structuredContent is None
    (content,) = result.content
    assert isinstance(content, types.TextContent)
    assert "Traceback" not in content.text
    return content.text


def _accessions(filings: list[dict[str, Any]]) -> list[str]:
    return [filing["filing"]["accession_number"] for filing in filings]


@pytest.fixture
def served(tmp_path: Path) -> Callable[..., AbstractAsyncContextManager[_Served]]:
    rows = _rows(_records())

    def open_gateway(keys: frozenset[str] = frozenset()) -> AbstractAsyncContextManager[_Served]:
        return _gateway(tmp_path / "store.sqlite3", rows, keys)

    return open_gateway


@pytest.mark.asyncio
async def test_the_five_tools_are_listed_with_their_schemas(
    served: Callable[..., AbstractAsyncContextManager[_Served]],
) -> None:
    async with served() as gateway, mcp_session(gateway.url) as session:
        listed = (await session.list_tools()).tools
    assert {tool.name for tool in listed} == TOOLS
    for tool in listed:
        assert tool.description
        jsonschema.Draft202012Validator.check_schema(tool.inputSchema)
        assert tool.outputSchema is not None
        jsonschema.Draft202012Validator.check_schema(tool.outputSchema)
        assert tool.inputSchema["additionalProperties"] is False
    schemas = {tool.name: tool for tool in listed}
    search = schemas["search_filings"]
    assert {"tickers", "forms", "q", "since", "until", "cik", "limit", "next"} <= set(
        search.inputSchema["properties"]
    )
    assert "FilingAnalysis" in (search.outputSchema or {})["$defs"]
    assert schemas["insider_activity"].inputSchema["required"] == ["ticker"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("arguments", "params"),
    [
        ({}, {}),
        ({"tickers": ["jpm"], "forms": ["10-Q"]}, {"tickers": "jpm", "forms": "10-Q"}),
        (
            {"transaction_codes": ["S"], "min_value_usd": 1e6},
            {"transaction_codes": "S", "min_value_usd": "1000000.0"},
        ),
        ({"q": "filing GS", "limit": 7}, {"q": "filing GS", "limit": "7"}),
        (
            {"since": (T0 + dt.timedelta(minutes=30)).isoformat(), "cik": "19617"},
            {"since": (T0 + dt.timedelta(minutes=30)).isoformat(), "cik": "19617"},
        ),
    ],
    ids=["all", "ticker-form", "codes-value", "q-limit", "since-cik"],
)
async def test_search_filings_answers_as_rest_does_page_by_page(
    served: Callable[..., AbstractAsyncContextManager[_Served]],
    arguments: dict[str, Any],
    params: dict[str, str],
) -> None:
    async with (
        served() as gateway,
        mcp_session(gateway.url) as session,
        httpx.AsyncClient(base_url=gateway.url) as rest,
    ):
        output_schema = {t.name: t for t in (await session.list_tools()).tools}["search_filings"]
        params = {"limit": "10"} | params
        pages = 0
        while True:
            answer = await structured_result(session, "search_filings", **arguments)
            jsonschema.validate(answer, output_schema.outputSchema or {})
            expected = (await rest.get("/api/filings", params=params)).json()
            assert answer == expected
            pages += 1
            if answer["next"] is None:
                break
            arguments = arguments | {"next": answer["next"]}
            params = params | {"before": answer["next"]}
    assert answer["count"] > 0 or pages == 1


@pytest.mark.asyncio
async def test_get_filing_is_the_record_and_an_unknown_one_is_refused(
    served: Callable[..., AbstractAsyncContextManager[_Served]],
) -> None:
    async with (
        served() as gateway,
        mcp_session(gateway.url) as session,
        httpx.AsyncClient(base_url=gateway.url) as rest,
    ):
        answer = await structured_result(session, "get_filing", accession="0000019617-26-000007")
        assert answer["filing"] == (await rest.get("/api/filings/0000019617-26-000007")).json()
        assert answer["as_of"] == "0:22,1:21,2:21"
        missing = await _refusal(session, "get_filing", accession="0000019617-26-000077")
        malformed = await _refusal(session, "get_filing", accession="19617-26-7")
    assert missing.startswith("accession: 0000019617-26-000077 is not in the filings store")
    assert malformed.startswith("accession: '19617-26-7' is not an accession number")


@pytest.mark.asyncio
async def test_insider_activity_totals_the_form_4s_per_insider_and_code(
    served: Callable[..., AbstractAsyncContextManager[_Served]],
) -> None:
    async with served() as gateway, mcp_session(gateway.url) as session:
        apple = await structured_result(session, "insider_activity", ticker="aapl", days=365)
        recent = await structured_result(session, "insider_activity", ticker="AAPL", days=5)
        snowflake = await structured_result(session, "insider_activity", ticker="SNOW")
    assert (apple["ticker"], apple["filings"], apple["amendments"]) == ("AAPL", 2, 0)
    # By hand from aapl-4-2.xml: 243,431 shares at $116.89; from aapl-4-1.xml, five lots:
    # 13,433 + 18,256 + 8,601 + 14,571 + 1,550 shares for $2,807,362.67 + 3,828,465.76 +
    # 1,814,638.98 + 3,086,574.93 + 329,313.00.
    maestri, williams = apple["insiders"]  # most value first
    assert [o["name"] for o in maestri["owners"]] == ["Maestri Luca"]
    assert [o["name"] for o in williams["owners"]] == ["WILLIAMS JEFFREY E"]
    assert williams["owners"][0]["roles"] == ["officer"]
    assert williams["owners"][0]["officer_title"] == "COO"
    (sales,) = williams["by_code"]
    assert (sales["code"], sales["table"], sales["meaning"]) == ("S", "non_derivative", "sold")
    assert sales["transactions"] == 5
    assert sales["shares_disposed"] == 56_411
    assert sales["value_disposed_usd"] == pytest.approx(11_866_355.34)
    assert (sales["shares_acquired"], sales["value_acquired_usd"], sales["unpriced"]) == (0, 0, 0)
    assert maestri["totals"]["shares_disposed"] == 243_431
    assert maestri["totals"]["value_disposed_usd"] == pytest.approx(28_454_649.59)
    (every_sale,) = apple["by_code"]
    assert every_sale["transactions"] == 6
    assert every_sale["shares_disposed"] == 56_411 + 243_431
    assert every_sale["value_disposed_usd"] == pytest.approx(11_866_355.34 + 28_454_649.59)
    # Five days back: Williams' filing only.
    assert [i["owners"][0]["name"] for i in recent["insiders"]] == ["WILLIAMS JEFFREY E"]
    # snow-4-1.xml: 200,000 options exercised at $8.88 (Table I acquires the shares, Table II
    # gives up the options, worth 0), then 73,170 + 74,907 + 41,986 + 5,496 + 4,441 shares sold
    # for $11,037,035.97 + 11,371,931.298 + 6,409,372.83 + 845,680.512 + 687,289.16.
    (scarpelli,) = snowflake["insiders"]
    by_code = {(c["table"], c["code"]): c for c in scarpelli["by_code"]}
    assert set(by_code) == {("non_derivative", "M"), ("non_derivative", "S"), ("derivative", "M")}
    assert by_code[("non_derivative", "M")]["shares_acquired"] == 200_000
    assert by_code[("non_derivative", "M")]["value_acquired_usd"] == pytest.approx(1_776_000)
    assert by_code[("derivative", "M")]["shares_acquired"] == 200_000
    assert by_code[("non_derivative", "S")]["shares_disposed"] == 200_000
    sold = 11_037_035.97 + 11_371_931.298 + 6_409_372.83 + 845_680.512 + 687_289.16
    assert by_code[("non_derivative", "S")]["value_disposed_usd"] == pytest.approx(sold)
    # The totals are Table I's: the stock itself, not the options.
    assert scarpelli["totals"]["shares_acquired"] == 200_000
    assert scarpelli["totals"]["value_disposed_usd"] == pytest.approx(sold)
    assert scarpelli["totals"]["transactions"] == 6


@pytest.mark.asyncio
async def test_whats_new_walks_to_the_end_and_continues_with_nothing_missed_or_repeated(
    tmp_path: Path,
) -> None:
    records = _records()
    rows = _rows(records)
    first, later = rows[:40], rows[40:]
    path = tmp_path / "store.sqlite3"
    async with _gateway(path, first) as gateway, mcp_session(gateway.url) as session:
        newest = await structured_result(session, "whats_new", limit=3)
        assert newest["count"] == 3
        assert newest["next"] == newest["as_of"] == "0:14,1:13,2:13"
        seen: list[str] = []
        cursor = "0:0"  # partitions 1 and 2 left out: from their beginnings
        while True:
            page = await structured_result(session, "whats_new", since=cursor, limit=7)
            assert page["count"] <= 7
            seen.extend(_accessions(page["filings"]))
            cursor = page["next"]
            if not page["more"]:
                break
        assert sorted(seen) == sorted(r.accession for r in first)
        assert cursor == newest["as_of"]
        empty = await structured_result(session, "whats_new", since=cursor)
        assert (empty["count"], empty["next"]) == (0, cursor)
        # More arrives (another writer's transaction): the cursor continues with just that.
        async with SqliteStore(path, "sec.filings.analyzed", "sec.filings.text") as store:
            await store.write(later, _ends(rows))
        page = await structured_result(session, "whats_new", since=cursor, limit=1000)
    assert sorted(_accessions(page["filings"])) == sorted(r.accession for r in later)
    assert page["next"] == "0:22,1:21,2:21"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("search_filings", {"forms": ["8 K!"]}, "forms: '8 K!' is not a valid value"),
        ("search_filings", {"min_priority": "urgent"}, "min_priority: 'urgent' is not one of low"),
        ("search_filings", {"transaction_codes": ["Q"]}, "transaction_codes: 'Q' is not one of"),
        ("search_filings", {"since": "yesterday"}, "since: 'yesterday' is not an ISO-8601 time"),
        ("search_filings", {"next": "page-2"}, "next: not a `next` token"),
        ("search_filings", {"q": "x" * 501}, "q: longer than 500 characters"),
        ("search_filings", {"limit": 0}, "limit: Input should be greater than or equal to 1"),
        ("search_filings", {"tickers": "JPM"}, "tickers: Input should be a valid list"),
        ("search_filings", {"ticker": ["JPM"]}, "ticker: Extra inputs are not permitted"),
        ("insider_activity", {"ticker": "AAPL", "days": 0}, "days: Input should be greater"),
        ("insider_activity", {"ticker": "AAPL", "days": 3651}, "days: Input should be less"),
        ("insider_activity", {"ticker": "A A"}, "ticker: 'A A' is not a valid value"),
        ("insider_activity", {}, "ticker: Field required"),
        ("whats_new", {"since": "yesterday"}, "since: 'yesterday' is not a cursor (P:O[,P:O...])"),
        ("whats_new", {"since": "0:1,0:2"}, "since: partition 0 appears twice"),
        ("freshness", {"topic": "dlq"}, "topic: 'dlq' is not one of analyzed, raw"),
        ("no_such_tool", {}, "name: 'no_such_tool' is not a tool"),
    ],
)
async def test_a_bad_argument_is_refused_by_name(
    served: Callable[..., AbstractAsyncContextManager[_Served]],
    tool: str,
    arguments: dict[str, Any],
    message: str,
) -> None:
    async with served() as gateway, mcp_session(gateway.url) as session:
        refusal = await _refusal(session, tool, **arguments)
    assert refusal.startswith(message), refusal


@pytest.mark.asyncio
async def test_a_store_that_cannot_answer_is_said_so(tmp_path: Path) -> None:
    # A reader of a file no feeder has created yet.
    async with (
        _gateway(tmp_path / "absent.sqlite3", [], writer=False) as gateway,
        mcp_session(gateway.url) as session,
    ):
        refusal = await _refusal(session, "search_filings")
    assert refusal.startswith("the filings store: store ")


@pytest.mark.asyncio
async def test_freshness_interpolates_within_the_histograms_buckets(
    served: Callable[..., AbstractAsyncContextManager[_Served]],
) -> None:
    async with served() as gateway, mcp_session(gateway.url) as session:
        before = await structured_result(session, "freshness")
        accepted = gateway.freshness.labels(ANALYZED, "accepted")
        for _ in range(10):
            accepted.observe(0.3)  # bucket (0.25, 0.5]
            accepted.observe(1.5)  # bucket (1, 2]
        detected = gateway.freshness.labels(ANALYZED, "detected")
        for seconds in (0.05, 5000, 5000):  # two past the largest bucket (3600)
            detected.observe(seconds)
        gateway.freshness.labels("another.pipeline.topic", "accepted").observe(1)  # not ours
        answer = await structured_result(session, "freshness", topic="analyzed")
        both = await structured_result(session, "freshness")
        raw = await structured_result(session, "freshness", topic="raw")
    assert before["series"] == []
    assert raw["series"] == []
    assert both == answer
    assert {s["kafka_topic"] for s in answer["series"]} == {ANALYZED}
    series = {s["since"]: s for s in answer["series"]}
    # p50: rank 10 of 20, all 10 of the bucket (0.25, 0.5]: its upper bound. p95: rank 19, the
    # 9th of the 10 in (1, 2]: 1 + 9/10.
    assert series["accepted"]["count"] == 20
    assert series["accepted"]["p50"] == {
        "seconds": pytest.approx(0.5),
        "beyond_largest_bucket": False,
    }
    assert series["accepted"]["p95"] == {
        "seconds": pytest.approx(1.9),
        "beyond_largest_bucket": False,
    }
    assert series["accepted"]["mean_s"] == pytest.approx(0.9)
    assert series["detected"]["p50"] == {"seconds": 3600, "beyond_largest_bucket": True}


@pytest.mark.asyncio
async def test_mcp_takes_the_api_keys_rest_does(
    served: Callable[..., AbstractAsyncContextManager[_Served]],
) -> None:
    async with served(frozenset({KEY})) as gateway, httpx.AsyncClient(base_url=gateway.url) as http:
        rest = await http.get("/api/filings")
        initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
        bare = await http.post("/mcp", json=initialize)
        wrong = await http.post("/mcp", json=initialize, headers={"Authorization": "Bearer nope"})
        rest_wrong = await http.get("/api/filings", headers={"Authorization": "Bearer nope"})
        async with mcp_session(gateway.url, KEY) as session:
            answer = await structured_result(session, "search_filings", limit=1)
    assert (rest.status_code, bare.status_code) == (401, 401)
    assert bare.json() == rest.json()
    assert bare.headers["www-authenticate"] == "Bearer"
    assert (wrong.status_code, wrong.json()) == (401, rest_wrong.json())
    assert answer["count"] == 1


@pytest.mark.asyncio
async def test_a_key_with_its_maximum_of_requests_in_flight_is_answered_429(
    served: Callable[..., AbstractAsyncContextManager[_Served]],
) -> None:
    maximum = GatewaySettings().gateway_max_mcp_requests_per_key
    headers = {
        "Authorization": f"Bearer {KEY}",
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
    }
    body = b'{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}'
    finish = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        await finish.wait()  # the request is in flight, its slot held, until its body comes
        yield body

    async with served(frozenset({KEY})) as gateway, httpx.AsyncClient(base_url=gateway.url) as http:
        held = [
            asyncio.create_task(http.post("/mcp", content=slow_body(), headers=headers))
            for _ in range(maximum)
        ]
        await wait_for_async(
            lambda: gateway.limits.mcp_requests.held(KEY) == maximum,
            timeout_s=30,
            what="every slow request in flight",
            interval_s=0.01,
        )
        refused = await http.post("/mcp", content=body, headers=headers)
        finish.set()
        answers = await asyncio.gather(*held)
        again = await http.post("/mcp", content=body, headers=headers)
    assert refused.json()["error"] == "too_many_requests"
    assert "GATEWAY_MAX_MCP_REQUESTS_PER_KEY" in refused.json()["message"]
    assert refused.headers["retry-after"] == "1"
    assert [answer.status_code for answer in answers] == [200] * maximum
    assert again.status_code == 200  # the slots were given back


@pytest.mark.asyncio
async def test_mcp_on_stdio_relays_to_the_gateway(
    served: Callable[..., AbstractAsyncContextManager[_Served]],
) -> None:
    async with served(frozenset({KEY})) as gateway, mcp_session(gateway.url, KEY) as direct:
        over_http = await structured_result(direct, "insider_activity", ticker="AAPL", days=365)
        command = StdioServerParameters(
            command=sys.executable,
            args=["-m", "services", "mcp"],
            env={
                "PATH": os.environ["PATH"],
                "MCP_GATEWAY_URL": f"{gateway.url}/mcp",
                "GATEWAY_API_KEY": KEY,
                "LOG_LEVEL": "WARNING",
            },
            cwd=REPOSITORY,
        )
        async with (
            stdio_client(command) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            listed = (await session.list_tools()).tools
            over_stdio = await structured_result(
                session, "insider_activity", ticker="AAPL", days=365
            )
            refusal = await _refusal(session, "insider_activity", ticker="AAPL", days=0)
    assert {tool.name for tool in listed} == TOOLS
    # The same answer but for the window's start, which is "now" minus the days at each call.
    assert over_stdio.pop("since") >= over_http.pop("since")
    assert over_stdio == over_http
    assert refusal.startswith("days: Input should be greater than or equal to 1")


@pytest.mark.asyncio
async def test_mcp_on_stdio_with_a_wrong_key_fails_at_start_naming_the_setting(
    served: Callable[..., AbstractAsyncContextManager[_Served]],
) -> None:
    async with served(frozenset({KEY})) as gateway:
        environment = os.environ | {
            "MCP_GATEWAY_URL": f"{gateway.url}/mcp",
            "GATEWAY_API_KEY": "wrong",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services",
            "mcp",
            env=environment,
            cwd=REPOSITORY,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert stdout == b""
    assert "GATEWAY_API_KEY" in stderr.decode()
    assert "wrong API key" in stderr.decode()
