"""The dashboard at `/`, in a real browser (Debian's Chromium driven by Playwright).

Needs `scripts/install-browser-test-deps.sh` (chromium from apt, the `playwright` package from
PyPI; no Playwright browser download) and the `gateway` fixture: an object with `.base_url`
(`http://127.0.0.1:PORT`, a running gateway with no API keys) and `.publish(record)` that puts a
FilingAnalysis, given as the JSON the gateway serves (see `analysis_record`), on the analyzed
topic. `publish` may be a plain or an async method.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import json
import math
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import (
    BrowserContext,
    ConsoleMessage,
    Error,
    Locator,
    Page,
    Request,
    WebSocket,
    async_playwright,
    expect,
)

from services.common.settings import TopicSettings
from tests.support.facts_corpus import parsed_record
from tests.support.facts_records import (
    OFFICER_APPOINTMENT,
    PURCHASE_DOCUMENT,
    corpus_earnings,
    corpus_ownership,
)
from tests.support.gateway import GatewayProcess, publish_analyses
from tests.support.retention import remove_by_retention

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 20_000


class Gateway(Protocol):
    @property
    def base_url(self) -> str: ...

    def publish(self, record: dict[str, Any]) -> Awaitable[None] | None: ...


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def analysis_record(
    accession: str,
    *,
    ticker: str,
    company: str,
    form: str = "8-K",
    items: Iterable[str] = ("8.01",),
    priority: str = "medium",
    sentiment: float = 0.0,
    summary: str = "",
    accepted_at: dt.datetime,
) -> dict[str, Any]:
    """A FilingAnalysis as the gateway serves it: timestamps ISO-8601 UTC, dates YYYY-MM-DD."""
    cik = "00" + accession[:8]
    folder = f"https://www.sec.gov/Archives/edgar/data/{int(cik)}/{accession.replace('-', '')}"
    item_list = list(items)
    return {
        "filing": {
            "accession_number": accession,
            "form_type": form,
            "accepted_at": _iso(accepted_at),
            "filed_date": accepted_at.date().isoformat(),
            "entities": [{"cik": cik, "name": company, "role": "filer", "tickers": [ticker]}],
            "tickers": [ticker],
            "index_url": f"{folder}/{accession}-index.htm",
            "size_bytes": 48_211,
            "items": item_list,
            "source": "live",
            "detected_at": _iso(accepted_at + dt.timedelta(seconds=2)),
        },
        "document_url": f"{folder}/{accession}.txt",
        "document_status": "fetched",
        "document_detail": None,
        "items": item_list,
        "analysis": {
            "summary": summary or f"{company} filed a {form}.",
            "sentiment": sentiment,
            "priority": priority,
            "keywords": [],
            "event_types": [],
            "metrics": {},
        },
        "analyzer": {
            "name": "offline",
            "model": None,
            "latency_ms": 3.5,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "cost_usd": None,
            "note": None,
        },
        "analyzed_at": _iso(accepted_at + dt.timedelta(seconds=3)),
    }


class Filings:
    """Records with accession numbers unique to this run (topics may outlive a test)."""

    def __init__(self) -> None:
        self._base = random.SystemRandom().randrange(100_000, 900_000)
        self._count = 0
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def make(self, minutes_ago: float, **fields: Any) -> dict[str, Any]:
        self._count += 1
        accession = f"0001193125-26-{self._base + self._count:06d}"
        accepted_at = self.now - dt.timedelta(minutes=minutes_ago)
        return analysis_record(accession, accepted_at=accepted_at, **fields)


def accession(record: dict[str, Any]) -> str:
    return str(record["filing"]["accession_number"])


async def publish(gateway: Gateway, record: dict[str, Any]) -> None:
    result = gateway.publish(record)
    if inspect.isawaitable(result):
        await result


async def wait_until_indexed(gateway: Gateway, records: list[dict[str, Any]]) -> None:
    """Publishing is asynchronous: wait until the REST index holds every record."""
    wanted = {accession(r) for r in records}
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=5) as client:
        while True:
            response = await client.get("/api/filings", params={"limit": 1000})
            response.raise_for_status()
            body = response.json()
            listed = body if isinstance(body, list) else body.get("filings", [])
            seen = {f.get("filing", {}).get("accession_number") for f in listed}
            if wanted <= seen:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"the gateway never listed {sorted(wanted - seen)}")
            await asyncio.sleep(0.2)


class _RealGateway:
    """The gateway as its own process; `publish` writes to the analyzed topic as analyze does."""

    def __init__(self, process: GatewayProcess, topics: TopicSettings) -> None:
        self.base_url = process.base_url
        self._topics = topics

    async def publish(self, record: dict[str, Any]) -> None:
        await publish_analyses(self._topics, [_as_avro(record)])

    async def publish_many(self, records: list[dict[str, Any]]) -> None:
        await publish_analyses(self._topics, [_as_avro(r) for r in records])


async def publish_all(gateway: Gateway, records: list[dict[str, Any]]) -> None:
    """Many records in one transaction where the fixture can, else one by one."""
    if isinstance(gateway, _RealGateway):
        await gateway.publish_many(records)
        return
    for record in records:
        await publish(gateway, record)


def _as_avro(record: dict[str, Any]) -> dict[str, Any]:
    """The JSON a client receives, back into the dict fastavro writes (times, dates)."""

    def moment(text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))

    filing = dict(record["filing"])
    filing["accepted_at"] = moment(filing["accepted_at"])
    filing["detected_at"] = moment(filing["detected_at"])
    filing["filed_date"] = dt.date.fromisoformat(filing["filed_date"])
    return {**record, "filing": filing, "analyzed_at": moment(record["analyzed_at"])}


@pytest.fixture
def gateway(topics: TopicSettings, tmp_path: Path) -> Iterator[_RealGateway]:
    with GatewayProcess(topics, tmp_path) as process:
        yield _RealGateway(process, topics)


@pytest.fixture
def chromium_profile(tmp_path: Path) -> Path:
    """Checks that Debian's Chromium is there; a fresh user-data dir for it."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-browser-test-deps.sh")
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    return profile


@pytest.fixture
def screenshot_path() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / "dashboard.png"


@pytest_asyncio.fixture
async def chromium_context(chromium_profile: Path) -> AsyncIterator[BrowserContext]:
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(chromium_profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1440, "height": 900},
            timezone_id="America/New_York",
            locale="en-US",
        )
        try:
            yield context
        finally:
            await context.close()


def row(page: Page, record: dict[str, Any]) -> Locator:
    return page.locator(f'#rows tr[data-accession="{accession(record)}"]')


@pytest.mark.asyncio
async def test_dashboard_history_live_and_filters(
    gateway: Gateway, chromium_context: BrowserContext, screenshot_path: Path
) -> None:
    filings = Filings()
    history = [
        filings.make(
            50,
            ticker="JPM",
            company="JPMORGAN CHASE & CO",
            items=("2.02", "9.01"),
            priority="high",
            sentiment=0.62,
            summary="JPMorgan Chase reported second-quarter results; net revenue rose 9%.",
        ),
        filings.make(
            40,
            ticker="AAPL",
            company="Apple Inc.",
            form="10-Q",
            items=(),
            priority="low",
            sentiment=0.15,
            summary="Apple filed its quarterly report; <b>markup</b> in a summary stays text.",
        ),
        filings.make(
            30,
            ticker="MSFT",
            company="MICROSOFT CORP",
            items=("5.02",),
            priority="medium",
            sentiment=-0.35,
            summary="Microsoft announced the departure of an executive officer.",
        ),
        filings.make(
            20,
            ticker="JPM",
            company="JPMORGAN CHASE & CO",
            form="8-K/A",
            items=("7.01",),
            priority="low",
            sentiment=0.0,
            summary="Amendment furnishing investor materials.",
        ),
    ]
    for record in history:
        await publish(gateway, record)
    await wait_until_indexed(gateway, history)

    page = await chromium_context.new_page()
    sockets: list[WebSocket] = []
    sent: list[dict[str, Any]] = []  # the frames the page sent on its sockets
    history_urls: list[str] = []

    def on_websocket(socket: WebSocket) -> None:
        sockets.append(socket)
        socket.on("framesent", lambda payload: sent.append(json.loads(payload)))

    def on_request(request: Request) -> None:
        if "/api/filings" in request.url:
            history_urls.append(request.url)

    page.on("websocket", on_websocket)
    page.on("request", on_request)
    await page.goto(gateway.base_url + "/")

    # History first, newest first, then live.
    rows = page.locator("#rows tr[data-accession]")
    await expect(rows).to_have_count(len(history), timeout=TIMEOUT_MS)
    shown = await rows.evaluate_all("rs => rs.map(r => r.dataset.accession)")
    assert shown == [accession(r) for r in reversed(history)]
    await expect(page.locator("#connection-text")).to_have_text("live", timeout=TIMEOUT_MS)
    assert any("limit=100" in url for url in history_urls)
    assert sockets
    assert "topic=analyzed" in sockets[0].url
    assert "from=latest" in sockets[0].url

    # Record text is shown as text, never parsed as markup.
    aapl = row(page, history[1])
    await expect(aapl.locator(".summary")).to_contain_text("<b>markup</b>")
    assert await aapl.locator("b").count() == 0
    jpm = row(page, history[0])
    await expect(jpm.locator(".priority")).to_have_text("high")
    await expect(jpm.locator(".sentiment-value")).to_have_text("+0.62")
    await expect(jpm.locator(".col-items")).to_have_text("2.02, 9.01")
    link = jpm.get_by_role("link", name=f"EDGAR index page of filing {accession(history[0])}")
    await expect(link).to_have_attribute("href", history[0]["filing"]["index_url"])

    # A record published after the page loaded arrives live, at the top.
    live = filings.make(
        1,
        ticker="TSLA",
        company="Tesla, Inc.",
        items=("1.01",),
        priority="critical",
        sentiment=-0.8,
        summary="Tesla entered into a material definitive agreement.",
    )
    await publish(gateway, live)
    await expect(row(page, live)).to_be_visible(timeout=TIMEOUT_MS)
    await expect(rows.first).to_have_attribute("data-accession", accession(live))
    await expect(rows).to_have_count(len(history) + 1)

    # Typing a ticker: history reloaded with tickers=, and the open stream told the new filter
    # with a subscribe frame, not reopened.
    await page.get_by_label("Ticker").fill("jpm")
    jpm_history = [r for r in history if r["filing"]["tickers"] == ["JPM"]]
    await expect(rows).to_have_count(len(jpm_history), timeout=TIMEOUT_MS)
    for record in jpm_history:
        await expect(row(page, record)).to_be_visible()
    await expect(page.locator("#connection-text")).to_have_text("live", timeout=TIMEOUT_MS)
    assert any("tickers=JPM" in url for url in history_urls)
    subscribes = [frame for frame in sent if frame["type"] == "subscribe"]
    assert subscribes == [{"type": "subscribe", "tickers": ["JPM"], "forms": []}]

    # Live under the filter: the other ticker's filing never shows, JPM's does.
    other = filings.make(0.5, ticker="MSFT", company="MICROSOFT CORP", priority="high")
    jpm_live = filings.make(
        0.2,
        ticker="JPM",
        company="JPMORGAN CHASE & CO",
        items=("8.01",),
        priority="medium",
        sentiment=0.3,
        summary="JPMorgan Chase announced a dividend.",
    )
    await publish(gateway, other)
    await publish(gateway, jpm_live)
    await expect(row(page, jpm_live)).to_be_visible(timeout=TIMEOUT_MS)
    await page.wait_for_timeout(1000)
    await expect(row(page, other)).to_have_count(0)
    tickers = await page.locator("#rows tr[data-accession] .tickers").all_inner_texts()
    assert tickers == ["JPM"] * (len(jpm_history) + 1)

    # A ticker the gateway refuses: said so on the page, and the stream goes on under the
    # filter it had (a JPM filing still arrives live, on the same socket).
    await page.get_by_label("Ticker").fill("jpm$")
    notice = page.locator("#notice")
    await expect(notice).to_be_visible(timeout=TIMEOUT_MS)
    await expect(notice).to_contain_text("The gateway refused the filters: tickers:")
    await page.get_by_label("Ticker").fill("jpm")
    await expect(rows).to_have_count(len(jpm_history) + 1, timeout=TIMEOUT_MS)
    await expect(notice).to_be_hidden()
    still_jpm = filings.make(0.1, ticker="JPM", company="JPMORGAN CHASE & CO")
    await publish(gateway, still_jpm)
    await expect(row(page, still_jpm)).to_be_visible(timeout=TIMEOUT_MS)

    # Clearing the filter brings everything back (from history), for the screenshot; and
    # live records of any ticker again, still on the one socket the page opened.
    await page.get_by_role("button", name="Clear").click()
    await expect(rows).to_have_count(len(history) + 4, timeout=TIMEOUT_MS)
    await expect(page.locator("#connection-text")).to_have_text("live", timeout=TIMEOUT_MS)
    anything = filings.make(0.05, ticker="NVDA", company="NVIDIA CORP", priority="low")
    await publish(gateway, anything)
    await expect(row(page, anything)).to_be_visible(timeout=TIMEOUT_MS)
    assert [frame for frame in sent if frame["type"] == "subscribe"][-1] == {
        "type": "subscribe",
        "tickers": [],
        "forms": [],
    }
    assert len(sockets) == 1
    await page.wait_for_timeout(4500)  # let the arrival highlight fade
    await page.screenshot(path=str(screenshot_path), full_page=True)


# A 424B2 of Bank of America lists every series it covers: 30 tickers on one filing.
BAC_TICKERS = ["BAC", *(f"BAC-P{letter}" for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ")]
BAC_TICKERS += ["BML-PG", "BML-PH", "BML-PJ"]


def with_entities(
    record: dict[str, Any], entities: list[dict[str, Any]], tickers: list[str]
) -> dict[str, Any]:
    record["filing"]["entities"] = entities
    record["filing"]["tickers"] = tickers
    return record


def minute_of(record: dict[str, Any]) -> str:
    """The start of the minute a record's accepted_at falls in, as the page writes it."""
    accepted = dt.datetime.fromisoformat(record["filing"]["accepted_at"].replace("Z", "+00:00"))
    return _iso(accepted.replace(second=0, microsecond=0))


def accepted_ms(record: dict[str, Any]) -> float:
    text = record["filing"]["accepted_at"].replace("Z", "+00:00")
    return dt.datetime.fromisoformat(text).timestamp() * 1000


async def shown_minutes(page: Page) -> dict[str, int]:
    pairs = await page.locator("#chart-minutes g.minute").evaluate_all(
        "gs => gs.map(g => [g.dataset.minute, Number(g.dataset.count)])"
    )
    return {str(minute): int(count) for minute, count in pairs if count}


async def freshness_ms(page: Page, measure: str, stat: str) -> float:
    cell = page.locator(f'#freshness tr[data-measure="{measure}"] td[data-stat="{stat}"]')
    await expect(cell).to_have_attribute("data-ms", re.compile(r"^-?\d+$"), timeout=TIMEOUT_MS)
    await expect(cell).to_have_text(re.compile(r"\d+(\.\d)? s$"))
    return float(await cell.get_attribute("data-ms") or "nan")


@pytest.mark.asyncio
async def test_dashboard_charts_and_many_tickers(
    gateway: Gateway, chromium_context: BrowserContext
) -> None:
    filings = Filings()
    priorities = ["low", "medium", "high", "critical"]
    # More than one page of history (the page asks for 100): the charts fetch the rest of
    # the hour themselves. Spread over minutes 40-50 ago, so the hour cannot slide past them.
    fillers = [
        filings.make(
            40.2 + (i % 11),
            ticker=f"F{i:03d}",
            company=f"FILLER {i} INC",
            priority=priorities[i % 3],
        )
        for i in range(100)
    ]
    too_old = filings.make(90, ticker="IBM", company="IBM", priority="critical")
    bac = with_entities(
        filings.make(
            10,
            ticker="BAC",
            company="BANK OF AMERICA CORP /DE/",
            form="424B2",
            items=(),
            priority="low",
        ),
        [
            {
                "cik": "0000070858",
                "name": "BANK OF AMERICA CORP /DE/",
                "role": "filer",
                "tickers": BAC_TICKERS,
            }
        ],
        BAC_TICKERS,
    )
    # A Form 4 whose reporting owner (listed first, with tickers of its own) is not the
    # issuer: the row leads with the issuer's ticker.
    oxy = with_entities(
        filings.make(
            8,
            ticker="OXY",
            company="OCCIDENTAL PETROLEUM CORP /DE/",
            form="4",
            items=(),
            priority="medium",
        ),
        [
            {
                "cik": "0001067983",
                "name": "BERKSHIRE HATHAWAY INC",
                "role": "reporting",
                "tickers": ["BRK-A", "BRK-B"],
            },
            {
                "cik": "0000797468",
                "name": "OCCIDENTAL PETROLEUM CORP /DE/",
                "role": "issuer",
                "tickers": ["OXY"],
            },
        ],
        ["BRK-A", "BRK-B", "OXY"],
    )
    recent = [
        filings.make(5, ticker="JPM", company="JPMORGAN CHASE & CO", priority="high"),
        filings.make(5, ticker="MSFT", company="MICROSOFT CORP", priority="critical"),
    ]
    history = [too_old, *fillers, bac, oxy, *recent]
    await publish_all(gateway, history)
    await wait_until_indexed(gateway, history)

    page = await chromium_context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    def on_page_error(error: Error) -> None:
        problems.append(str(error))

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    await page.goto(gateway.base_url + "/")
    await expect(page.locator("#connection-text")).to_have_text("live", timeout=TIMEOUT_MS)
    await expect(row(page, bac)).to_be_visible(timeout=TIMEOUT_MS)

    # Many tickers: the issuer's main ticker and "+29"; the whole list in the tooltip and
    # behind the button.
    bac_tickers = row(page, bac).locator(".tickers")
    await expect(bac_tickers).to_have_text("BAC +29")
    await expect(bac_tickers).to_have_attribute("title", ", ".join(BAC_TICKERS))
    more = row(page, bac).get_by_role("button", name="Show all 30 tickers")
    await expect(more).to_have_attribute("aria-expanded", "false")
    await expect(row(page, bac).locator(".ticker-list")).to_be_hidden()
    await more.click()
    await expect(more).to_have_attribute("aria-expanded", "true")
    await expect(row(page, bac).locator(".ticker-list")).to_have_text(", ".join(BAC_TICKERS))
    await more.click()
    await expect(row(page, bac).locator(".ticker-list")).to_be_hidden()
    await expect(row(page, oxy).locator(".tickers")).to_have_text("OXY +2")
    await expect(row(page, oxy).locator(".entity")).to_have_text(
        "OCCIDENTAL PETROLEUM CORP /DE/ +1"
    )
    await expect(row(page, recent[0]).locator(".tickers")).to_have_text("JPM")

    # Live filings: these have a delivery time, so they are the freshness samples.
    live = [
        filings.make(3, ticker="TSLA", company="Tesla, Inc.", priority="critical"),
        filings.make(2, ticker="NVDA", company="NVIDIA CORP", priority="high"),
        filings.make(1, ticker="AAPL", company="Apple Inc.", priority="medium"),
    ]
    published_from = time.time() * 1000
    for record in live:
        await publish(gateway, record)
    for record in live:
        await expect(row(page, record)).to_be_visible(timeout=TIMEOUT_MS)
    seen_by = time.time() * 1000

    charted = [r for r in history if r is not too_old] + live
    total = len(charted)
    await expect(page.locator("#minutes-total")).to_have_text(
        f"{total} in the last hour", timeout=TIMEOUT_MS
    )
    minutes = page.locator("#chart-minutes svg[role=img]")
    await expect(minutes).to_have_attribute("aria-label", re.compile(f": {total} in all;"))
    await expect(page.locator("#chart-minutes g.minute")).to_have_count(60)
    expected_minutes: dict[str, int] = {}
    for record in charted:
        expected_minutes[minute_of(record)] = expected_minutes.get(minute_of(record), 0) + 1
    assert await shown_minutes(page) == expected_minutes
    assert minute_of(too_old) not in expected_minutes

    mix = {p: sum(r["analysis"]["priority"] == p for r in charted) for p in priorities}
    assert all(mix.values())
    for priority, count in mix.items():
        bar = page.locator(f'#chart-priority g.priority-row[data-priority="{priority}"]')
        await expect(bar).to_have_attribute("data-count", str(count))
        share = math.floor(100 * count / total + 0.5)  # JavaScript's Math.round
        await expect(bar.locator(".count")).to_have_text(f"{count} · {share}%")
    assert await page.locator("#chart-priority svg[role=img] rect.seg").count() == 4

    # Freshness, nearest rank over the three live arrivals: p50 is the filing accepted 2
    # minutes ago, p95 the one accepted 3 minutes ago; detection was 2 s after acceptance.
    p50 = await freshness_ms(page, "accepted", "p50")
    p95 = await freshness_ms(page, "accepted", "p95")
    for value, record in ((p50, live[1]), (p95, live[0])):
        low, high = published_from - accepted_ms(record), seen_by - accepted_ms(record)
        assert low - 1000 <= value <= high + 1000, (value, low, high)
    assert await freshness_ms(page, "detected", "p50") == p50 - 2000
    assert await freshness_ms(page, "detected", "p95") == p95 - 2000
    await expect(page.locator("#freshness-note")).to_have_text(
        "From 3 filings that arrived live in the last hour."
    )
    await expect(page.locator("#chart-freshness svg rect.p95")).to_have_count(2)

    # The charts follow the filters; the live arrivals keep their delivery times.
    await page.get_by_label("Ticker", exact=True).fill("bac")
    await expect(page.locator("#minutes-total")).to_have_text(
        "1 in the last hour", timeout=TIMEOUT_MS
    )
    assert await shown_minutes(page) == {minute_of(bac): 1}
    low_bar = page.locator('#chart-priority g.priority-row[data-priority="low"]')
    await expect(low_bar).to_have_attribute("data-count", "1")
    await expect(page.locator("#freshness-note")).to_contain_text("No filing has arrived live")
    await page.get_by_role("button", name="Clear").click()
    await expect(page.locator("#minutes-total")).to_have_text(
        f"{total} in the last hour", timeout=TIMEOUT_MS
    )
    await expect(page.locator("#connection-text")).to_have_text("live", timeout=TIMEOUT_MS)
    assert await shown_minutes(page) == expected_minutes
    assert await freshness_ms(page, "accepted", "p50") == p50

    await page.wait_for_timeout(4500)  # let the arrival highlight fade
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "dashboard-charts.png"))
    assert problems == []


@pytest.mark.asyncio
async def test_dashboard_shows_a_filings_facts_when_its_row_is_clicked(
    gateway: Gateway, chromium_context: BrowserContext
) -> None:
    filings = Filings()
    purchase = filings.make(
        3,
        ticker="ISBA",
        company="ISABELLA BANK Corp",
        form="4",
        items=(),
        priority="medium",
        summary="Form 4 for ISABELLA BANK Corp (ISBA): Director McGuirk Richard L bought shares.",
    )
    purchase["ownership"] = corpus_ownership(PURCHASE_DOCUMENT)
    results = filings.make(
        2,
        ticker="AVTR",
        company="Avantor, Inc.",
        items=("2.02", "5.02", "9.01"),
        priority="high",
        summary="Avantor reported third-quarter results.",
    )
    results["earnings"] = corpus_earnings()
    results["item_facts"] = [dict(OFFICER_APPOINTMENT)]
    plain = filings.make(1, ticker="JPM", company="JPMORGAN CHASE & CO")  # no facts (v1-like)
    await publish_all(gateway, [purchase, results, plain])
    await wait_until_indexed(gateway, [purchase, results, plain])

    page = await chromium_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(gateway.base_url + "/")
    await expect(page.locator("#rows tr[data-accession]")).to_have_count(3, timeout=TIMEOUT_MS)
    await expect(row(page, purchase).locator(".facts-badge")).to_have_text("P")
    await expect(row(page, results).locator(".facts-badge")).to_have_text("results · 1 item fact")
    await expect(row(page, plain).locator(".facts-badge")).to_have_count(0)

    # The Form 4: its owner with role, and every row of its tables (a purchase, two holdings).
    await row(page, purchase).locator(".summary").click()
    await expect(row(page, purchase)).to_have_attribute("aria-expanded", "true")
    insider = page.locator(f"#facts-{accession(purchase)}")
    await expect(insider).to_be_visible()
    await expect(insider.locator(".facts-heading")).to_have_text(
        "Form 4 · ISABELLA BANK Corp · ISBA · period 2024-04-29"
    )
    await expect(insider.locator(".facts-owners li")).to_have_text("McGuirk Richard L — director")
    transactions = insider.locator("table.transactions tbody tr")
    await expect(transactions).to_have_count(3)
    cells = await transactions.first.locator("td").all_inner_texts()
    assert cells == [
        "I",
        "2024-04-29",
        "P",
        "common",
        "275.634",
        "$18.14",
        "$5,000.00",
        "A",
        "15,711.8844",
        "D",
        "no",
    ]
    await expect(transactions.nth(1).locator("td").nth(9)).to_have_text("I: Held by minor child")
    await expect(insider.locator(".facts-footnotes li")).to_contain_text("dividend reinvestment")

    # The results: each figure with its period, basis, prior value and change; the 8-K fact.
    await row(page, results).press("Enter")  # the keyboard opens it too
    detail = page.locator(f"#facts-{accession(results)}")
    figures = detail.locator("table.figures tbody tr")
    await expect(figures).to_have_count(5)  # the basic EPS from the statement table too
    assert await figures.first.locator("td").all_inner_texts() == [
        "Revenue",
        "quarter",
        "GAAP",
        "$1.52B",
        "$1.48B",  # the prior period, from the statement's column
        "+2.6%",
    ]
    assert await figures.nth(1).locator("td").all_inner_texts() == [
        "Net income",
        "quarter",
        "GAAP",
        "$47M",
        "-$6.2M",
        "—",
    ]
    await expect(figures.nth(3).locator("td").nth(2)).to_have_text("non-GAAP")
    await expect(detail.locator(".facts-items li")).to_contain_text(
        "5.02 officer appointment: Jane Q. Doe, Chief Financial Officer"
    )
    # The charts count the filings as before (they redraw once a second).
    await expect(page.locator("#minutes-total")).to_have_text("3 in the last hour")
    await page.screenshot(path=str(ARTIFACTS / "dashboard-facts.png"), full_page=True)

    # A filing without facts says so; a second click closes a detail view.
    await row(page, plain).click()
    await expect(page.locator(f"#facts-{accession(plain)} .facts-none")).to_be_visible()
    await row(page, purchase).locator(".summary").click()
    await expect(insider).to_have_count(0)
    await expect(row(page, purchase)).to_have_attribute("aria-expanded", "false")
    assert errors == []


@pytest.mark.asyncio
async def test_dashboard_shows_a_stake_a_sale_notice_and_financials(
    gateway: Gateway, chromium_context: BrowserContext
) -> None:
    """Schema v3's facts in the detail view: the records analyze makes of the corpus 13D, the
    SEC's sample Form 144 and Tesla's 10-Q instance, each with its badge and its table."""
    filings = Filings()
    stake = filings.make(3, ticker="QXO", company="QXO, Inc.", form="SCHEDULE 13D", items=())
    stake["stake"] = parsed_record("stake", "sc13d-qxo.xml")
    sale = filings.make(2, ticker="RUFS", company="RUFUS TEST CO", form="144", items=())
    sale["sale_notice"] = parsed_record("sale_notice", "Sample_144.xml")
    report = filings.make(1, ticker="TSLA", company="Tesla, Inc.", form="10-Q", items=())
    report["financials"] = parsed_record("financials", "tsla-20240630_htm.xml.gz")
    await publish_all(gateway, [stake, sale, report])
    await wait_until_indexed(gateway, [stake, sale, report])

    page = await chromium_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(gateway.base_url + "/")
    await expect(page.locator("#rows tr[data-accession]")).to_have_count(3, timeout=TIMEOUT_MS)
    await expect(row(page, stake).locator(".facts-badge")).to_have_text("13D 6.3%")
    await expect(row(page, sale).locator(".facts-badge")).to_have_text("proposed sale")
    await expect(row(page, report).locator(".facts-badge")).to_have_text("XBRL")

    await row(page, stake).click()
    detail = page.locator(f"#facts-{accession(stake)}")
    await expect(detail.locator(".facts-heading")).to_have_text(
        "Schedule 13D (active) · QXO, Inc. · CUSIP 82846H405 · event 2025-04-29"
    )
    persons = detail.locator("table.stake tbody tr")
    await expect(persons).to_have_count(6)
    assert await persons.last.locator("td").all_inner_texts() == [
        "Jared Kushner",
        "IN",
        "X1",
        "0",
        "32,671,542",
        "0",
        "32,671,542",
        "32,671,542",
        "6.3%",
    ]
    await expect(detail.locator(".facts-remarks")).to_contain_text("for investment purposes")

    await row(page, sale).click()
    detail = page.locator(f"#facts-{accession(sale)}")
    await expect(detail.locator(".facts-heading").first).to_have_text(
        "Form 144 · van der Velden Jan (Officer, Director, Stakeholder) · RUFUS TEST CO"
    )
    securities = detail.locator("table.sale tbody tr")
    await expect(securities).to_have_count(2)
    assert await securities.first.locator("td").all_inner_texts() == [
        "Common stock",
        "17,087",
        "$1.28M",
        "161,514,066",
        "2022-08-27",
        "CHX",
        "Virtu Financial",
    ]
    await expect(detail.locator("table.past-sales tbody tr")).to_have_count(1)

    await row(page, report).click()
    detail = page.locator(f"#facts-{accession(report)}")
    await expect(detail.locator(".facts-heading")).to_have_text(
        "10-Q · period ended 2024-06-30 · FY2024 Q2"
    )
    facts = detail.locator("table.financials tbody tr")
    await expect(facts).to_have_count(22)
    assert await facts.first.locator("td").all_inner_texts() == [
        "Revenue",
        "current",
        "quarter",
        "2024-04-01 to 2024-06-30",
        "$25.5B",
        "us-gaap:Revenues",
    ]
    diluted = detail.locator("table.financials tbody tr", has_text="Diluted EPS")
    await expect(diluted.first.locator("td").nth(4)).to_have_text("$0.42")
    await page.screenshot(path=str(ARTIFACTS / "dashboard-v3-facts.png"), full_page=True)
    assert errors == []


@pytest.mark.asyncio
async def test_dashboard_says_so_when_retention_removed_what_it_had_not_shown(
    topics: TopicSettings, tmp_path: Path, chromium_context: BrowserContext
) -> None:
    filings = Filings()
    shown = [
        filings.make(3, ticker="SHWN", company="Shown Inc"),
        filings.make(2, ticker="SHWN", company="Shown Inc"),
    ]
    missed = [filings.make(1, ticker="MISS", company="Missed Inc") for _ in range(3)]
    after = filings.make(0, ticker="AFTR", company="After Inc")
    process = GatewayProcess(topics, tmp_path)
    with process:
        gateway = _RealGateway(process, topics)
        page = await chromium_context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(gateway.base_url + "/")
        await expect(page.locator("#connection")).to_contain_text("live", timeout=TIMEOUT_MS)
        await gateway.publish_many(shown)
        await expect(page.locator("#rows tr[data-accession]")).to_have_count(2, timeout=TIMEOUT_MS)

        # The gateway goes away; while the page waits to reconnect, three filings arrive and
        # retention removes them (and everything before) before anyone reads them.
        process.kill()
        await gateway.publish_many(missed)
        await remove_by_retention(topics, topics.topic_analyzed)
        await gateway.publish_many([after])
        process.start()

        notice = page.locator("#notice")
        await expect(notice).to_be_visible(timeout=3 * TIMEOUT_MS)
        await expect(notice).to_contain_text("removed by retention before the dashboard")
        counted = re.search(r"(\d+) records", await notice.inner_text())
        assert counted is not None
        assert int(counted.group(1)) >= len(missed)  # a transaction's marker takes an offset too
        # The stream goes on from the first record left; nothing is shown for the lost ones.
        await expect(row(page, after)).to_have_count(1, timeout=TIMEOUT_MS)
        for record in missed:
            await expect(row(page, record)).to_have_count(0)
        assert errors == []


def history_row(page: Page, record: dict[str, Any]) -> Locator:
    return page.locator(f'#history-rows tr[data-accession="{accession(record)}"]')


async def shown_history(page: Page) -> list[str]:
    rows = page.locator("#history-rows tr[data-accession]")
    return [str(a) for a in await rows.evaluate_all("rs => rs.map(r => r.dataset.accession)")]


@pytest.mark.asyncio
async def test_dashboard_history_searches_and_pages_through_the_store(
    gateway: Gateway, chromium_context: BrowserContext
) -> None:
    filings = Filings()
    # More than two pages at the REST API's default size (50), each a minute apart.
    paged = [
        filings.make(i + 1, ticker="PAGE", company=f"PAGED {i} INC", summary=f"Page filer {i}.")
        for i in range(121)
    ]
    airship = filings.make(
        0.5,
        ticker="ZEPP",
        company="LIGHTER THAN AIR CORP",
        summary="The company agreed to buy a zeppelin hangar in Friedrichshafen.",
    )
    others = [
        filings.make(0.4, ticker="BLMP", company="BLIMP WORKS", summary="A blimp was leased."),
        filings.make(0.3, ticker="ZEP", company="ZEP INC", summary="Quarterly dividend declared."),
    ]
    await publish_all(gateway, [*paged, airship, *others])
    await wait_until_indexed(gateway, [*paged, airship, *others])

    page = await chromium_context.new_page()
    history_urls: list[str] = []
    page.on(
        "request",
        lambda request: history_urls.append(request.url) if "/api/filings" in request.url else None,
    )
    await page.goto(gateway.base_url + "/?ticker=PAGE")
    await expect(page.locator("#connection-text")).to_have_text("live", timeout=TIMEOUT_MS)
    assert await page.locator("#view-history").is_hidden()

    # The History tab asks the store with the filters, at its default page size.
    await page.get_by_role("tab", name="History").click()
    await expect(page.get_by_role("tab", name="History")).to_have_attribute("aria-selected", "true")
    assert "view=history" in page.url
    newest_first = [accession(r) for r in paged]  # one minute older each
    older = page.get_by_role("button", name="Older")
    await expect(page.locator("#history-rows tr[data-accession]")).to_have_count(
        50, timeout=TIMEOUT_MS
    )
    assert await shown_history(page) == newest_first[:50]
    walk_urls = [u for u in history_urls if "limit=" not in u]
    assert len(walk_urls) == 1
    assert "tickers=PAGE" in walk_urls[0]
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=5) as client:
        as_of = (await client.get("/api/filings", params={"ticker": "PAGE"})).json()["as_of"]
    status = page.locator("#history-status")
    await expect(status).to_have_text(
        f"50 filings, newest first, as of topic position {as_of}; older ones with Older."
    )

    # Older follows `next` until there is none: every record once, in order, then no control.
    await older.click()
    await expect(page.locator("#history-rows tr[data-accession]")).to_have_count(
        100, timeout=TIMEOUT_MS
    )
    await older.click()
    await expect(status).to_have_text(
        f"121 filings, newest first, as of topic position {as_of}; that is all of them.",
        timeout=TIMEOUT_MS,
    )
    assert await shown_history(page) == newest_first
    await expect(older).to_be_hidden()
    assert sum("before=" in u for u in history_urls) == 2

    # A history row opens its facts as a feed row does, under ids of its own.
    await history_row(page, paged[-1]).click()
    await expect(page.locator(f"#history-facts-{accession(paged[-1])} .facts-none")).to_be_visible()

    # The search: a word of one summary finds that filing and not the others (nor the
    # filers whose names are near it); the feed, which has no text to match, stays.
    await page.get_by_role("button", name="Clear").click()
    await page.get_by_label("Search history").fill("zeppelin")
    await expect(page.locator("#history-rows tr[data-accession]")).to_have_count(
        1, timeout=TIMEOUT_MS
    )
    await expect(history_row(page, airship)).to_be_visible()
    await expect(status).to_contain_text("1 filing, newest first")
    await expect(older).to_be_hidden()
    assert "q=zeppelin" in page.url
    assert any("q=zeppelin" in u for u in history_urls)
    await expect(row(page, others[0])).to_have_count(1)  # in the feed, under the Live tab
    await page.get_by_label("Search history").fill("dirigible")
    await expect(page.locator("#history-rows tr.empty")).to_have_text(
        "No filing in the store matches this search and these filters.", timeout=TIMEOUT_MS
    )

    # A filter the REST API refuses: its answer, naming the parameter, on the page.
    await page.get_by_label("Search history").fill("")
    await page.get_by_label("Ticker").fill("zepp$")
    error = page.locator("#history-error")
    await expect(error).to_be_visible(timeout=TIMEOUT_MS)
    await expect(error).to_contain_text("The gateway refused the filters or the search: tickers:")
    await expect(page.get_by_role("button", name="Try again")).to_be_hidden()
    await page.get_by_label("Ticker").fill("zepp")
    await expect(history_row(page, airship)).to_be_visible(timeout=TIMEOUT_MS)
    await expect(error).to_be_hidden()
    await page.screenshot(path=str(ARTIFACTS / "dashboard-history.png"), full_page=True)


@pytest.mark.asyncio
async def test_dashboard_loads_as_modules_and_says_when_one_is_missing(
    gateway: Gateway, chromium_context: BrowserContext
) -> None:
    record = Filings().make(1, ticker="MODS", company="MODULES INC")
    await publish(gateway, record)
    await wait_until_indexed(gateway, [record])

    page = await chromium_context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    scripts: dict[str, str] = {}
    page.on(
        "response",
        lambda response: (
            scripts.__setitem__(response.url, response.headers["content-type"])
            if response.url.endswith(".js")
            else None
        ),
    )
    document = await page.goto(gateway.base_url + "/?view=history")
    assert document is not None
    csp = document.headers["content-security-policy"]
    assert "default-src 'self'" in csp  # scripts, styles and the WebSocket: this origin only
    await expect(page.locator("#connection-text")).to_have_text("live", timeout=TIMEOUT_MS)
    await expect(history_row(page, record)).to_be_visible(timeout=TIMEOUT_MS)
    await expect(row(page, record)).to_be_attached()  # the feed, under the Live tab
    await page.get_by_role("tab", name="Live").press("ArrowRight")  # keys move between tabs
    await expect(page.get_by_role("tab", name="History")).to_be_focused()
    assert await page.evaluate("document.documentElement.dataset.dashboard") == "started"
    served = {url.rsplit("/static/", 1)[1]: kind for url, kind in scripts.items()}
    assert set(served) >= {"js/main.js", "js/boot.js", "js/feed.js", "js/history.js"}
    assert set(served.values()) == {"text/javascript; charset=utf-8"}
    assert problems == []

    # One module missing (a 404, as from an incomplete deployment): the page says so.
    broken = await chromium_context.new_page()
    await broken.route("**/static/js/charts.js", lambda route: route.fulfill(status=404))
    await broken.goto(gateway.base_url + "/")
    notice = broken.locator("#notice")
    await expect(notice).to_contain_text(
        "The dashboard could not start: one of its scripts did not load", timeout=TIMEOUT_MS
    )
    await expect(broken.locator("#connection-text")).to_have_text("error")


@pytest.mark.asyncio
async def test_dashboard_history_says_when_the_store_cannot_answer(
    topics: TopicSettings, tmp_path: Path, chromium_context: BrowserContext
) -> None:
    # A gateway that only reads a store nobody has created yet: GET /api/filings is a 503.
    with GatewayProcess(topics, tmp_path, GATEWAY_STORE_FEEDER="false") as process:
        page = await chromium_context.new_page()
        await page.goto(process.base_url + "/?view=history")
        error = page.locator("#history-error")
        await expect(error).to_contain_text(
            "The filings store cannot answer now: the filings store:", timeout=TIMEOUT_MS
        )
        await expect(page.get_by_role("button", name="Try again")).to_be_visible()
        await page.get_by_role("button", name="Try again").click()
        await expect(error).to_contain_text("The filings store cannot answer now")
