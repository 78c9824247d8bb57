"""The gateway as its own process on real Kafka, driven by standard clients only.

WebSocket tests use the `websockets` library, SSE and REST use httpx: nothing of the project
speaks to the gateway. Records are put on the analyzed topic as analyze does (Avro,
transactional), so every path from Kafka to the client is the real one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Producer
from websockets.asyncio.client import ClientConnection, connect
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.uri import parse_uri

from services.common.avro import AvroCodec
from services.common.registry import open_registry, subject_for
from services.common.schemas import SchemaName
from services.common.settings import TopicSettings
from tests.support.facts_records import SALE_DOCUMENT, insider_record
from tests.support.gateway import GatewayProcess, publish_analyses
from tests.support.records import sample_analysis
from tests.support.waiting import wait_for_async

pytestmark = pytest.mark.asyncio


@pytest.fixture
def gateway(topics: TopicSettings, tmp_path: Path) -> Iterator[GatewayProcess]:
    with GatewayProcess(topics, tmp_path) as process:
        yield process


async def frames(
    ws: ClientConnection, count: int, kind: str = "filing", timeout_s: float = 30
) -> list[dict[str, Any]]:
    """The next `count` frames of type `kind` (other frame types are collected, not counted)."""
    found: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout_s):
        while len(found) < count:
            frame = json.loads(await ws.recv())
            if frame["type"] == kind:
                found.append(frame)
    return found


async def first_frame(ws: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(30):
        frame: dict[str, Any] = json.loads(await ws.recv())
        return frame


async def until_closed(ws: ClientConnection) -> tuple[int, list[dict[str, Any]]]:
    """Read until the server closes; its close code and the frames it sent before."""
    seen: list[dict[str, Any]] = []
    with pytest.raises(ConnectionClosed) as closed:  # noqa: PT012 (reading until the close)
        async with asyncio.timeout(30):
            while True:
                seen.append(json.loads(await ws.recv()))
    assert closed.value.rcvd is not None, "the server sent no close frame"
    return closed.value.rcvd.code, seen


def accessions(found: list[dict[str, Any]]) -> list[str]:
    return [f["data"]["filing"]["accession_number"] for f in found]


@pytest.mark.parametrize(
    ("count", "ring"),
    [
        pytest.param(30, "20000", id="all-in-the-ring"),
        # The ring (filled at start-up) holds the last 100: the first ~30 come from Kafka.
        pytest.param(130, "100", id="kafka-then-ring"),
    ],
)
async def test_earliest_yields_everything_once_in_partition_order_and_cursors_resume(
    three_partitions: TopicSettings, tmp_path: Path, count: int, ring: str
) -> None:
    records = [sample_analysis(n) for n in range(1, count - 2)]
    records += [sample_analysis(n, ticker="AAPL") for n in range(count - 2, count + 1)]
    await publish_analyses(three_partitions, records)
    with GatewayProcess(three_partitions, tmp_path, GATEWAY_TAIL_BUFFER=ring) as gateway:
        async with connect(f"{gateway.ws_url}?from=earliest") as ws:
            welcome = await first_frame(ws)
            assert welcome["type"] == "welcome"
            assert welcome["partitions"] == 3
            got = await frames(ws, count)
            caught_up = await frames(ws, 1, "caught_up")
        assert sorted(accessions(got)) == sorted(r["filing"]["accession_number"] for r in records)
        for partition in range(3):
            offsets = [f["offset"] for f in got if f["partition"] == partition]
            assert offsets == sorted(offsets)
        # Caught up at or past the last record (end offsets also count transaction markers).
        last = dict(pair.split(":") for pair in got[-1]["cursor"].split(","))
        end = dict(pair.split(":") for pair in caught_up[0]["cursor"].split(","))
        assert all(int(end[p]) >= int(last[p]) for p in last)
        # Resuming with the cursor of a frame yields exactly the next one (early and late).
        for index in (9, count - 5):
            async with connect(f"{gateway.ws_url}?from={got[index]['cursor']}") as ws:
                resumed = await frames(ws, 1)
            assert accessions(resumed) == accessions(got[index + 1 : index + 2])
        # A filter applies on replay too.
        async with connect(f"{gateway.ws_url}?from=earliest&tickers=AAPL") as ws:
            filtered = await frames(ws, 3)
            await frames(ws, 1, "caught_up")
        assert sorted(accessions(filtered)) == sorted(
            r["filing"]["accession_number"] for r in records if r["filing"]["tickers"] == ["AAPL"]
        )


async def until_caught_up(ws: ClientConnection, timeout_s: float = 120) -> list[dict[str, Any]]:
    """Every frame up to and with `caught_up`."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout_s):
        while not seen or seen[-1]["type"] != "caught_up":
            seen.append(json.loads(await ws.recv()))
    return seen


def _cursor(text: str) -> dict[int, int]:
    return {int(p): int(o) for p, o in (pair.split(":") for pair in text.split(","))}


async def test_history_older_than_the_ring_replays_in_batches_with_undecodable_records_noted(
    three_partitions: TopicSettings, tmp_path: Path
) -> None:
    """Several consumed batches (of 500) from Kafka, made JSON in the worker processes while
    the next are read: every record once, in partition order, each frame's cursor the position
    after it; records no one can decode become `undecodable_record` notices in their place."""
    topic = three_partitions.topic_analyzed
    records = [sample_analysis(n, ticker="AAPL" if n % 10 == 0 else "JPM") for n in range(1500)]
    await publish_analyses(three_partitions, records[:700])
    async with open_registry(three_partitions) as registry:
        codec = await AvroCodec(registry, subject_for(topic), SchemaName.FILING_ANALYSIS).open()
    corrupt = {
        0: b"this is not Avro",  # no Confluent header
        1: b"\x00\x7f\xff\xff\xf0garbage",  # a schema id the registry does not know
        2: codec.encode(records[0])[:40],  # our schema id, the record cut short
    }
    producer = Producer({"bootstrap.servers": three_partitions.kafka_bootstrap_servers})
    for partition, value in corrupt.items():
        producer.produce(topic, value=value, key=b"corrupt", partition=partition)
    assert producer.flush(30) == 0
    await publish_analyses(three_partitions, records[700:])
    with GatewayProcess(three_partitions, tmp_path, GATEWAY_TAIL_BUFFER="100") as gateway:
        async with connect(f"{gateway.ws_url}?from=earliest") as ws:
            welcome = await first_frame(ws)
            seen = await until_caught_up(ws)
        got = [f for f in seen if f["type"] == "filing"]
        notices = [f for f in seen if f["type"] == "error"]
        assert sorted(accessions(got)) == sorted(r["filing"]["accession_number"] for r in records)
        assert sorted((n["code"], n["partition"]) for n in notices) == [
            ("undecodable_record", p) for p in corrupt
        ]
        position = _cursor(welcome["from"])
        for frame in [f for f in seen if f["type"] in ("filing", "error")]:
            after = _cursor(frame["cursor"])
            assert after[frame["partition"]] == frame["offset"] + 1
            assert all(after[p] >= position[p] for p in position)  # never backwards
            position = after
        # A notice's cursor resumes right after the record it skipped, from Kafka again.
        skipped = notices[0]
        async with connect(f"{gateway.ws_url}?from={skipped['cursor']}") as ws:
            resumed = await frames(ws, 1)
        following = [
            f
            for f in got
            if f["partition"] == skipped["partition"] and f["offset"] > skipped["offset"]
        ]
        assert resumed[0]["offset"] == following[0]["offset"]
        # A filter applies to what the workers decode; the notices still come.
        async with connect(f"{gateway.ws_url}?from=earliest&tickers=AAPL") as ws:
            filtered = await until_caught_up(ws)
        assert sorted(accessions([f for f in filtered if f["type"] == "filing"])) == sorted(
            r["filing"]["accession_number"] for r in records if r["filing"]["tickers"] == ["AAPL"]
        )
        assert len([f for f in filtered if f["type"] == "error"]) == len(corrupt)


def _replay_workers(gateway: GatewayProcess) -> list[int]:
    """The gateway's replay worker processes (spawned children; not its resource tracker)."""
    children = Path(f"/proc/{gateway.pid}/task/{gateway.pid}/children").read_text().split()
    return [
        int(child)
        for child in children
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


async def test_a_replay_worker_that_dies_ends_the_replay_retriably_and_the_next_one_works(
    three_partitions: TopicSettings, tmp_path: Path
) -> None:
    records = [sample_analysis(n) for n in range(2000)]
    await publish_analyses(three_partitions, records)
    with GatewayProcess(three_partitions, tmp_path, GATEWAY_TAIL_BUFFER="100") as gateway:
        workers = _replay_workers(gateway)
        assert len(workers) == 2  # GATEWAY_REPLAY_PROCESSES, up before the gateway is ready
        os.kill(workers[0], signal.SIGKILL)
        async with connect(f"{gateway.ws_url}?from=earliest") as ws:
            code, seen = await until_closed(ws)
        assert code == 1011
        assert seen[-1]["type"] == "error"
        assert seen[-1]["code"] == "internal"
        assert "worker" in seen[-1]["message"]
        assert "cursor" in seen[-1]
        # A fresh pool serves the next replay in full.
        async with connect(f"{gateway.ws_url}?from=earliest") as ws:
            replayed = await until_caught_up(ws)
        got = accessions([f for f in replayed if f["type"] == "filing"])
        assert sorted(got) == sorted(r["filing"]["accession_number"] for r in records)
        assert len(_replay_workers(gateway)) == 2


async def test_the_replay_workers_end_when_the_gateway_is_killed_outright(
    topics: TopicSettings, tmp_path: Path
) -> None:
    with GatewayProcess(topics, tmp_path) as gateway:
        workers = _replay_workers(gateway)
        assert len(workers) == 2
        gateway.kill()  # no shutdown of its pool: SIGKILL
        await wait_for_async(
            lambda: not any(_alive(pid) for pid in workers),
            timeout_s=30,
            what="the orphaned replay workers to end",
        )


def _alive(pid: int) -> bool:
    """Running, not a zombie (an orphan's exit waits for whoever reaps it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def test_from_a_time_and_from_an_offset(
    topics: TopicSettings, gateway: GatewayProcess
) -> None:
    await publish_analyses(topics, [sample_analysis(n) for n in range(1, 6)])
    await asyncio.sleep(1.1)
    middle = dt.datetime.now(dt.UTC)
    await publish_analyses(topics, [sample_analysis(n) for n in range(6, 11)])
    async with connect(f"{gateway.ws_url}?from={middle.isoformat().replace('+00:00', 'Z')}") as ws:
        got = await frames(ws, 5)
    assert accessions(got) == [
        sample_analysis(n)["filing"]["accession_number"] for n in range(6, 11)
    ]
    async with connect(f"{gateway.ws_url}?from=3") as ws:
        assert [f["offset"] for f in await frames(ws, 2)] == [3, 4]


async def test_a_replaying_client_joins_live_without_gap_or_duplicate(
    three_partitions: TopicSettings, tmp_path: Path
) -> None:
    await publish_analyses(three_partitions, [sample_analysis(n) for n in range(1, 301)])
    with GatewayProcess(three_partitions, tmp_path, GATEWAY_TAIL_BUFFER="100") as gateway:

        async def keep_publishing() -> None:
            for batch in range(10):
                first = 1000 + batch * 20
                await publish_analyses(
                    three_partitions, [sample_analysis(n) for n in range(first, first + 20)]
                )

        async with connect(f"{gateway.ws_url}?from=earliest") as ws:
            publisher = asyncio.create_task(keep_publishing())
            got = await frames(ws, 300 + 200, timeout_s=60)
            await publisher
    got_accessions = accessions(got)
    assert len(got_accessions) == len(set(got_accessions)) == 500


async def test_durable_client_resumes_after_its_last_ack_across_gateway_processes(
    topics: TopicSettings, tmp_path: Path
) -> None:
    await publish_analyses(topics, [sample_analysis(n) for n in range(1, 21)])
    first = GatewayProcess(topics, tmp_path, name="gateway-a")
    with first:
        async with connect(f"{first.ws_url}?client_id=bot-1&from=earliest") as ws:
            got = await frames(ws, 7)
            await ws.send(json.dumps({"type": "ack", "cursor": got[6]["cursor"]}))
            await asyncio.sleep(1)  # the ack is written within GATEWAY_COMMIT_INTERVAL_S
    # The first gateway is gone; another process (same or another host) serves the client.
    with GatewayProcess(topics, tmp_path, name="gateway-b") as second:
        async with connect(f"{second.ws_url}?client_id=bot-1") as ws:
            welcome = await first_frame(ws)
            assert welcome["from"] == got[6]["cursor"]
            resumed = await frames(ws, 1)
    assert resumed[0]["offset"] == 7
    assert accessions(resumed) == [sample_analysis(8)["filing"]["accession_number"]]


async def test_filters_on_replay_and_live_and_two_clients_differ(
    topics: TopicSettings, gateway: GatewayProcess
) -> None:
    old = [sample_analysis(1, ticker="AAPL"), sample_analysis(2, ticker="MSFT", priority="high")]
    await publish_analyses(topics, old)
    apple = await connect(f"{gateway.ws_url}?from=earliest&tickers=aapl")
    urgent = await connect(f"{gateway.ws_url}?from=earliest&min_priority=high&forms=8-K")
    try:
        assert accessions(await frames(apple, 1)) == [old[0]["filing"]["accession_number"]]
        assert accessions(await frames(urgent, 1)) == [old[1]["filing"]["accession_number"]]
        new = [
            sample_analysis(3, ticker="MSFT", priority="critical"),
            sample_analysis(4, ticker="AAPL"),
        ]
        await publish_analyses(topics, new)
        assert accessions(await frames(apple, 1)) == [new[1]["filing"]["accession_number"]]
        assert accessions(await frames(urgent, 1)) == [new[0]["filing"]["accession_number"]]
    finally:
        await apple.close()
        await urgent.close()


class SilentClient:
    """A WebSocket client (the `websockets` sans-I/O protocol) that stops reading at will."""

    def __init__(self, url: str, port: int) -> None:
        self.protocol = ClientProtocol(parse_uri(url))
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16_384)
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        while self.protocol.handshake_exc is None and not self.frames_seen():
            self.protocol.receive_data(self.sock.recv(65_536))
        self._texts: list[dict[str, Any]] = []

    def frames_seen(self) -> bool:
        return any(isinstance(e, Frame) for e in self.protocol.events_received())

    def _flush(self) -> None:
        self.sock.sendall(b"".join(self.protocol.data_to_send()))

    def read_until_closed(self, timeout_s: float) -> tuple[int | None, list[dict[str, Any]]]:
        """Read everything now; the close code and the text frames (JSON) received."""
        self.sock.settimeout(timeout_s)
        frames: list[dict[str, Any]] = []
        while self.protocol.close_rcvd is None:
            data = self.sock.recv(1 << 20)
            if not data:
                break
            self.protocol.receive_data(data)
            for event in self.protocol.events_received():
                if isinstance(event, Frame) and event.opcode == Opcode.TEXT:
                    frames.append(json.loads(bytes(event.data)))
            self._flush()
        self.sock.close()
        close = self.protocol.close_rcvd
        return (close.code if close else None), frames


async def test_a_slow_client_is_closed_with_its_cursor_and_a_fast_one_is_unaffected(
    topics: TopicSettings, tmp_path: Path
) -> None:
    env = {"GATEWAY_CLIENT_QUEUE": "10", "GATEWAY_CLOSE_TIMEOUT_S": "300"}
    with GatewayProcess(topics, tmp_path, **env) as gateway:
        slow = await asyncio.to_thread(SilentClient, f"{gateway.ws_url}?from=latest", gateway.port)
        fast = await connect(f"{gateway.ws_url}?from=latest")
        try:
            await frames(fast, 1, "caught_up")
            reading = asyncio.create_task(frames(fast, 400, timeout_s=120))
            slow_reading: asyncio.Task[tuple[int | None, list[dict[str, Any]]]] | None = None
            # 40 MB in all, far more than the slow client's socket buffers hold; in transactions
            # of 5, which a reading client's queue of 10 absorbs.
            for batch in range(80):
                records = [sample_analysis(batch * 5 + n) for n in range(1, 6)]
                for record in records:
                    record["analysis"]["summary"] = "x" * 100_000
                await publish_analyses(topics, records)
                if batch == 30:
                    # By now it is far behind. It reads again (before uvicorn's keep-alive ping
                    # would give up on it) and must find the close with its cursor.
                    slow_reading = asyncio.create_task(
                        asyncio.to_thread(slow.read_until_closed, 60)
                    )
            got = await reading
            assert len(set(accessions(got))) == 400
        finally:
            await fast.close()
        assert slow_reading is not None
        code, seen = await slow_reading
    assert code == 4408, [f for f in seen if f["type"] != "filing"]
    assert seen[-1]["code"] == "slow_consumer"
    assert seen[-1]["cursor"]
    assert len([f for f in seen if f["type"] == "filing"]) < 400


@pytest.mark.parametrize(
    ("query", "code", "named"),
    [
        ("from=yesterday", 4400, "from"),
        ("topic=nope", 4404, "topic"),
        ("min_priority=urgent", 4400, "min_priority"),
        ("items=abc", 4400, "items"),
        ("from=committed", 4400, "from"),
        ("client_id=bad%20id!", 4400, "client_id"),
        ("transaction_codes=P,B", 4400, "transaction_codes"),
        ("min_value_usd=-100", 4400, "min_value_usd"),
        ("insider_roles=ceo", 4400, "insider_roles"),
        ("topic=raw&transaction_codes=P", 4400, "transaction_codes"),
    ],
)
async def test_bad_parameters_get_an_error_frame_and_a_close_code(
    gateway: GatewayProcess, query: str, code: int, named: str
) -> None:
    async with connect(f"{gateway.ws_url}?{query}") as ws:
        closed_with, seen = await until_closed(ws)
    assert seen[0]["type"] == "error"
    assert seen[0]["message"].startswith(named)
    assert closed_with == code
    # The gateway keeps serving others.
    async with connect(f"{gateway.ws_url}?from=latest") as ws:
        assert (await first_frame(ws))["type"] == "welcome"


async def test_oversized_and_malformed_client_frames(gateway: GatewayProcess) -> None:
    async with connect(f"{gateway.ws_url}?from=latest") as ws:
        await ws.send(json.dumps({"type": "ping"}))
        assert (await frames(ws, 1, "pong"))[0] == {"type": "pong"}
        await ws.send("x" * 10_000)
        assert (await until_closed(ws))[0] == 1009
    async with connect(f"{gateway.ws_url}?from=latest") as ws:
        await ws.send("{not json")
        code, seen = await until_closed(ws)
    assert code == 4400
    assert seen[-1]["message"].startswith("frame")


async def test_api_keys_on_websocket_sse_and_rest(topics: TopicSettings, tmp_path: Path) -> None:
    with GatewayProcess(
        topics, tmp_path, GATEWAY_API_KEYS="k1,k2", GATEWAY_MAX_CONNECTIONS_PER_KEY="1"
    ) as gateway:
        async with connect(f"{gateway.ws_url}?from=latest") as ws:
            code, seen = await until_closed(ws)
            assert code == 4401
            assert seen[0]["code"] == "unauthorized"
        async with connect(f"{gateway.ws_url}?from=latest&api_key=wrong") as ws:
            assert (await first_frame(ws))["code"] == "unauthorized"
        headers = {"Authorization": "Bearer k1"}
        async with connect(f"{gateway.ws_url}?from=latest", additional_headers=headers) as ws:
            assert (await first_frame(ws))["type"] == "welcome"
            # The key's one slot is taken.
            async with connect(f"{gateway.ws_url}?from=latest&api_key=k1") as second:
                assert (await first_frame(second))["code"] == "too_many_connections"
        async with httpx.AsyncClient(base_url=gateway.base_url) as http:
            assert (await http.get("/api/filings")).status_code == 401
            assert (await http.get("/api/filings", params={"api_key": "k2"})).status_code == 200
            assert (await http.get("/healthz")).status_code == 200


async def test_server_sent_events_resume_with_last_event_id(
    topics: TopicSettings, gateway: GatewayProcess
) -> None:
    await publish_analyses(topics, [sample_analysis(n) for n in range(1, 6)])

    async def events(headers: dict[str, str], count: int) -> list[tuple[str, str, dict[str, Any]]]:
        found: list[tuple[str, str, dict[str, Any]]] = []
        headers = {"Accept": "text/event-stream", **headers}
        async with (
            httpx.AsyncClient(timeout=30) as http,
            http.stream(
                "GET", f"{gateway.base_url}/stream", params={"from": "earliest"}, headers=headers
            ) as response,
        ):
            assert response.headers["content-type"].startswith("text/event-stream")
            event, event_id = "", ""
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("id: "):
                    event_id = line[4:]
                elif line.startswith("data: ") and event == "filing":
                    found.append((event, event_id, json.loads(line[6:])))
                    if len(found) == count:
                        return found
        return found

    got = await events({}, 5)
    assert [frame["offset"] for _, _, frame in got] == [0, 1, 2, 3, 4]
    assert got[1][1] == got[1][2]["cursor"]
    resumed = await events({"Last-Event-ID": got[1][1]}, 1)
    assert resumed[0][2]["offset"] == 2


async def test_rest_api_serves_the_analyzed_filings(
    topics: TopicSettings, gateway: GatewayProcess
) -> None:
    records = [
        sample_analysis(1, ticker="AAPL"),
        sample_analysis(2, ticker="MSFT", form_type="10-Q"),
    ]
    await publish_analyses(topics, records)
    accession = records[0]["filing"]["accession_number"]
    async with httpx.AsyncClient(base_url=gateway.base_url) as http:
        for _ in range(50):
            listed = (await http.get("/api/filings", params={"ticker": "AAPL"})).json()
            if listed["count"]:
                break
            await asyncio.sleep(0.2)
        assert [f["filing"]["accession_number"] for f in listed["filings"]] == [accession]
        one = await http.get(f"/api/filings/{accession}")
        assert one.status_code == 200
        assert one.json()["filing"]["tickers"] == ["AAPL"]
        assert (await http.get("/api/filings/0000000000-00-000000")).status_code == 404
        bad = await http.get("/api/filings", params={"limit": "many"})
        assert bad.status_code == 400
        assert "limit" in bad.json()["message"]
        assert (await http.get("/openapi.json")).json()["openapi"].startswith("3.")
        # The tail's position: both records read (offsets 0 and 1), then past the commit marker.
        gauge = f'gateway_tail_position{{topic="{topics.topic_analyzed}"}} '
        for _ in range(50):
            metrics = (await http.get("/metrics")).text
            values = [
                float(line.removeprefix(gauge))
                for line in metrics.splitlines()
                if line.startswith(gauge)
            ]
            if values == [3.0]:
                break
            await asyncio.sleep(0.2)
        assert values == [3.0]
        assert "gateway_connections" in metrics
        assert (await http.get("/readyz")).status_code == 200


async def _sse_filings(url: str, params: dict[str, str], count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    headers = {"Accept": "text/event-stream"}
    async with (
        httpx.AsyncClient(timeout=30) as http,
        http.stream("GET", url, params=params, headers=headers) as response,
    ):
        if response.status_code != 200:
            await response.aread()
            return [response.json() | {"status": response.status_code}]
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "filing":
                found.append(json.loads(line[6:]))
                if len(found) == count:
                    break
    return found


async def test_ownership_filters_on_replay_and_live_over_websocket_and_sse(
    topics: TopicSettings, gateway: GatewayProcess
) -> None:
    purchase, sale, plain = insider_record(1), insider_record(2, SALE_DOCUMENT), sample_analysis(3)
    await publish_analyses(topics, [purchase, sale, plain])
    officers = await connect(f"{gateway.ws_url}?from=earliest&insider_roles=officer")
    big = await connect(f"{gateway.ws_url}?from=earliest&min_value_usd=1e6&transaction_codes=S")
    try:
        welcome = json.loads(await officers.recv())
        assert welcome["filters"] == {"insider_roles": ["officer"]}
        assert accessions(await frames(officers, 1)) == [sale["filing"]["accession_number"]]
        assert accessions(await frames(big, 1)) == [sale["filing"]["accession_number"]]
        live_purchase, live_sale = insider_record(4), insider_record(5, SALE_DOCUMENT)
        await publish_analyses(topics, [sample_analysis(6), live_purchase, live_sale])
        assert accessions(await frames(officers, 1)) == [live_sale["filing"]["accession_number"]]
        (frame,) = await frames(big, 1)
        assert frame["data"]["ownership"]["transactions"][0]["code"] == "S"  # the facts come too
    finally:
        await officers.close()
        await big.close()

    url = f"{gateway.base_url}/stream"
    buys = await _sse_filings(url, {"from": "earliest", "transaction_codes": "p"}, 2)
    assert [f["data"]["filing"]["accession_number"] for f in buys] == [
        purchase["filing"]["accession_number"],
        live_purchase["filing"]["accession_number"],
    ]
    (refused,) = await _sse_filings(url, {"min_value_usd": "lots"}, 1)
    assert refused["status"] == 400
    assert refused["error"] == "bad_parameter"
    assert refused["message"].startswith("min_value_usd: ")


async def test_freshness_since_acceptance_and_detection_is_on_metrics(
    topics: TopicSettings, gateway: GatewayProcess
) -> None:
    await publish_analyses(topics, [sample_analysis(n) for n in range(1, 4)])

    def freshness(metrics: str, since: str) -> tuple[float, float]:
        def sample(name: str) -> float:
            line = next(
                (
                    line
                    for line in metrics.splitlines()
                    if line.startswith(name) and f'since="{since}"' in line
                ),
                None,
            )
            return float(line.split()[-1]) if line else 0.0

        return sample("gateway_freshness_seconds_count"), sample("gateway_freshness_seconds_sum")

    async with httpx.AsyncClient(base_url=gateway.base_url) as http:
        for _ in range(100):
            metrics = (await http.get("/metrics")).text
            if freshness(metrics, "accepted")[0] >= 3:
                break
            await asyncio.sleep(0.2)
    accepted_count, accepted_sum = freshness(metrics, "accepted")
    detected_count, detected_sum = freshness(metrics, "detected")
    assert (accepted_count, detected_count) == (3, 3)
    # The sample records were accepted and detected in June 2026: months before delivery.
    assert accepted_sum > 3 * 86_400
    assert detected_sum > 3 * 86_400
