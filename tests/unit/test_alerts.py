"""`alerts`: the Discord embed within Discord's limits, and what each HTTP answer leads to."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from sec_digester_client import FilingAnalysis

from services.alerts import discord
from services.alerts.delivery import DeliveryInterruptedError, Poster, Sink, verdict
from services.alerts.settings import AlertsSettings
from services.common.errors import ConfigurationError
from services.common.retry import RetryPolicy
from services.common.settings import load_settings
from tests.support.facts_records import SALE_DOCUMENT, earnings_record, insider_record
from tests.support.filing_json import as_served
from tests.support.records import sample_analysis


def _filing(summary: str = "Acme signed a merger agreement.", **changes: object) -> FilingAnalysis:
    record = sample_analysis(7, ticker="ACME", priority="critical", items=("1.01", "9.01"))
    record["analysis"]["summary"] = summary
    record["filing"].update(changes)
    return FilingAnalysis.from_json(as_served(record))


def _embed_length(embed: dict[str, object]) -> int:
    """Discord's count: title, description, field names and values, footer text."""
    fields = embed["fields"]
    assert isinstance(fields, list)
    footer = embed["footer"]
    assert isinstance(footer, dict)
    return (
        len(str(embed["title"]))
        + len(str(embed["description"]))
        + sum(len(f["name"]) + len(f["value"]) for f in fields)
        + len(footer["text"])
    )


def test_the_embed_says_what_was_filed_and_links_to_edgar() -> None:
    filing = _filing()
    embed = discord.embed(filing)
    assert embed["title"] == "ACME 8-K: ACME INC"
    assert embed["url"] == filing.filing.index_url
    assert embed["description"] == "Acme signed a merger agreement."
    assert {f["name"]: f["value"] for f in embed["fields"]} == {
        "Ticker": "ACME",
        "Form": "8-K",
        "Items": "1.01, 9.01",
        "Priority": "critical",
        "Sentiment": "+0.10",
    }
    assert embed["footer"]["text"].startswith(filing.accession_number)
    assert embed["timestamp"] == "2026-06-24T21:30:05+00:00"
    assert discord.message(filing)["allowed_mentions"] == {"parse": []}


def _facts_fields(record: dict[str, object]) -> dict[str, str]:
    embed = discord.embed(FilingAnalysis.from_json(as_served(record)))
    return {f["name"]: f["value"] for f in embed["fields"] if not f["inline"]}


def test_a_form_4_shows_who_bought_what_at_what_price_and_the_10b5_1_flag() -> None:
    assert _facts_fields(insider_record(1)) == {
        "Insider": "McGuirk Richard L (director)\n"
        "P (bought) 275.634 sh of common at $18.14 = $5,000.00, 10b5-1: no"
    }


def test_a_sale_shows_the_officers_title_and_millions() -> None:
    (insider,) = _facts_fields(insider_record(2, SALE_DOCUMENT)).values()
    assert insider == (
        "Maestri Luca (officer: Senior Vice President, CFO)\n"
        "S (sold) 243,431 sh of Common Stock at avg $116.89 = $28.45M, 10b5-1: yes"
    )


def test_many_transactions_show_the_largest_and_count_the_rest() -> None:
    record = insider_record(3, "goog-4-1.xml")  # 17 sales and 2 conversions
    lines = _facts_fields(record)["Insider"].splitlines()
    assert lines[0] == "Brin Sergey (director, officer: Co-Founder, 10% owner)"
    assert [line[0] for line in lines[1:4]] == ["S", "S", "S"]
    assert "= $1.17M" in lines[1]  # the largest sale first
    assert lines[4] == "and 16 more transactions"


def test_results_show_the_headline_figures_and_the_items_facts() -> None:
    facts = _facts_fields(earnings_record(4))
    assert facts["Earnings"].splitlines() == [
        "Revenue (quarter): $1.52B, +2.6%, prior $1.48B",  # prior from the income statement
        "Net income (quarter): $47.00M, prior -$6.20M",
        "Diluted EPS (quarter): $0.05, prior -$0.59",
        "Adjusted EPS (quarter): $0.17, +64.0%",
    ]
    assert facts["Item facts"] == "5.02 officer appointment: Jane Q. Doe, Chief Financial Officer"


def test_a_filing_without_facts_has_no_facts_fields() -> None:
    assert _facts_fields(sample_analysis(5)) == {}


def test_long_text_is_cut_to_discords_limits() -> None:
    tickers = [f"T{n:04d}" for n in range(400)]
    filing = _filing("word " * 3000, tickers=tickers)
    embed = discord.embed(filing)
    assert len(embed["title"]) == discord.TITLE_MAX
    assert embed["title"].endswith("…")
    assert all(len(f["value"]) <= discord.FIELD_VALUE_MAX for f in embed["fields"])
    assert len(embed["description"]) <= discord.DESCRIPTION_MAX
    assert embed["description"].endswith("…")
    assert _embed_length(embed) <= discord.TOTAL_MAX


@pytest.mark.parametrize(
    ("status", "headers", "body", "kind", "wait"),
    [
        (204, {}, b"", "accepted", None),
        (200, {}, b"{}", "accepted", None),
        # Discord: the body's retry_after (precise) wins over the header (whole seconds).
        (429, {"retry-after": "2"}, b'{"retry_after": 0.25, "global": false}', "retry", 0.25),
        (429, {"retry-after": "3"}, b"rate limited", "retry", 3.0),
        (429, {}, b"", "retry", None),
        (500, {}, b"", "retry", None),
        (503, {"retry-after": "7"}, b"", "retry", 7.0),
        (408, {}, b"", "retry", None),
        (400, {}, b'{"message": "Invalid Form Body"}', "permanent", None),
        (401, {}, b"", "permanent", None),
        (404, {}, b'{"message": "Unknown Webhook"}', "permanent", None),
        (301, {"location": "https://elsewhere"}, b"", "permanent", None),
    ],
)
def test_what_each_answer_means(
    status: int, headers: dict[str, str], body: bytes, kind: str, wait: float | None
) -> None:
    result = verdict(status, headers, body)
    assert (result.kind, result.wait_s) == (kind, wait)


async def _deliver(answers: list[httpx.Response], stop: asyncio.Event) -> tuple[bool, int]:
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return answers[min(len(requests), len(answers)) - 1]

    policy = RetryPolicy(base_delay_s=0.01, max_delay_s=0.02)
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        poster = Poster(http, stop, policy)
        accepted = await poster.deliver(Sink("webhook", "http://hooks.test/x"), _filing())
    assert all(json.loads(r.content)["filing"]["tickers"] == ["ACME"] for r in requests)
    return accepted, len(requests)


@pytest.mark.asyncio
async def test_retried_until_accepted_and_refusals_are_final() -> None:
    limited = httpx.Response(429, json={"retry_after": 0.01})
    flowing = [limited, httpx.Response(502), httpx.Response(204)]
    assert await _deliver(flowing, asyncio.Event()) == (True, 3)
    assert await _deliver([httpx.Response(404)], asyncio.Event()) == (False, 1)


@pytest.mark.asyncio
async def test_shutdown_interrupts_a_sink_that_keeps_failing() -> None:
    stop = asyncio.Event()
    stop.set()
    with pytest.raises(DeliveryInterruptedError):
        await _deliver([httpx.Response(503)], stop)


def test_settings_need_a_sink_and_keep_urls_out_of_errors() -> None:
    with pytest.raises(ConfigurationError, match="no sink"):
        load_settings(AlertsSettings, {})
    with pytest.raises(ConfigurationError) as caught:
        load_settings(AlertsSettings, {"alerts_webhook": "ftp://host/secret-token"})
    assert "secret-token" not in str(caught.value)
    settings = load_settings(
        AlertsSettings, {"alerts_webhook": "http://a/1, http://b/2", "alerts_discord_webhook": ""}
    )
    assert settings.webhooks == ("http://a/1", "http://b/2")
    assert settings.discord_webhooks == ()
