"""`sec-digester tail`: its lines, its JSON and its flags."""

from __future__ import annotations

import json

import pytest
from sec_digester_client import FilingAnalysis

from services.cli import COMMANDS, build_parser
from services.common.errors import ConfigurationError
from services.common.settings import load_settings
from services.tail.render import render_json, render_line
from services.tail.settings import TailSettings
from tests.support.filing_json import filing_json


def test_a_line_shows_time_tickers_form_items_priority_sentiment_and_summary() -> None:
    data = filing_json(3, tickers=("JPM",), priority="high")
    data["analysis"]["summary"] = "Results\nof   operations."
    data["analysis"]["sentiment"] = -0.25
    data["filing"]["items"] = ["2.02", "9.01"]
    data["items"] = ["2.02", "7.01"]
    line = render_line(FilingAnalysis.from_json(data))
    assert line.startswith("2026-06-24 21:30:05Z")
    for part in (" JPM ", " 8-K ", " 2.02,7.01,9.01 ", " high ", " -0.25 "):
        assert part in line, part
    assert line.endswith("Results of operations.")


def test_a_line_is_cut_to_the_terminal_width() -> None:
    data = filing_json(3)
    data["analysis"]["summary"] = "word " * 100
    record = FilingAnalysis.from_json(data)
    assert len(render_line(record)) > 400
    cut = render_line(record, width=80)
    assert len(cut) == 80
    assert cut.endswith("…")


def test_json_is_the_record_as_served_one_line() -> None:
    data = filing_json(4)
    data["added_later"] = {"x": 1}
    text = render_json(FilingAnalysis.from_json(data))
    assert "\n" not in text
    assert json.loads(text) == data


def test_the_issues_flags_set_the_tail_settings() -> None:
    argv = [
        "tail",
        "--ticker",
        "AAPL, MSFT",
        "--form",
        "8-K",
        "--min-priority",
        "high",
        "--from",
        "earliest",
        "--client-id",
        "me",
        "--json",
    ]
    args = build_parser(COMMANDS, argv).parse_args(argv)
    overrides = {k.removeprefix("setting:"): v for k, v in vars(args).items() if ":" in k}
    settings = load_settings(TailSettings, overrides)
    assert settings.tail_tickers == ("AAPL", "MSFT")
    assert settings.tail_forms == ("8-K",)
    assert settings.tail_min_priority == "high"
    assert settings.tail_from == "earliest"
    assert settings.tail_client_id == "me"
    assert settings.tail_json is True
    assert load_settings(TailSettings).tail_json is False


def test_the_ownership_flags_set_the_tail_settings() -> None:
    argv = [
        "tail",
        "--transaction-code",
        "P,S",
        "--min-value-usd",
        "250000",
        "--insider-role",
        "officer,director",
    ]
    args = build_parser(COMMANDS, argv).parse_args(argv)
    overrides = {k.removeprefix("setting:"): v for k, v in vars(args).items() if ":" in k}
    settings = load_settings(TailSettings, overrides)
    assert settings.tail_transaction_codes == ("P", "S")
    assert settings.tail_min_value_usd == 250_000
    assert settings.tail_insider_roles == ("officer", "director")
    with pytest.raises(ConfigurationError, match=r"^invalid configuration: TAIL_MIN_VALUE_USD"):
        load_settings(TailSettings, {"tail_min_value_usd": "-1"})
