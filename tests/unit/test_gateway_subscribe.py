"""The `subscribe` frame a WebSocket client sends to change its filter: parsed by the code that
parses the stream's query parameters (same names, lists as JSON arrays), so the two agree on
every value; anything else is refused naming the field (docs/gateway-protocol.md)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import BadParameterError
from services.common.filters import (
    LIST_FILTERS,
    PRIORITIES,
    Filter,
    parse_filter,
    parse_filter_fields,
)
from services.gateway.transports.client_frames import Subscribe, parse_client_frame


def test_a_subscribe_frame_carries_its_fields() -> None:
    frame = parse_client_frame('{"type":"subscribe","tickers":["JPM"],"forms":[]}')
    assert frame == Subscribe({"tickers": ["JPM"], "forms": []})


def test_the_fields_mean_what_the_query_parameters_mean() -> None:
    chosen = parse_filter_fields(
        {
            "tickers": ["jpm", "BRK-B"],
            "forms": ["8-K"],
            "min_priority": "high",
            "items": ["2.02"],
            "transaction_codes": ["p", "S"],
            "min_value_usd": 250000,
            "insider_roles": ["Director"],
        },
        analyzed=True,
    )
    query = {
        "tickers": "jpm,BRK-B",
        "forms": "8-K",
        "min_priority": "high",
        "items": "2.02",
        "transaction_codes": "p,S",
        "min_value_usd": "250000",
        "insider_roles": "Director",
    }
    assert chosen == parse_filter(query, analyzed=True)
    assert chosen.describe()["tickers"] == ["BRK-B", "JPM"]
    assert chosen.min_value_usd == 250000.0


def test_absent_null_and_empty_are_no_restriction() -> None:
    assert parse_filter_fields({}, analyzed=True) == Filter()
    nothing: dict[str, object] = {
        "tickers": [],
        "forms": None,
        "min_priority": None,
        "min_value_usd": None,
    }
    assert parse_filter_fields(nothing, analyzed=True) == Filter()


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"ticker": ["JPM"]}, "ticker"),  # the REST parameter's name, not the stream's
        ({"from": "earliest"}, "from"),  # a subscribe changes filters, not the position
        ({"topic": "raw"}, "topic"),
        ({"tickers": "JPM"}, "tickers"),  # a list is a JSON array
        ({"tickers": ["JPM", 7]}, "tickers"),
        ({"tickers": ["JPM,MSFT"]}, "tickers"),  # one value per element
        ({"tickers": ["J P M"]}, "tickers"),
        ({"forms": [{"form": "8-K"}]}, "forms"),
        ({"min_priority": "urgent"}, "min_priority"),
        ({"min_priority": 3}, "min_priority"),
        ({"min_value_usd": -5}, "min_value_usd"),
        ({"min_value_usd": True}, "min_value_usd"),
        ({"min_value_usd": [1]}, "min_value_usd"),
        ({"transaction_codes": ["B"]}, "transaction_codes"),
        ({"insider_roles": ["ceo"]}, "insider_roles"),
    ],
)
def test_a_bad_field_is_refused_naming_it(fields: dict[str, Any], named: str) -> None:
    with pytest.raises(BadParameterError) as refused:
        parse_filter_fields(fields, analyzed=True)
    assert refused.value.parameter == named
    assert str(refused.value).startswith(f"{named}: ")


def test_on_the_raw_topic_the_analysis_filters_are_refused() -> None:
    for fields in ({"min_priority": "high"}, {"transaction_codes": ["P"]}):
        with pytest.raises(BadParameterError) as refused:
            parse_filter_fields(fields, analyzed=False)
        assert refused.value.parameter in fields
    assert parse_filter_fields({"tickers": ["JPM"]}, analyzed=False).tickers == {"JPM"}


_TOKENS = st.sampled_from(
    ["JPM", "brk-b", "8-K", "10-Q", "2.02", "5.02", "P", "s", "Z", "director", "other", "", " "]
) | st.text(max_size=8)
_LISTS = st.dictionaries(st.sampled_from(LIST_FILTERS), st.lists(_TOKENS, max_size=4), max_size=3)
_VALUES = st.fixed_dictionaries(
    {},
    optional={
        "min_priority": st.sampled_from([*PRIORITIES, "urgent", ""]),
        "min_value_usd": st.one_of(
            st.integers(0, 10**12), st.floats(0, 1e12), st.sampled_from(["1e6", "-1", "x"])
        ),
    },
)


def _outcome(parse: Any) -> Filter | str:
    try:
        chosen: Filter = parse()
    except BadParameterError as exc:
        return exc.parameter
    return chosen


@given(_LISTS, _VALUES, st.booleans())
def test_a_frame_and_the_same_query_parameters_agree(
    lists: dict[str, list[str]], values: dict[str, Any], analyzed: bool
) -> None:
    if any("," in token for tokens in lists.values() for token in tokens):
        return  # refused in a frame (one value per element), two values in a query
    fields: dict[str, Any] = {**lists, **values}
    query = {name: ",".join(tokens) for name, tokens in lists.items()}
    query |= {name: str(value) for name, value in values.items()}
    from_frame = _outcome(lambda: parse_filter_fields(fields, analyzed=analyzed))
    from_query = _outcome(lambda: parse_filter(query, analyzed=analyzed))
    assert from_frame == from_query
    frame = parse_client_frame(orjson.dumps({"type": "subscribe", **fields}).decode())
    assert frame == Subscribe(fields)
