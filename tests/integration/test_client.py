"""The client library against real gateway processes on the real broker.

The gateway is killed (SIGKILL) and frozen (SIGSTOP) under a client that is handling records;
the client process itself is restarted (`sec-digester tail`, built on the library). Records
are put on the analyzed topic as analyze does (Avro, transactional).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sec_digester_client import (
    AuthenticationError,
    BadParameterError,
    ClientConfig,
    FilingAnalysis,
    StreamClient,
)

from services.common.settings import TopicSettings
from services.infra.settings import InfraSettings
from tests.support.gateway import GatewayProcess, publish_analyses
from tests.support.infra import provision, topic_settings
from tests.support.records import sample_analysis
from tests.support.tail import TailProcess
from tests.support.waiting import wait_for, wait_for_async

pytestmark = pytest.mark.asyncio


def config_for(gateway: GatewayProcess, **fields: Any) -> ClientConfig:
    # Quick reconnections, so the test spends its time on what it checks.
    quick = {"backoff_initial_s": 0.2, "backoff_max_s": 2.0, "connect_timeout_s": 5.0}
    return ClientConfig(url=gateway.ws_url, **(quick | fields))


@pytest.fixture
def gateway(topics: TopicSettings, tmp_path: Path) -> Iterator[GatewayProcess]:
    with GatewayProcess(topics, tmp_path) as process:
        yield process


def accession(sequence: int) -> str:
    return str(sample_analysis(sequence)["filing"]["accession_number"])


async def until(
    condition: Callable[[], bool], what: str, running: asyncio.Task[None], timeout_s: float = 90
) -> None:
    """Wait for `condition`; if the client's task ends first, its error is the failure."""

    def probe() -> bool:
        if running.done():
            running.result()
            raise AssertionError(f"the client stopped before {what}")
        return condition()

    await wait_for_async(probe, timeout_s=timeout_s, what=what)


async def stopped(running: asyncio.Task[None]) -> None:
    """Cancel the client's task and let it finish, before its client closes."""
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running


@pytest.mark.timeout(240)
async def test_every_filing_once_in_the_callback_while_the_gateway_is_killed_twice(
    infra: InfraSettings, tmp_path: Path
) -> None:
    topics = topic_settings(infra, partitions=3)
    await provision(topics)
    records = [sample_analysis(n, ticker=("JPM", "AAPL", "MSFT")[n % 3]) for n in range(1, 301)]
    await publish_analyses(topics, records[:100])
    handled: list[FilingAnalysis] = []

    async def handle(filing: FilingAnalysis) -> None:
        await asyncio.sleep(0.005)  # a handler that takes a little time, as real ones do
        handled.append(filing)

    def handled_at_least(count: int) -> Callable[[], bool]:
        return lambda: len(handled) >= count

    with GatewayProcess(topics, tmp_path) as gateway:
        config = config_for(gateway, client_id="once", start="earliest")
        async with StreamClient(config) as client:
            running = asyncio.create_task(client.run(handle))
            for kill_after, more in ((60, records[100:200]), (160, records[200:])):
                await until(handled_at_least(kill_after), f"{kill_after} filings", running)
                await asyncio.to_thread(gateway.kill)
                await publish_analyses(topics, more)  # while no gateway runs
                await asyncio.to_thread(gateway.start)
            await until(handled_at_least(len(records)), "every filing", running)
            await stopped(running)
    got = [filing.accession_number for filing in handled]
    assert sorted(got) == sorted(r["filing"]["accession_number"] for r in records)
    assert client.connections >= 3
    for partition in range(3):
        offsets = [
            f.delivery.offset for f in handled if f.delivery and f.delivery.partition == partition
        ]
        assert offsets == sorted(offsets)


async def test_a_restarted_client_process_resumes_from_its_committed_position(
    topics: TopicSettings, gateway: GatewayProcess, tmp_path: Path
) -> None:
    await publish_analyses(topics, [sample_analysis(n) for n in range(1, 21)])
    args = ("--client-id", "restarted")
    with TailProcess(topics, gateway, tmp_path, *args, "--from", "earliest") as first:
        wait_for(lambda: len(first.accessions()) >= 20, timeout_s=60, what="the first run")
        first.signal(signal.SIGTERM)
        assert first.wait(timeout_s=30) == 0
    await publish_analyses(topics, [sample_analysis(n) for n in range(21, 41)])
    # No --from: the position committed for the client id, after the last record printed.
    with TailProcess(topics, gateway, tmp_path, *args, name="tail-2") as second:
        wait_for(lambda: len(second.accessions()) >= 20, timeout_s=60, what="the second run")
    assert first.accessions() == [accession(n) for n in range(1, 21)]
    assert second.accessions() == [accession(n) for n in range(21, 41)]


@pytest.mark.timeout(120)
async def test_a_frozen_gateway_is_detected_and_the_client_reconnects_when_it_thaws(
    topics: TopicSettings, gateway: GatewayProcess
) -> None:
    config = config_for(gateway, start="latest", ping_interval_s=0.5, pong_timeout_s=1.0)
    handled: list[str] = []

    async def handle(filing: FilingAnalysis) -> None:
        handled.append(filing.accession_number)

    async with StreamClient(config) as client:
        running = asyncio.create_task(client.run(handle))
        await until(lambda: client.connected and client.position is not None, "welcome", running)
        await publish_analyses(topics, [sample_analysis(1)])
        await until(lambda: handled == [accession(1)], "the first filing", running)
        gateway.signal(signal.SIGSTOP)
        try:
            # Detected within a ping interval plus the pong timeout (and slack for a busy
            # machine), not after TCP's own timeouts, which take minutes.
            await until(lambda: not client.connected, "detection", running, timeout_s=6)
            await publish_analyses(topics, [sample_analysis(2)])
        finally:
            gateway.signal(signal.SIGCONT)
        await until(lambda: len(handled) == 2, "the filing published while frozen", running)
        await stopped(running)
    assert handled == [accession(1), accession(2)]
    assert client.connections >= 2


async def test_a_wrong_key_is_an_authentication_error_at_once(
    topics: TopicSettings, tmp_path: Path
) -> None:
    with GatewayProcess(topics, tmp_path, GATEWAY_API_KEYS="right") as gateway:
        config = config_for(gateway, api_key="wrong")
        async with StreamClient(config) as client:
            with pytest.raises(AuthenticationError, match="4401"):
                await asyncio.wait_for(anext(client), timeout=30)
        assert client.connections == 1  # raised, not retried
        right = config_for(gateway, api_key="right", start="latest")
        async with StreamClient(right) as client:
            running = asyncio.create_task(client.run(lambda filing: asyncio.sleep(0)))
            await until(
                lambda: client.position is not None, "a welcome with the right key", running
            )
            await stopped(running)


@pytest.mark.parametrize(
    ("start", "items", "named"), [("yesterday", (), "from"), (None, ("abc",), "items")]
)
async def test_a_rejected_parameter_is_a_bad_parameter_error(
    gateway: GatewayProcess, start: str | None, items: tuple[str, ...], named: str
) -> None:
    config = config_for(gateway, start=start, items=items)
    async with StreamClient(config) as client:
        with pytest.raises(BadParameterError, match=f"^{named}: .*4400"):
            await asyncio.wait_for(client.run(lambda filing: asyncio.sleep(0)), timeout=30)
    assert client.connections == 1


def offset_in(cursor: str) -> int:
    """The offset of a single-partition cursor (`0:N`)."""
    partition, offset = cursor.split(":")
    assert partition == "0"
    return int(offset)


@pytest.mark.timeout(180)
async def test_subscribe_changes_the_filters_on_the_connection_and_for_reconnections(
    topics: TopicSettings, gateway: GatewayProcess
) -> None:
    # One partition: record n of this list is at offset n.
    tickers = ["JPM", "AAPL", "AAPL", "JPM", "AAPL", "JPM"]
    records = [sample_analysis(n, ticker=ticker) for n, ticker in enumerate(tickers, start=1)]
    await publish_analyses(topics, records)
    config = config_for(gateway, tickers=("JPM",), start="earliest")
    async with StreamClient(config) as client:
        first = await asyncio.wait_for(anext(client), timeout=30)
        assert first.accession_number == accession(1)
        cursor = await asyncio.wait_for(client.subscribe(tickers=["aapl"], forms=["8-K"]), 30)
        assert cursor is not None
        assert client.config.tickers == ("aapl",)
        # Sent before the acknowledgement: the old filter's, up to its cursor; then the new
        # filter's from there on (whether the gateway had sent the rest of the replay by then
        # or not), and a record published later.
        before = [n for n, t in enumerate(tickers) if t == "JPM" and 0 < n < offset_in(cursor)]
        after = [n for n, t in enumerate(tickers) if t == "AAPL" and n >= offset_in(cursor)]
        await publish_analyses(topics, [sample_analysis(7, ticker="JPM")])
        await publish_analyses(topics, [sample_analysis(8, ticker="AAPL")])
        expected = [accession(n + 1) for n in before + after] + [accession(8)]
        got = [(await asyncio.wait_for(anext(client), 30)).accession_number for _ in expected]
        assert got == expected
        assert client.connections == 1

        # Refused by the gateway: raised here, and the stream goes on as it was.
        with pytest.raises(BadParameterError, match=r"^tickers: "):
            await asyncio.wait_for(client.subscribe(tickers=["NOT A TICKER"]), 30)
        assert client.config.tickers == ("aapl",)

        # From another task while `run` takes the records: answered all the same.
        handled: list[str] = []

        async def handle(filing: FilingAnalysis) -> None:
            handled.append(filing.accession_number)

        running = asyncio.create_task(client.run(handle))
        await asyncio.wait_for(client.subscribe(tickers=["MSFT"]), 30)
        await publish_analyses(
            topics, [sample_analysis(9, ticker="AAPL"), sample_analysis(10, ticker="MSFT")]
        )
        await until(lambda: handled == [accession(10)], "the MSFT filing", running)

        # A reconnection opens with the filters last acknowledged, not those of the config
        # the client was made with.
        await asyncio.to_thread(gateway.kill)
        await publish_analyses(
            topics, [sample_analysis(11, ticker="JPM"), sample_analysis(12, ticker="MSFT")]
        )
        await asyncio.to_thread(gateway.start)
        await until(lambda: len(handled) == 2, "the filing published while away", running)
        await stopped(running)
    assert handled == [accession(10), accession(12)]
    assert client.connections == 2
    assert "tickers=MSFT" in client.config.stream_url(None)
