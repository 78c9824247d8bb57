"""The client library's pure parts: backoff, dedupe window, records, frames, configuration."""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sec_digester_client import (
    AuthenticationError,
    BadParameterError,
    ClientConfig,
    DocumentStatus,
    FilingAnalysis,
    FilingSource,
    FiscalPeriod,
    ItemFact,
    OwnershipIssuer,
    OwnershipRowKind,
    OwnershipTable,
    Priority,
    ProtocolError,
)
from sec_digester_client.backoff import Backoff
from sec_digester_client.dedupe import DedupeWindow
from sec_digester_client.protocol import (
    Closed,
    Delivered,
    Refused,
    Subscribed,
    SubscribeRefused,
    final_error,
    handshake_error,
    parse_frame,
)

from tests.support.facts_records import earnings_record, insider_record
from tests.support.filing_json import as_served, filing_json


def test_backoff_doubles_its_bound_up_to_the_maximum_and_resets() -> None:
    highest = Backoff(0.5, 30.0, uniform=lambda low, high: high)
    assert [highest.next_delay() for _ in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    highest.reset()
    assert highest.next_delay() == 0.5


def test_backoff_jitter_is_full_between_zero_and_the_bound() -> None:
    backoff = Backoff(1.0, 8.0, uniform=random.Random(7).uniform)
    delays = [backoff.next_delay() for _ in range(200)]
    assert all(0 <= d <= 8.0 for d in delays)
    assert min(delays[10:]) < 2.0 < max(delays[10:])  # spread over the range, not pinned
    many = Backoff(1.0, 8.0)
    many.attempts = 10_000  # a gateway down for days: still a finite, bounded delay
    assert 0 <= many.next_delay() <= 8.0


def test_dedupe_window_forgets_the_least_recently_seen_first() -> None:
    window = DedupeWindow(3)
    for accession in ("a", "b", "c"):
        window.add(accession)
    window.add("a")  # seen again: now the most recent
    window.add("d")
    assert "b" not in window
    assert all(accession in window for accession in ("a", "c", "d"))
    assert len(window) == 3


def test_a_record_as_the_gateway_serves_it_is_typed() -> None:
    data = filing_json(5, tickers=("MSFT", "MSFT-PA"), form_type="8-K/A", priority="high")
    record = FilingAnalysis.from_json(data)
    assert record.accession_number == "0000019617-26-000005"
    assert record.filing.tickers == ("MSFT", "MSFT-PA")
    assert record.filing.accepted_at == dt.datetime(2026, 6, 24, 21, 30, 5, tzinfo=dt.UTC)
    assert record.filing.accepted_at.tzinfo is not None
    assert record.filing.filed_date == dt.date(2026, 6, 24)
    assert record.filing.source is FilingSource.LIVE
    assert record.filing.size_bytes == 123_456
    assert record.filing.entities[0].tickers == ("MSFT",)
    assert record.document_status is DocumentStatus.SKIPPED
    assert record.document_url is None
    assert record.analysis.priority is Priority.HIGH
    assert record.analysis.priority.rank > Priority.MEDIUM.rank
    assert record.analyzer.model is None
    assert record.analyzed_at == record.filing.accepted_at + dt.timedelta(seconds=2)
    assert record.raw == data
    assert record.delivery is None


def test_fields_and_symbols_of_a_newer_schema_are_tolerated() -> None:
    data = filing_json(1)
    data["risk_score"] = 0.7
    data["filing"]["exchange"] = "NYSE"
    data["analysis"]["priority"] = "urgent"  # a symbol added later reads as the default
    data["analysis"]["metrics"] = {"revenue": {"value": 1.5e9, "unit": "USD", "text": "$1.5B"}}
    record = FilingAnalysis.from_json(data)
    assert record.analysis.priority is Priority.LOW
    assert record.analysis.metrics["revenue"].value == 1.5e9
    assert record.raw["risk_score"] == 0.7


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.pop("analysis"),
        lambda d: d["filing"].pop("accession_number"),
        lambda d: d["filing"].update(accepted_at="yesterday"),
        lambda d: d["analysis"].update(sentiment="very"),
    ],
)
def test_a_malformed_record_is_a_protocol_error(damage: Any) -> None:
    data = filing_json(1)
    damage(data)
    with pytest.raises(ProtocolError):
        FilingAnalysis.from_json(data)


def test_frames_become_events_with_their_delivery_position() -> None:
    frame = {"type": "filing", "cursor": "0:8,1:3", "partition": 0, "offset": 7}
    event = parse_frame(json.dumps(frame | {"data": filing_json(2)}))
    assert isinstance(event, Delivered)
    assert event.filing.delivery is not None
    assert (event.filing.delivery.cursor, event.filing.delivery.offset) == ("0:8,1:3", 7)
    refused = parse_frame('{"type":"error","code":"slow_consumer","message":"m","cursor":"0:9"}')
    assert refused == Refused("slow_consumer", "m", "0:9")
    for text in ("{not json", '{"type":"surprise"}', '{"type":"filing","cursor":"0:1"}'):
        with pytest.raises(ProtocolError):
            parse_frame(text)


def test_auth_and_parameter_refusals_are_final_everything_else_is_retried() -> None:
    unauthorized = Closed(4401, "unauthorized", Refused("unauthorized", "wrong key", None))
    assert isinstance(final_error(unauthorized), AuthenticationError)
    bad = Closed(4400, "bad_parameter", Refused("bad_parameter", "from: nope", None))
    error = final_error(bad)
    assert isinstance(error, BadParameterError)
    assert str(error).startswith("from: nope")
    assert isinstance(final_error(Closed(4404, "unknown_topic", None)), BadParameterError)
    for code in (None, 1000, 1001, 1011, 4408, 4429):
        assert final_error(Closed(code, "", None)) is None, code
    assert isinstance(handshake_error(401), AuthenticationError)
    assert isinstance(handshake_error(403), AuthenticationError)
    assert isinstance(handshake_error(404), ProtocolError)
    assert handshake_error(503) is None
    assert handshake_error(429) is None


def test_config_builds_the_stream_url_and_rejects_what_would_be_retried_forever() -> None:
    config = ClientConfig(
        url="ws://gw:8000/stream",
        client_id="bot-1",
        tickers=("AAPL", "MSFT"),
        min_priority="high",
        api_key="k1",
    )
    url = config.stream_url("0:5,1:7")
    query = parse_qs(urlsplit(url).query)
    assert query == {
        "topic": ["analyzed"],
        "client_id": ["bot-1"],
        "from": ["0:5,1:7"],
        "tickers": ["AAPL,MSFT"],
        "min_priority": ["high"],
    }
    assert "k1" not in url  # the key goes in a header, not in URLs that end up in logs
    assert config.headers() == {"Authorization": "Bearer k1"}
    assert "from" not in parse_qs(urlsplit(config.stream_url(None)).query)
    for wrong in (
        {"url": "http://gw:8000/stream"},
        {"client_id": "bad id!"},
        {"min_priority": "urgent"},
        {"tickers": "AAPL"},
        {"pong_timeout_s": 0},
        {"topic": "raw"},
    ):
        with pytest.raises(BadParameterError):
            ClientConfig(**wrong)


def test_the_facts_of_a_form_4_are_typed() -> None:
    record = FilingAnalysis.from_json(as_served(insider_record(7)))
    ownership = record.ownership
    assert ownership is not None
    assert ownership.document_type == "4"
    assert ownership.issuer == OwnershipIssuer("0000842517", "ISABELLA BANK Corp", "ISBA")
    (owner,) = ownership.owners
    assert owner.name == "McGuirk Richard L"
    assert owner.roles == ("director",)
    purchase, *holdings = ownership.transactions
    assert purchase.kind is OwnershipRowKind.TRANSACTION
    assert purchase.table is OwnershipTable.NON_DERIVATIVE
    assert (purchase.code, purchase.date, purchase.acquired_disposed) == ("P", "2024-04-29", "A")
    assert purchase.shares == pytest.approx(275.634)
    assert purchase.price_per_share == pytest.approx(18.14)
    assert purchase.value_usd == pytest.approx(5000.0, abs=0.01)
    assert purchase.rule_10b5_1 is False
    assert purchase.footnote_ids == ("F1",)
    assert [row.kind for row in holdings] == [OwnershipRowKind.HOLDING] * 2
    assert holdings[0].nature_of_ownership == "Held by minor child"
    assert ownership.footnotes[0].text.startswith("Includes shares acquired")
    assert (record.earnings, record.item_facts) == (None, ())


def test_earnings_figures_and_item_facts_are_typed() -> None:
    record = FilingAnalysis.from_json(as_served(earnings_record(8)))
    assert record.ownership is None
    assert record.earnings is not None
    revenue = record.earnings.figures[0]
    assert (revenue.name, revenue.unit, revenue.period) == ("revenue", "USD", FiscalPeriod.QUARTER)
    assert revenue.value == 1.52e9
    assert revenue.change_percent == 2.6
    net_income = next(f for f in record.earnings.figures if f.name == "net_income")
    assert net_income.prior_value == -6.2e6
    assert record.earnings.guidance == ()
    (fact,) = record.item_facts
    assert fact == ItemFact(
        "5.02", "officer_appointment", "Jane Q. Doe", "Chief Financial Officer", fact.text
    )


def test_a_v1_record_has_no_facts_and_unknown_fact_fields_stay_in_raw() -> None:
    v1 = filing_json(9)
    for field in ("ownership", "earnings", "item_facts"):
        v1.pop(field, None)  # a v1 record as an older gateway serves it
    record = FilingAnalysis.from_json(v1)
    assert (record.ownership, record.earnings, record.item_facts) == (None, None, ())
    newer = as_served(insider_record(10))
    newer["ownership"]["transactions"][0]["lot_id"] = "L-1"  # a field a later schema adds
    newer["ownership"]["transactions"][0]["table"] = "table_iii"  # and a symbol
    typed = FilingAnalysis.from_json(newer)
    assert typed.ownership is not None
    assert typed.ownership.transactions[0].table is OwnershipTable.NON_DERIVATIVE  # the default
    assert typed.raw["ownership"]["transactions"][0]["lot_id"] == "L-1"


def test_a_malformed_fact_is_a_protocol_error() -> None:
    data = as_served(earnings_record(11))
    data["earnings"]["figures"][0]["value"] = "a lot"
    with pytest.raises(ProtocolError):
        FilingAnalysis.from_json(data)


def test_config_sends_the_ownership_filters() -> None:
    config = ClientConfig(
        transaction_codes=("P", "S"), min_value_usd=1e20, insider_roles=("officer",)
    )
    query = parse_qs(urlsplit(config.stream_url(None)).query)
    assert query["transaction_codes"] == ["P,S"]
    assert query["min_value_usd"] == ["1e+20"]
    assert query["insider_roles"] == ["officer"]
    assert "min_value_usd" not in parse_qs(urlsplit(ClientConfig().stream_url(None)).query)
    for wrong in (
        {"transaction_codes": "PS"},
        {"insider_roles": "officer"},
        {"min_value_usd": -1.0},
        {"min_value_usd": float("nan")},
    ):
        with pytest.raises(BadParameterError):
            ClientConfig(**wrong)


def test_config_sends_the_stake_filters() -> None:
    config = ClientConfig(min_stake_pct=5.0, stake_kind="active")
    query = parse_qs(urlsplit(config.stream_url(None)).query)
    assert (query["min_stake_pct"], query["stake_kind"]) == (["5.0"], ["active"])
    assert config.filters() == {"min_stake_pct": 5.0, "stake_kind": "active"}
    for wrong in (
        {"min_stake_pct": -1.0},
        {"min_stake_pct": 101.0},
        {"min_stake_pct": float("inf")},
        {"stake_kind": "activist"},
    ):
        with pytest.raises(BadParameterError):
            ClientConfig(**wrong)


def test_the_answers_to_a_subscribe_are_events_of_their_own() -> None:
    subscribed = '{"type":"subscribed","cursor":"0:4","filters":{"tickers":["JPM"]}}'
    assert parse_frame(subscribed) == Subscribed("0:4", {"tickers": ["JPM"]})
    refusal = json.dumps(
        {"type": "error", "code": "bad_parameter", "message": "tickers: x", "reply_to": "subscribe"}
    )
    # Not a Refused: the stream goes on, so it must never be taken as the reason of a close.
    assert parse_frame(refusal) == SubscribeRefused("bad_parameter", "tickers: x")


def test_config_gives_its_filters_as_a_subscribe_frame_carries_them() -> None:
    config = ClientConfig(tickers=("JPM", "AAPL"), min_priority="high", min_value_usd=0.0)
    assert config.filters() == {
        "tickers": ["JPM", "AAPL"],
        "min_priority": "high",
        "min_value_usd": 0.0,
    }
    assert ClientConfig().filters() == {}
    query = parse_qs(urlsplit(config.stream_url(None)).query)
    assert query["tickers"] == ["JPM,AAPL"]
    assert query["min_value_usd"] == ["0.0"]
