"""Changing the filter of an open WebSocket stream (`subscribe`), on a real gateway process on
real Kafka, driven by the `websockets` library.

What the protocol promises (docs/gateway-protocol.md, "Changing filters"): frames before the
`subscribed` acknowledgement are the old filter's, with cursors up to the acknowledged one;
after it, exactly the new filter's records from that cursor on (also those the gateway had read
but not sent, or not let through, before), with cursors that never go back. A bad subscribe is
answered with an `error` frame naming the field, and the stream goes on under the old filter.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from services.common.settings import TopicSettings
from tests.support.gateway import GatewayProcess, publish_analyses
from tests.support.records import sample_analysis

pytestmark = pytest.mark.asyncio

Positions = dict[int, int]


@pytest.fixture
def gateway(three_partitions: TopicSettings, tmp_path: Path) -> Iterator[GatewayProcess]:
    with GatewayProcess(three_partitions, tmp_path) as process:
        yield process


async def read_until(
    ws: ClientConnection, kind: str, timeout_s: float = 30, after: str | None = None
) -> list[dict[str, Any]]:
    """Frames up to and including the first of type `kind` (after one of type `after`)."""
    seen: list[dict[str, Any]] = []
    waiting_for = after or kind
    async with asyncio.timeout(timeout_s):
        while True:
            frame = json.loads(await ws.recv())
            seen.append(frame)
            if frame["type"] == waiting_for:
                if waiting_for == kind:
                    return seen
                waiting_for = kind


async def first_frame(ws: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(30):
        frame: dict[str, Any] = json.loads(await ws.recv())
        return frame


def positions(cursor: str) -> Positions:
    return {int(p): int(o) for p, o in (pair.split(":") for pair in cursor.split(","))}


def assert_monotonic(seen: list[dict[str, Any]]) -> None:
    last: Positions = {}
    for frame in seen:
        if "cursor" in frame:
            now = positions(frame["cursor"])
            assert all(now[p] >= o for p, o in last.items()), (last, frame)
            last = now


def accession_of(frame: dict[str, Any]) -> str:
    return str(frame["data"]["filing"]["accession_number"])


def ticker_of(frame: dict[str, Any]) -> str:
    return str(frame["data"]["filing"]["tickers"][0])


async def placement(gateway: GatewayProcess, count: int) -> dict[str, tuple[int, int, str]]:
    """Where each record is (partition, offset) and its ticker, read by a client without
    filters from the earliest position. Until it has all `count`, not until `caught_up`: that
    says the client has what the gateway has read, which may not be everything just written."""
    placed: dict[str, tuple[int, int, str]] = {}
    async with connect(f"{gateway.ws_url}?from=earliest") as everything, asyncio.timeout(60):
        while len(placed) < count:
            frame = json.loads(await everything.recv())
            if frame["type"] == "filing":
                placed[accession_of(frame)] = (
                    frame["partition"],
                    frame["offset"],
                    ticker_of(frame),
                )
    return placed


async def subscribe(ws: ClientConnection, **fields: Any) -> None:
    await ws.send(json.dumps({"type": "subscribe", **fields}))


async def test_live_a_subscribe_delivers_what_the_new_filter_wants_from_the_cursor_on(
    three_partitions: TopicSettings, gateway: GatewayProcess
) -> None:
    async with (
        connect(f"{gateway.ws_url}?from=latest&tickers=AAPL") as ws,
        connect(f"{gateway.ws_url}?from=latest") as watcher,
    ):
        opened = await read_until(ws, "caught_up")
        assert opened[0]["filters"] == {"tickers": ["AAPL"]}
        await read_until(watcher, "caught_up")
        apple = sample_analysis(1, ticker="AAPL")
        await publish_analyses(three_partitions, [apple])
        before = await read_until(ws, "filing")
        assert accession_of(before[-1]) == apple["filing"]["accession_number"]
        # Published before the subscribe, after the client's cursor, filtered out so far: the
        # watcher shows the gateway has read them.
        earlier = [sample_analysis(n, ticker="MSFT") for n in (2, 3)]
        await publish_analyses(three_partitions, earlier)
        watched = [await read_until(watcher, "filing") for _ in range(3)]
        assert {accession_of(w[-1]) for w in watched} == {
            r["filing"]["accession_number"] for r in [apple, *earlier]
        }

        await subscribe(ws, tickers=["msft"], forms=["8-K"])
        after = await read_until(ws, "caught_up", after="subscribed")
        subscribed = after[0]
        assert subscribed == {
            "type": "subscribed",
            "cursor": before[-1]["cursor"],
            "filters": {"tickers": ["MSFT"], "forms": ["8-K"]},
        }
        replayed = [f for f in after if f["type"] == "filing"]
        assert sorted(accession_of(f) for f in replayed) == sorted(
            r["filing"]["accession_number"] for r in earlier
        )

        # Live under the new filter only.
        later = [sample_analysis(4, ticker="AAPL"), sample_analysis(5, ticker="MSFT")]
        await publish_analyses(three_partitions, later)
        live = await read_until(ws, "filing")
        assert [accession_of(f) for f in live if f["type"] == "filing"] == [
            later[1]["filing"]["accession_number"]
        ]
        # An empty subscribe is no filter at all. From the cursor on: the AAPL record of the
        # same transaction comes now if the tail read it after the MSFT one.
        await subscribe(ws)
        cleared = await read_until(ws, "caught_up", after="subscribed")
        assert cleared[0] == {"type": "subscribed", "cursor": live[-1]["cursor"], "filters": {}}
        assert {accession_of(f) for f in cleared if f["type"] == "filing"} <= {
            later[0]["filing"]["accession_number"]
        }
        anything = sample_analysis(6, ticker="TSLA")
        await publish_analyses(three_partitions, [anything])
        last = await read_until(ws, "filing")
        assert accession_of(last[-1]) == anything["filing"]["accession_number"]
    assert_monotonic(opened + before + after + live + cleared + last)


@pytest.mark.parametrize(
    "ring",
    [
        pytest.param(None, id="from-the-ring"),
        # The ring holds the last 100 of 1,500: the subscribe's cursor is older, read from Kafka.
        pytest.param("100", id="from-kafka"),
    ],
)
async def test_mid_replay_nothing_is_missing_or_duplicated_across_the_subscribe(
    three_partitions: TopicSettings, tmp_path: Path, ring: str | None
) -> None:
    records = [sample_analysis(n, ticker=("AAPL", "MSFT", "JPM")[n % 3]) for n in range(1500)]
    await publish_analyses(three_partitions, records)
    settings = {"GATEWAY_TAIL_BUFFER": ring} if ring else {}
    with GatewayProcess(three_partitions, tmp_path, **settings) as gateway:
        placed = await placement(gateway, len(records))
        async with connect(f"{gateway.ws_url}?from=earliest&tickers=AAPL") as ws:
            # Sent while replay runs: what was not sent by then is dropped and replayed under
            # the new filter. (From Kafka the switch falls mid-replay; the ring's replay is
            # fast enough to be in the socket's buffers whole by then.)
            seen = [await first_frame(ws) for _ in range(30)]
            await subscribe(ws, tickers=["MSFT"])
            seen += await read_until(ws, "caught_up", after="subscribed")
    acked = next(i for i, f in enumerate(seen) if f["type"] == "subscribed")
    cursor = positions(seen[acked]["cursor"])
    old = [accession_of(f) for f in seen[:acked] if f["type"] == "filing"]
    new = [accession_of(f) for f in seen[acked:] if f["type"] == "filing"]

    def wanted(ticker: str, *, before_cursor: bool) -> list[str]:
        return sorted(
            number
            for number, (partition, offset, its_ticker) in placed.items()
            if its_ticker == ticker and (offset < cursor[partition]) is before_cursor
        )

    assert sorted(old) == wanted("AAPL", before_cursor=True)
    assert sorted(new) == wanted("MSFT", before_cursor=False)
    assert len(new) == len(set(new))
    assert_monotonic(seen)


async def test_a_bad_subscribe_is_answered_and_the_stream_goes_on_with_the_old_filter(
    three_partitions: TopicSettings, gateway: GatewayProcess
) -> None:
    async with connect(f"{gateway.ws_url}?from=latest&tickers=AAPL") as ws:
        await read_until(ws, "caught_up")
        for fields, named in (
            ({"tickers": ["NOT A TICKER"]}, "tickers"),
            ({"ticker": ["MSFT"]}, "ticker"),
            ({"tickers": "MSFT"}, "tickers"),
            ({"min_priority": "urgent"}, "min_priority"),
            ({"from": "earliest"}, "from"),
        ):
            await subscribe(ws, **fields)
            refused = (await read_until(ws, "error"))[-1]
            assert refused["code"] == "bad_parameter"
            assert refused["reply_to"] == "subscribe"
            assert refused["message"].startswith(f"{named}: ")
        await ws.send(json.dumps({"type": "ping"}))
        assert (await read_until(ws, "pong"))[-1] == {"type": "pong"}
        records = [sample_analysis(1, ticker="MSFT"), sample_analysis(2, ticker="AAPL")]
        await publish_analyses(three_partitions, records)
        delivered = await read_until(ws, "filing")
        assert [accession_of(f) for f in delivered if f["type"] == "filing"] == [
            records[1]["filing"]["accession_number"]
        ]
    # On the raw topic the analysis filters are refused, as in the query string.
    async with connect(f"{gateway.ws_url}?from=latest&topic=raw") as raw:
        await read_until(raw, "caught_up")
        await subscribe(raw, min_priority="high")
        refused = (await read_until(raw, "error"))[-1]
        assert refused["message"].startswith("min_priority: raw filings have no priority")
        await subscribe(raw, tickers=["JPM"])
        assert (await read_until(raw, "subscribed"))[-1]["filters"] == {"tickers": ["JPM"]}


async def test_subscribes_in_a_row_are_each_acknowledged_in_order(
    three_partitions: TopicSettings, gateway: GatewayProcess
) -> None:
    records = [sample_analysis(n, ticker=("AAPL", "MSFT", "JPM")[n % 3]) for n in range(600)]
    await publish_analyses(three_partitions, records)
    placed = await placement(gateway, len(records))
    async with connect(f"{gateway.ws_url}?from=earliest&tickers=AAPL") as ws:
        await subscribe(ws, tickers=["MSFT"])
        await subscribe(ws, tickers=["NOT A TICKER"])
        await subscribe(ws, tickers=["JPM"])
        await subscribe(ws, tickers=["AAPL", "MSFT"])
        seen = await read_until(ws, "subscribed")
        while sum(f["type"] == "subscribed" for f in seen) < 3:
            seen += await read_until(ws, "subscribed")
        seen += await read_until(ws, "caught_up")
    answers = [f for f in seen if f["type"] in {"subscribed", "error"}]
    assert [a.get("filters", a.get("reply_to")) for a in answers] == [
        {"tickers": ["MSFT"]},
        "subscribe",
        {"tickers": ["JPM"]},
        {"tickers": ["AAPL", "MSFT"]},
    ]
    # Between two acknowledgements, only the earlier one's filter.
    wanted = {"AAPL"}
    for frame in seen:
        if frame["type"] == "subscribed":
            wanted = set(frame["filters"]["tickers"])
        elif frame["type"] == "filing":
            assert ticker_of(frame) in wanted
    last = max(i for i, f in enumerate(seen) if f["type"] == "subscribed")
    cursor = positions(seen[last]["cursor"])
    after = [accession_of(f) for f in seen[last:] if f["type"] == "filing"]
    assert sorted(after) == sorted(
        number
        for number, (partition, offset, ticker) in placed.items()
        if ticker in {"AAPL", "MSFT"} and offset >= cursor[partition]
    )
    delivered = [accession_of(f) for f in seen if f["type"] == "filing"]
    assert len(delivered) == len(set(delivered))
    assert_monotonic(seen)
