"""The whole pipeline as separate processes.

Each killed with SIGKILL once mid-run: ingest replays the recorded corpus, analyze analyzes, the
gateway streams; a standard WebSocket client with a `client_id` acknowledges what it receives and
reconnects (from its committed position) whenever the gateway goes away. At the end it has seen
every accession of the corpus, and the analyzed topic holds each exactly once for a
read_committed reader.

And the structured facts end to end: a Form 4's ownership XML, a Schedule 13D's stake, a Form
144's sale notice and a 10-Q's XBRL financials, read by analyze, filtered on by the gateway,
typed by the client library.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sec_digester_client import (
    ClientConfig,
    DocumentStatus,
    FactRole,
    PeriodLabel,
    StakeKind,
    StreamClient,
)
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from services.common.settings import TopicSettings
from services.emulator.server import EmulatorHandle, run_emulator
from services.infra.settings import InfraSettings
from tests.support.cli import edgar_environment, environment_for
from tests.support.gateway import GatewayProcess
from tests.support.infra import provision, topic_settings
from tests.support.ownership_corpus import (
    ISABELLA_PURCHASE,
    QXO_STAKE,
    SAMPLE_SALE_NOTICE,
    TESLA_10Q,
    ZIPRECRUITER_VESTING,
    PeriodicReport,
    WrappedFiling,
    corpus_with_ownership,
    hostile_stake,
)
from tests.support.processes import ServiceProcess, free_port
from tests.support.records import CORPUS_DIR
from tests.support.topic_reader import read_topic

_ACCESSION = re.compile(rb"accession-number=(\d{10}-\d{2}-\d{6})")


def corpus_accessions() -> set[str]:
    return {
        m.decode()
        for page in (CORPUS_DIR / "getcurrent").glob("*/*.xml")
        for m in _ACCESSION.findall(page.read_bytes())
    }


class DurableClient:
    """Receives, acknowledges and dedupes; reconnects from its committed position."""

    def __init__(self, gateway: GatewayProcess) -> None:
        self.gateway = gateway
        self.seen: set[str] = set()
        self.deliveries = 0
        self.connections = 0
        self._progress = asyncio.Condition()

    async def reached(self, count: int, timeout_s: float = 240) -> None:
        async with asyncio.timeout(timeout_s), self._progress:
            await self._progress.wait_for(lambda: len(self.seen) >= count)

    async def run(self, wanted: set[str]) -> None:
        while not wanted <= self.seen:
            query = "client_id=whole-stack" + ("&from=earliest" if not self.connections else "")
            try:
                async with connect(f"{self.gateway.ws_url}?{query}", open_timeout=5) as ws:
                    self.connections += 1
                    while not wanted <= self.seen:
                        frame = json.loads(await ws.recv())
                        if frame["type"] == "filing":
                            self.deliveries += 1
                            self.seen.add(frame["data"]["filing"]["accession_number"])
                            async with self._progress:
                                self._progress.notify_all()
                            await ws.send(json.dumps({"type": "ack", "cursor": frame["cursor"]}))
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError):
                await asyncio.sleep(0.5)  # the gateway is down or restarting


@pytest.mark.asyncio
async def test_every_filing_arrives_exactly_once_through_kill_9_of_every_service(
    infra: InfraSettings, emulator: EmulatorHandle, tmp_path: Path
) -> None:
    topics: TopicSettings = topic_settings(infra, partitions=3)
    await provision(topics)
    wanted = corpus_accessions()
    env = environment_for(topics, **edgar_environment(emulator), ANALYZE_FETCH_FORMS="")
    ingest = ServiceProcess(
        "ingest",
        [
            "ingest",
            "--source",
            "replay",
            "--corpus",
            str(CORPUS_DIR),
            "--speed",
            "2000",
        ],
        env | {"INGEST_REPLAY_MAX_GAP_S": "0.3", "INGEST_HEALTH_PORT": str(free_port())},
        tmp_path,
    )
    analyze = ServiceProcess(
        "analyze",
        ["analyze"],
        env
        | {
            "ANALYZE_HEALTH_PORT": str(free_port()),
            "ANALYZE_GROUP_ID": f"stack-{topics.topic_raw}",
            "ANALYZE_BATCH_SIZE": "50",
        },
        tmp_path,
    )
    with ingest, analyze, GatewayProcess(topics, tmp_path) as gateway:
        client = DurableClient(gateway)
        receiving = asyncio.create_task(client.run(wanted))
        await client.reached(300)
        ingest.kill()
        ingest.start()
        await client.reached(1200)
        analyze.kill()
        analyze.start()
        await client.reached(2000)
        gateway.kill()
        gateway.start()
        async with asyncio.timeout(300):
            await receiving
        connections, deliveries = client.connections, client.deliveries
    assert client.seen == wanted
    assert connections >= 2  # it did reconnect after the gateway died
    assert deliveries >= len(wanted)  # at least once; duplicates are allowed, losses are not
    analyzed = read_topic(
        topics.kafka_bootstrap_servers, topics.schema_registry_url, topics.topic_analyzed
    )
    counts = Counter(r.key for r in analyzed)
    assert {k: n for k, n in counts.items() if n > 1} == {}
    assert set(counts) == wanted
    assert ingest.starts == analyze.starts == gateway.starts == 2


async def _filings_until_caught_up(url: str) -> list[dict[str, Any]]:
    """The `data` of every filing frame a fresh connection replays, up to `caught_up`."""
    received = []
    async with asyncio.timeout(60), connect(url, open_timeout=5) as ws:
        while (frame := json.loads(await ws.recv()))["type"] != "caught_up":
            assert frame["type"] in {"welcome", "filing"}, frame
            if frame["type"] == "filing":
                received.append(frame["data"])
    return received


async def _first_filings(url: str, count: int) -> list[dict[str, Any]]:
    """The `data` of the first `count` filing frames a connection gets, replayed or live."""
    received: list[dict[str, Any]] = []
    async with connect(url, open_timeout=5) as ws:
        while len(received) < count:
            if (frame := json.loads(await ws.recv()))["type"] == "filing":
                received.append(frame["data"])
    return received


def _ingest_and_analyze(
    topics: TopicSettings, corpus: Path, emulator: EmulatorHandle, tmp_path: Path
) -> tuple[ServiceProcess, ServiceProcess]:
    """ingest replaying `corpus` fast, and analyze reading the emulator, in a group of its own:
    a static member (analyze's group.instance.id is the host name) that rejoins its group with
    another topic keeps the old topic's assignment, without a rebalance (KAFKA-12759), so a
    second test in the default group would read nothing."""
    env = environment_for(topics, **edgar_environment(emulator))
    ingest = ServiceProcess(
        "ingest",
        ["ingest", "--source", "replay", "--corpus", str(corpus), "--speed", "100"],
        env | {"INGEST_HEALTH_PORT": str(free_port())},
        tmp_path,
    )
    group = {"ANALYZE_GROUP_ID": f"facts-{topics.topic_raw}"}
    analyze = ServiceProcess(
        "analyze",
        ["analyze"],
        env | group | {"ANALYZE_HEALTH_PORT": str(free_port())},
        tmp_path,
    )
    return ingest, analyze


@pytest.mark.asyncio
async def test_an_insider_purchase_reaches_a_client_filtered_on_code_p_with_its_facts(
    infra: InfraSettings, tmp_path: Path
) -> None:
    """ingest replays a feed of two real Form 4s (an open-market purchase, and RSUs vesting with
    shares withheld for taxes), analyze fetches their ownership XML from the EDGAR emulator, and
    a client-library client filtered with transaction_codes=P gets the purchase, typed, and
    never the other."""
    topics = topic_settings(infra, partitions=3)
    await provision(topics)
    filings = [ISABELLA_PURCHASE, ZIPRECRUITER_VESTING]
    corpus = corpus_with_ownership(tmp_path, filings, feed=True)
    with run_emulator(corpus) as emulator, GatewayProcess(topics, tmp_path) as gateway:
        ingest, analyze = _ingest_and_analyze(topics, corpus, emulator, tmp_path)
        config = ClientConfig(url=gateway.ws_url, transaction_codes=("P",), start="earliest")
        url = f"{gateway.ws_url}?from=earliest"
        async with StreamClient(config) as client:
            with ingest, analyze:
                async with asyncio.timeout(180):
                    live = await anext(aiter(client))
                    # The vesting may be analyzed after the purchase was delivered: both are
                    # on the topic before analyze stops.
                    everything = await _first_filings(url, len(filings))
            ownership = live.ownership
            assert live.accession_number == ISABELLA_PURCHASE.accession
            assert ownership is not None
            assert ownership.issuer.trading_symbol == "ISBA"
            assert [owner.roles for owner in ownership.owners] == [("director",)]
            purchase = ownership.transactions[0]
            assert (purchase.code, purchase.shares, purchase.price_per_share) == (
                "P",
                275.634,
                18.14,
            )
            assert purchase.rule_10b5_1 is False

        # Both were analyzed (with their facts); on replay the filter keeps only the purchase.
        codes = {
            data["filing"]["accession_number"]: {
                t["code"] for t in data["ownership"]["transactions"]
            }
            for data in everything
        }
        assert codes == {
            ISABELLA_PURCHASE.accession: {"P", None},  # and two holdings
            ZIPRECRUITER_VESTING.accession: {"M", "F"},
        }
        filtered = await _filings_until_caught_up(
            f"{gateway.ws_url}?from=earliest&transaction_codes=P&insider_roles=director"
        )
        assert [data["filing"]["accession_number"] for data in filtered] == [
            ISABELLA_PURCHASE.accession
        ]


@pytest.mark.asyncio
async def test_a_13d_a_144_and_a_10q_reach_a_client_with_their_typed_facts(
    infra: InfraSettings, tmp_path: Path
) -> None:
    """ingest replays a feed of a Schedule 13D (XML), a Form 144 (XML) and a 10-Q whose real
    XBRL instance is in its complete submission; analyze reads each family's facts at the
    default settings (which fetch these forms); a client-library client gets all three typed,
    and one filtered with min_stake_pct=5&stake_kind=active only the 13D. Among them, bad
    input that moves the partition on with its reason: a hostile 13D (an entity declaration)
    and a 10-Q whose instance has no context at its period end (an 8-K's cover-page instance)."""
    topics = topic_settings(infra, partitions=3)
    await provision(topics)
    hostile = hostile_stake(tmp_path / "hostile")
    no_period = PeriodicReport(
        "WatersCorp.8-K.xbrl.xml", "0000000002-24-000002", "0000000002", "NO PERIOD"
    )
    filings: list[WrappedFiling] = [
        hostile,
        QXO_STAKE,
        no_period,
        SAMPLE_SALE_NOTICE,
        TESLA_10Q,
    ]
    corpus = corpus_with_ownership(tmp_path, filings, feed=True)
    with run_emulator(corpus) as emulator, GatewayProcess(topics, tmp_path) as gateway:
        ingest, analyze = _ingest_and_analyze(topics, corpus, emulator, tmp_path)
        everything = ClientConfig(url=gateway.ws_url, start="earliest")
        active = ClientConfig(
            url=gateway.ws_url, start="earliest", min_stake_pct=5.0, stake_kind="active"
        )
        async with StreamClient(everything) as client, StreamClient(active) as stakes:
            with ingest, analyze:
                async with asyncio.timeout(180):
                    records = {}
                    async for record in client:
                        records[record.accession_number] = record
                        if len(records) == len(filings):
                            break
                    filtered = await anext(aiter(stakes))
        assert filtered.accession_number == QXO_STAKE.accession
        # The filter kept the 10-Q and the 144 away: on replay it still gives only the 13D.
        replayed = await _filings_until_caught_up(
            f"{gateway.ws_url}?from=earliest&min_stake_pct=5&stake_kind=active"
        )
        assert [data["filing"]["accession_number"] for data in replayed] == [QXO_STAKE.accession]

    stake = records[QXO_STAKE.accession].stake
    assert stake is not None
    assert (stake.kind, stake.percent_of_class, stake.aggregate_amount) == (
        StakeKind.ACTIVE,
        6.3,
        32_671_542.0,
    )
    assert stake.issuer_cusip == "82846H405"
    assert stake.reporting_persons[-1].name == "Jared Kushner"
    assert len(stake.reporting_persons) == 6

    sale = records[SAMPLE_SALE_NOTICE.accession].sale_notice
    assert sale is not None
    assert (sale.issuer_cik, sale.issuer_ticker) == ("0001118676", None)  # a test issuer
    assert sale.seller_name == "van der Velden Jan"
    assert [(s.units_to_be_sold, s.broker_name) for s in sale.securities] == [
        (17_087.0, "Virtu Financial"),
        (18_000.0, "Virtu Financial 1"),
    ]
    assert records[SAMPLE_SALE_NOTICE.accession].stake is None

    report = records[TESLA_10Q.accession]
    assert report.filing.tickers == ("TSLA",)
    financials = report.financials
    assert financials is not None
    assert (financials.document_type, financials.period_end, financials.fiscal_period) == (
        "10-Q",
        "2024-06-30",
        "Q2",
    )
    quarter = financials.figure("revenue", label=PeriodLabel.QUARTER)
    half = financials.figure("revenue", label=PeriodLabel.SIX_MONTHS)
    a_year_ago = financials.figure("eps_diluted", FactRole.PRIOR_YEAR, PeriodLabel.QUARTER)
    assert quarter is not None
    assert half is not None
    assert a_year_ago is not None
    assert (quarter.value, quarter.period_start) == (25_500_000_000.0, "2024-04-01")
    assert half.value == 46_801_000_000.0
    assert a_year_ago.value == 0.78
    assert len(financials.facts) == 22

    refused = records[hostile.accession]
    assert refused.stake is None
    assert refused.document_status is DocumentStatus.ERROR
    assert refused.document_detail is not None
    assert "DTD" in refused.document_detail or "entit" in refused.document_detail.lower()
    unread = records[no_period.accession].financials
    assert unread is not None
    assert unread.facts == ()
    assert unread.incomplete_reason  # says why: no current period
