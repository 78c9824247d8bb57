"""Query, then subscribe: a REST answer from the filings store and `/stream?from=<as_of>` with
the same filters, while records keep arriving, give every matching record exactly once: none
missing at the seam, none twice. With a full-text `q` over the document texts (a topic of their
own) too."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from services.common.settings import TopicSettings
from services.infra.settings import InfraSettings
from tests.support.gateway import GatewayProcess, publish_analyses
from tests.support.infra import provision, topic_settings
from tests.support.records import sample_analysis, with_text
from tests.support.topic_reader import read_topic
from tests.support.waiting import wait_for_async

TICKERS = ("JPM", "AAPL", "MSFT")


def _batch(first: int, count: int) -> list[dict[str, Any]]:
    return [sample_analysis(n, ticker=TICKERS[n % 3]) for n in range(first, first + count)]


async def _query_everything(base_url: str, params: dict[str, str]) -> tuple[list[str], str]:
    """Every page of the answer, and the as_of of the first page (the snapshot it reflects:
    later pages only go further back in time, over the same or a later snapshot)."""
    seen: list[str] = []
    as_of = None
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        query = dict(params)
        while True:
            body = (await client.get("/api/filings", params=query)).json()
            as_of = as_of or body["as_of"]
            seen += [f["filing"]["accession_number"] for f in body["filings"]]
            if body["next"] is None:
                return seen, as_of
            query["before"] = body["next"]


@pytest.mark.asyncio
async def test_query_then_subscribe_has_no_gap_and_no_duplicate_under_live_traffic(
    infra: InfraSettings, tmp_path: Path
) -> None:
    topics: TopicSettings = topic_settings(infra, partitions=3)
    await provision(topics)
    await publish_analyses(topics, _batch(1, 600))
    with GatewayProcess(topics, tmp_path) as gateway:
        published = 600
        stop = asyncio.Event()

        async def traffic() -> None:
            nonlocal published
            while not stop.is_set():
                await publish_analyses(topics, _batch(published + 1, 25))
                published += 25
                await asyncio.sleep(0.05)

        publisher = asyncio.create_task(traffic())
        # The store and the topic both moving: the query comes once the store holds some of it
        # (on a busy machine the feeder's first batch may take a while).
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as http:
            for _ in range(300):  # 60 s at most; the assertion below says if it never did
                if (await http.get("/api/filings?tickers=JPM")).json()["filings"]:
                    break
                await asyncio.sleep(0.2)
        answered, as_of = await _query_everything(
            gateway.base_url, {"tickers": "JPM", "limit": "100"}
        )
        streamed: list[str] = []
        async with connect(f"{gateway.ws_url}?from={as_of}&tickers=JPM") as ws:
            await asyncio.sleep(1.0)
            stop.set()
            await publisher
            wanted = {
                record["filing"]["accession_number"]
                for record in _batch(1, published)
                if record["filing"]["tickers"] == ["JPM"]
            }
            async with asyncio.timeout(60):
                while len(set(answered) | set(streamed)) < len(wanted):
                    frame = json.loads(await ws.recv())
                    if frame["type"] == "filing":
                        streamed.append(frame["data"]["filing"]["accession_number"])
    assert answered  # the store had caught up with some of it before the query
    assert streamed  # and records arrived after it
    assert len(answered) == len(set(answered))
    assert not set(answered) & set(streamed)  # nothing twice at the seam
    assert set(answered) | set(streamed) == wanted  # nothing missing


def _with_texts(first: int, count: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Analyses, each with a text; every other text has a word no summary or name has."""
    records = _batch(first, count)
    texts = [
        with_text(r, "Management has substantial doubt: zetaword." if n % 2 else "Nothing here.")
        for n, r in enumerate(records, start=first)
    ]
    return records, texts


@pytest.mark.asyncio
async def test_a_full_text_answer_holds_every_match_before_its_as_of_under_live_traffic(
    infra: InfraSettings, tmp_path: Path
) -> None:
    """analyze commits an analysis and its text together, the feeder may read either first:
    an answer to a q only the texts match holds every filing before its as_of (none of them
    stored without its text yet), and /stream?from=<as_of> gives the rest, none twice."""
    topics: TopicSettings = topic_settings(infra, partitions=3)
    await provision(topics)
    await publish_analyses(topics, *_with_texts(1, 300))
    with GatewayProcess(topics, tmp_path) as gateway:
        url = f"{gateway.base_url}/api/filings"
        await wait_for_async(  # the store has read the first ones, texts included
            lambda: httpx.get(url, params={"q": "zetaword"}, timeout=10).json()["filings"],
            timeout_s=60,
            what="the first texts in the store",
        )
        published = 300
        stop = asyncio.Event()

        async def traffic() -> None:
            nonlocal published
            while not stop.is_set():
                await publish_analyses(topics, *_with_texts(published + 1, 25))
                published += 25
                await asyncio.sleep(0.05)

        publisher = asyncio.create_task(traffic())
        await asyncio.sleep(1.0)
        answers = []
        for _ in range(3):  # a few answers while both topics move
            answers.append(
                await _query_everything(gateway.base_url, {"q": "zetaword", "limit": "100"})
            )
            await asyncio.sleep(0.3)
        answered, as_of = answers[-1]
        streamed: list[str] = []
        async with connect(f"{gateway.ws_url}?from={as_of}") as ws:
            await asyncio.sleep(1.0)
            stop.set()
            await publisher
            matching = {
                t["accession_number"]
                for t in _with_texts(1, published)[1]
                if "zetaword" in t["text"]
            }
            async with asyncio.timeout(60):
                while not matching <= set(answered) | set(streamed):
                    frame = json.loads(await ws.recv())
                    if frame["type"] == "filing":
                        streamed.append(frame["data"]["filing"]["accession_number"])
    on_topic = read_topic(infra.bootstrap_servers, infra.registry_url, topics.topic_analyzed)
    for seen, cursor in answers:
        before = {
            r.key
            for r in on_topic
            if r.offset < int(dict(p.split(":") for p in cursor.split(","))[str(r.partition)])
        }
        assert set(seen) == matching & before  # every match the as_of holds, nothing more
    assert answered
    assert not set(answered) & set(streamed)  # nothing twice at the seam
    assert set(answered) | (set(streamed) & matching) == matching  # nothing missing
