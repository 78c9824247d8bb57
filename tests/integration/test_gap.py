"""The gap signal, on the real broker: positions whose records retention deleted are told to the
client before the first record (WebSocket `gap` frame, SSE `gap` event, the client library's
GapError or report, `tail` on stderr, `export` on stderr), and the stream goes on from the
first available records. Never a silent jump.

Each test writes early records, lets the broker's retention delete their segments
(tests/support/retention.py), then writes later ones: the numbers a gap must carry are known
from the watermarks before the deletion.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sec_digester_client import (
    BadParameterError,
    ClientConfig,
    Gap,
    GapError,
    PartitionGap,
    StreamClient,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from services.common.errors import KafkaClientError
from services.common.kafka import KafkaConsumer, partitions_at
from services.common.positions import Positions, format_cursor
from services.common.settings import TopicSettings
from services.gateway.stream.streams import replay_consumer_config
from tests.support.cli import environment_for, run_cli
from tests.support.gateway import GatewayProcess, publish_analyses
from tests.support.records import sample_analysis
from tests.support.retention import remove_by_retention
from tests.support.tail import TailProcess
from tests.support.waiting import wait_for

pytestmark = pytest.mark.asyncio

EARLY = range(1, 13)  # written, then deleted by retention
LATE = range(13, 19)  # written after: what a stream from before the gap still gets


def accession(sequence: int) -> str:
    return str(sample_analysis(sequence)["filing"]["accession_number"])


LATE_ACCESSIONS = [accession(n) for n in LATE]


async def early_records_removed(settings: TopicSettings) -> Positions:
    """EARLY written and deleted by retention, then LATE written; the log start per partition."""
    await publish_analyses(settings, [sample_analysis(n) for n in EARLY])
    starts = await remove_by_retention(settings, settings.topic_analyzed)
    await publish_analyses(settings, [sample_analysis(n) for n in LATE])
    return starts


@pytest.fixture
def gateway(topics: TopicSettings, tmp_path: Path) -> Iterator[GatewayProcess]:
    with GatewayProcess(topics, tmp_path) as process:
        yield process


async def until_caught_up(ws: ClientConnection) -> list[dict[str, Any]]:
    """Every frame up to and including `caught_up`."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(30):
        while not seen or seen[-1]["type"] != "caught_up":
            seen.append(json.loads(await ws.recv()))
    return seen


async def filings(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    """The next `count` filing frames (live or replayed; other frames are passed over)."""
    found: list[dict[str, Any]] = []
    async with asyncio.timeout(30):
        while len(found) < count:
            frame = json.loads(await ws.recv())
            if frame["type"] == "filing":
                found.append(frame)
    return found


def expected_gap(requested: Positions, starts: Positions) -> list[dict[str, int]]:
    return [
        {
            "partition": p,
            "requested": requested[p],
            "first_available": starts[p],
            "missing": starts[p] - requested[p],
        }
        for p in sorted(requested)
        if requested[p] < starts[p]
    ]


async def test_websocket_gap_frame_comes_after_welcome_and_before_the_first_record(
    three_partitions: TopicSettings, tmp_path: Path
) -> None:
    starts = await early_records_removed(three_partitions)
    assert sum(1 for start in starts.values() if start > 1) >= 2  # gaps in several partitions
    # One offset in, where the records are gone: a cursor from before the deletion.
    requested = {p: min(1, start) for p, start in starts.items()}
    with GatewayProcess(three_partitions, tmp_path) as gateway:
        async with connect(f"{gateway.ws_url}?from={format_cursor(requested)}") as ws:
            welcome, gap, *rest = await until_caught_up(ws)
        assert welcome["type"] == "welcome"
        assert welcome["from"] == format_cursor(starts)
        assert gap == {
            "type": "gap",
            "topic": three_partitions.topic_analyzed,
            "partitions": expected_gap(requested, starts),
            "cursor": format_cursor(starts),
        }
        filings = [frame for frame in rest if frame["type"] == "filing"]
        assert [frame["type"] for frame in rest] == ["filing"] * len(filings) + ["caught_up"]
        assert sorted(f["data"]["filing"]["accession_number"] for f in filings) == sorted(
            LATE_ACCESSIONS
        )
        assert all(f["offset"] >= starts[f["partition"]] for f in filings)

        # `earliest` is never a gap: it means whatever the topic holds.
        async with connect(f"{gateway.ws_url}?from=earliest") as ws:
            welcome, *rest = await until_caught_up(ws)
        assert welcome["from"] == format_cursor(starts)
        assert {frame["type"] for frame in rest} == {"filing", "caught_up"}

        # A time before every record: the records removed may have been at or after it.
        async with connect(f"{gateway.ws_url}?from=2000-01-01T00:00:00Z") as ws:
            _, gap, *rest = await until_caught_up(ws)
        assert gap["partitions"] == [
            {"partition": p, "requested": None, "first_available": start, "missing": start}
            for p, start in sorted(starts.items())
            if start > 0
        ]
        assert len([frame for frame in rest if frame["type"] == "filing"]) == len(LATE)


async def test_sse_gap_event_before_the_first_filing(
    topics: TopicSettings, gateway: GatewayProcess
) -> None:
    starts = await early_records_removed(topics)
    events: list[tuple[str, dict[str, Any]]] = []
    async with (
        httpx.AsyncClient(timeout=30) as http,
        http.stream(
            "GET",
            f"{gateway.base_url}/stream",
            params={"from": "3"},  # a bare offset: the topic has one partition
            headers={"Accept": "text/event-stream"},
        ) as response,
    ):
        assert response.status_code == 200
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event != "caught_up":
                events.append((event, json.loads(line[6:])))
                if len(events) == 2 + len(LATE):
                    break
    # (caught_up may come before the LATE records: the gateway's tail reads them live.)
    assert [name for name, _ in events] == ["welcome", "gap"] + ["filing"] * len(LATE)
    assert events[1][1] == {
        "type": "gap",
        "topic": topics.topic_analyzed,
        "partitions": expected_gap({0: 3}, starts),
        "cursor": format_cursor(starts),
    }
    assert [data["data"]["filing"]["accession_number"] for _, data in events[2:]] == (
        LATE_ACCESSIONS
    )


async def test_a_durable_clients_committed_position_below_the_log_start_is_a_gap(
    topics: TopicSettings, gateway: GatewayProcess
) -> None:
    await publish_analyses(topics, [sample_analysis(n) for n in EARLY])
    async with connect(f"{gateway.ws_url}?client_id=bot-1&from=earliest") as ws:
        got = await filings(ws, 3)
        await ws.send(json.dumps({"type": "ack", "cursor": got[2]["cursor"]}))
    # The ack is committed when the stream closes (the session flushes it).
    await asyncio.sleep(1)
    starts = await remove_by_retention(topics, topics.topic_analyzed)
    await publish_analyses(topics, [sample_analysis(n) for n in LATE])
    async with connect(f"{gateway.ws_url}?client_id=bot-1") as ws:  # from=committed
        welcome = json.loads(await ws.recv())
        gap = json.loads(await ws.recv())
        late = await filings(ws, len(LATE))
    assert welcome["from"] == format_cursor(starts)
    assert gap["type"] == "gap"
    assert gap["partitions"] == expected_gap({0: 3}, starts)
    assert [f["data"]["filing"]["accession_number"] for f in late] == LATE_ACCESSIONS


async def test_a_position_past_the_end_is_refused_naming_the_partition(
    topics: TopicSettings, gateway: GatewayProcess
) -> None:
    await publish_analyses(topics, [sample_analysis(n) for n in range(1, 4)])
    async with connect(f"{gateway.ws_url}?from=0:500") as ws:
        frame = json.loads(await ws.recv())
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert frame["type"] == "error"
    assert frame["code"] == "bad_parameter"
    assert "partition 0: offset 500 is past its end (4)" in frame["message"]
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4400


async def test_a_replay_from_kafka_fails_rather_than_jumping_over_removed_records(
    topics: TopicSettings,
) -> None:
    """What a session's replay consumer does when retention removed the records at its
    position (between the start's resolution and its fetch, or under a slow replay): it fails,
    which ends the stream with its cursor, and the reconnection is told the gap (above)."""
    await early_records_removed(topics)
    received = []
    async with KafkaConsumer(replay_consumer_config(topics)) as consumer:
        await consumer.assign(partitions_at(topics.topic_analyzed, {0: 0}))
        with pytest.raises(KafkaClientError) as failed:  # noqa: PT012 (consuming until it fails)
            async with asyncio.timeout(30):
                while True:
                    received += await consumer.consume_with_ends(wait_s=0.5)
    assert received == []  # nothing after the gap was read as if it followed on
    assert failed.value.code == "_AUTO_OFFSET_RESET"


def client_config(gateway: GatewayProcess, **fields: Any) -> ClientConfig:
    quick = {"backoff_initial_s": 0.2, "backoff_max_s": 2.0, "connect_timeout_s": 5.0}
    return ClientConfig(url=gateway.ws_url, **(quick | fields))


async def take(client: StreamClient, count: int) -> list[str]:
    got: list[str] = []
    async with asyncio.timeout(60):
        async for filing in client:
            got.append(filing.accession_number)
            if len(got) == count:
                break
    return got


async def test_the_client_library_raises_the_gap_or_reports_it_as_configured(
    topics: TopicSettings, gateway: GatewayProcess
) -> None:
    starts = await early_records_removed(topics)
    expected = Gap(
        topics.topic_analyzed,
        (PartitionGap(0, 0, starts[0], starts[0]),),
        format_cursor(starts),
    )
    # Raise (the default): before the first record; iterating on accepts it and goes on.
    async with StreamClient(client_config(gateway, start="0:0")) as client:
        with pytest.raises(GapError) as raised:
            await take(client, 1)
        assert raised.value.gap == expected
        assert f"offsets 0-{starts[0] - 1} ({starts[0]})" in str(raised.value)
        assert await take(client, len(LATE)) == LATE_ACCESSIONS

    # A durable client's position does not move past a gap it raised: a new process with the
    # same id is told again, until a client reports the gap and goes on.
    durable = {"client_id": "gap-bot", "start": "earliest"}
    async with StreamClient(client_config(gateway, **durable)) as client:
        assert await take(client, 2) == LATE_ACCESSIONS[:2]
    await asyncio.sleep(1)  # committed when the stream closes
    await remove_by_retention(topics, topics.topic_analyzed)
    later = [sample_analysis(n) for n in range(19, 22)]
    await publish_analyses(topics, later)
    for _ in range(2):
        async with StreamClient(client_config(gateway, client_id="gap-bot")) as client:
            with pytest.raises(GapError):
                await take(client, 1)
        await asyncio.sleep(1)
    reported: list[Gap] = []
    report = client_config(gateway, client_id="gap-bot", on_gap="report")
    async with StreamClient(report, gap_handler=reported.append) as client:
        assert await take(client, 3) == [r["filing"]["accession_number"] for r in later]
    # Its committed position: after the first LATE record it handled (the break left the
    # second unacknowledged).
    assert [gap.partitions[0].requested for gap in reported] == [starts[0] + 1]
    await asyncio.sleep(1)
    # Past the gap now: the last record (left unacknowledged by the break) comes first again.
    async with StreamClient(client_config(gateway, client_id="gap-bot")) as client:
        assert await take(client, 1) == [later[-1]["filing"]["accession_number"]]


async def test_a_gap_handler_needs_report_mode(gateway: GatewayProcess) -> None:
    with pytest.raises(BadParameterError, match="gap_handler"):
        StreamClient(client_config(gateway), gap_handler=lambda gap: None)


async def test_tail_prints_the_gap_on_stderr_and_goes_on(
    topics: TopicSettings, gateway: GatewayProcess, tmp_path: Path
) -> None:
    starts = await early_records_removed(topics)
    with TailProcess(topics, gateway, tmp_path, "--from", "2") as tail:
        wait_for(lambda: len(tail.records()) >= len(LATE), timeout_s=60, what="the filings")
    assert tail.accessions() == LATE_ACCESSIONS
    gone = f"offsets 2-{starts[0] - 1} ({starts[0] - 2})"
    assert f"tail: gap: {topics.topic_analyzed} no longer holds partition 0: {gone}" in (
        tail.output()
    )
    # --on-gap raise: stops with the gap, exit 1, nothing printed on stdout.
    env = environment_for(topics, GATEWAY_URL=gateway.ws_url)
    raised = run_cli("tail", "--from", "2", "--on-gap", "raise", env=env, timeout=60)
    assert raised.returncode == 1
    assert gone in raised.stderr
    assert raised.stdout == ""


async def test_export_from_before_the_log_start_reports_the_gap(
    topics: TopicSettings, tmp_path: Path
) -> None:
    starts = await early_records_removed(topics)
    out = tmp_path / "out.jsonl"
    result = run_cli(
        "export", "--out", str(out), "--from", "0", env=environment_for(topics), timeout=120
    )
    assert result.returncode == 0, result.stderr
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["filing"]["accession_number"] for r in exported] == LATE_ACCESSIONS
    gone = f"partition 0: offsets 0-{starts[0] - 1} are gone ({starts[0]})"
    warning = next(
        json.loads(line)
        for line in result.stderr.splitlines()
        if line.startswith("{") and "export starts after a gap" in line
    )
    assert warning["level"] == "warning"
    assert gone in warning["gaps"]
    assert f"(after a gap: {gone}, reading from {starts[0]})" in result.stderr
