"""Property-based test of the Discord embed: within Discord's limits for any record.

Discord refuses (400) a webhook message whose embed passes a limit, and `alerts` treats a 4xx as
permanent for that sink: an embed over a limit is an alert lost. Records here have arbitrary
text wherever the stream carries text (summary, company names, form type, tickers, items,
accession number, and the v2 facts: owners, titles, transactions, figures, item facts), of any
length, and any number where it carries numbers. Profiles: tests/hypothesis_profiles.py.
"""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st
from sec_digester_client import FilingAnalysis

from services.alerts import discord
from tests.support.filing_json import as_served
from tests.support.records import sample_analysis

_TEXT = st.text(max_size=3_000)
_SHORT = st.text(max_size=40)
# NaN and infinities are not JSON: the gateway's encoder writes them as null.
_NUMBER = st.floats(allow_nan=False, allow_infinity=False)
_OPTIONAL_NUMBER = st.one_of(st.none(), _NUMBER)
_OPTIONAL_TEXT = st.one_of(st.none(), _TEXT)


def _owners(draw: st.DrawFn) -> list[dict[str, Any]]:
    flags = ("is_director", "is_officer", "is_ten_percent_owner", "is_other")
    return [
        {
            "cik": "0000000001",
            "name": draw(_TEXT),
            "officer_title": draw(_OPTIONAL_TEXT),
            "other_text": draw(_OPTIONAL_TEXT),
        }
        | {flag: draw(st.booleans()) for flag in flags}
        for _ in range(draw(st.integers(0, 4)))
    ]


def _transactions(draw: st.DrawFn) -> list[dict[str, Any]]:
    return [
        {
            "table": draw(st.sampled_from(["non_derivative", "derivative"])),
            "kind": draw(st.sampled_from(["transaction", "holding"])),
            "security_title": draw(_OPTIONAL_TEXT),
            "date": "2026-06-24",
            "code": draw(st.one_of(st.none(), _SHORT)),
            "shares": draw(_OPTIONAL_NUMBER),
            "price_per_share": draw(_OPTIONAL_NUMBER),
            "value_usd": draw(_OPTIONAL_NUMBER),
            "weighted_average_price": draw(st.booleans()),
            "rule_10b5_1": draw(st.one_of(st.none(), st.booleans())),
        }
        for _ in range(draw(st.integers(0, 30)))
    ]


def _figures(draw: st.DrawFn) -> list[dict[str, Any]]:
    periods = st.sampled_from(["unknown", "quarter", "year_to_date", "full_year"])
    return [
        {
            "name": draw(_SHORT),
            "value": draw(_NUMBER),
            "unit": draw(st.sampled_from(["USD", "USD/share", "percent", ""])),
            "period": draw(periods),
            "gaap": draw(st.booleans()),
            "prior_value": draw(_OPTIONAL_NUMBER),
            "change_percent": draw(_OPTIONAL_NUMBER),
            "text": draw(_TEXT),
        }
        for _ in range(draw(st.integers(0, 8)))
    ]


@st.composite
def records(draw: st.DrawFn) -> FilingAnalysis:
    record: dict[str, Any] = sample_analysis(1)
    filing = record["filing"]
    filing["form_type"] = draw(_TEXT)
    filing["accession_number"] = draw(st.text(max_size=2_500))
    filing["tickers"] = draw(st.lists(_SHORT, max_size=300))
    filing["items"] = draw(st.lists(_SHORT, max_size=100))
    roles = st.sampled_from(["filer", "issuer", "reporting"])
    filing["entities"] = [
        {**filing["entities"][0], "name": draw(_TEXT), "role": draw(roles)}
        for _ in range(draw(st.integers(0, 3)))
    ]
    record["items"] = draw(st.lists(_SHORT, max_size=100))
    record["analysis"]["summary"] = draw(st.text(max_size=10_000))
    if draw(st.booleans()):
        record["ownership"] = {
            "document_type": draw(_SHORT),
            "issuer": {"cik": "0000000002", "name": draw(_TEXT), "trading_symbol": None},
            "owners": _owners(draw),
            "transactions": _transactions(draw),
            "no_securities_owned": draw(st.booleans()),
        }
    if draw(st.booleans()):
        guidance = (
            [
                {
                    "name": draw(_SHORT),
                    "low": draw(_NUMBER),
                    "high": draw(_NUMBER),
                    "unit": "USD",
                    "period": "full_year",
                    "text": draw(_TEXT),
                }
            ]
            if draw(st.booleans())
            else []
        )
        record["earnings"] = {"figures": _figures(draw), "guidance": guidance}
    record["item_facts"] = [
        {
            "item": draw(_SHORT),
            "event_type": draw(_SHORT),
            "subject": draw(_OPTIONAL_TEXT),
            "role": draw(_OPTIONAL_TEXT),
            "text": draw(_TEXT),
        }
        for _ in range(draw(st.integers(0, 6)))
    ]
    return FilingAnalysis.from_json(as_served(record))


def _length(embed: dict[str, Any]) -> int:
    return (
        len(embed["title"])
        + len(embed["description"])
        + sum(len(field["name"]) + len(field["value"]) for field in embed["fields"])
        + len(embed["footer"]["text"])
    )


@given(records())
def test_every_embed_is_within_discords_limits(record: FilingAnalysis) -> None:
    message = discord.message(record)
    (embed,) = message["embeds"]
    assert 0 < len(embed["title"]) <= discord.TITLE_MAX
    assert 0 < len(embed["description"].strip()) <= discord.DESCRIPTION_MAX
    assert len(embed["fields"]) <= 25
    for field in embed["fields"]:
        assert 0 < len(field["name"]) <= discord.FIELD_NAME_MAX
        assert field["value"].strip()
        assert len(field["value"]) <= discord.FIELD_VALUE_MAX
    assert len(embed["footer"]["text"]) <= discord.FOOTER_MAX
    assert _length(embed) <= discord.TOTAL_MAX
    orjson.dumps(message)  # what is posted
