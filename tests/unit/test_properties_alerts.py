"""Property-based test of the Discord embed: within Discord's limits for any record.

Discord refuses (400) a webhook message whose embed passes a limit, and `alerts` treats a 4xx as
permanent for that sink: an embed over a limit is an alert lost. Records here have arbitrary
text wherever the stream carries text (summary, company names, form type, tickers, items,
accession number), of any length. Profiles: tests/hypothesis_profiles.py.
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
