"""Property-based tests of what the gateway reads from a client: `from`, cursors, filters,
`client_id`, and the frames a WebSocket client sends; and of what the facts filters match.

Each property: for any input, a value or `BadParameterError` naming the parameter, never another
exception (the gateway would answer 1011 or 500), within a second; and an accepted value means
what the protocol says (docs/gateway-protocol.md). Profiles: tests/hypothesis_profiles.py.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import BadParameterError
from services.common.filters import (
    INSIDER_ROLES,
    PRIORITIES,
    TRANSACTION_CODES,
    Filter,
    RecordFacts,
    parse_filter,
)
from services.common.positions import StartSpec, format_cursor, parse_cursor, parse_from
from services.gateway.stream.streams import parse_client_id
from services.gateway.transports.client_frames import Ack, Ping, Subscribe, parse_client_frame


def assert_names(refusal: BadParameterError, parameters: set[str]) -> None:
    assert refusal.parameter in parameters
    assert str(refusal).startswith(f"{refusal.parameter}: ")


# Text near the protocol's syntax, and anything at all.
_NEARLY = st.one_of(
    st.text(alphabet="0123456789:,-+TZ .eartlsomcdi\u00b2\u0661\n\x00", max_size=40),
    st.text(max_size=200),
    st.sampled_from(
        [
            "earliest",
            "latest",
            "committed",
            "0",
            "0:0",
            "1940-08-14T19:00:00-05:00",
            "9999-12-31T23:59:59Z",
            "2025-02-30",
            "0:1,0:2",
            "00:00",
            "1:" + "9" * 40,
        ]
    ),
)


@given(_NEARLY, st.one_of(st.none(), st.just("bot-1")))
def test_from_is_a_start_or_a_bad_parameter_naming_it(value: str, client_id: str | None) -> None:
    try:
        spec = parse_from(value, client_id=client_id)
    except BadParameterError as exc:
        refused = exc
    else:
        _assert_means_what_it_says(spec, client_id)
        return
    assert refused.parameter == "from"
    assert len(str(refused)) < 400  # the message quotes the value, cut short


def _assert_means_what_it_says(spec: StartSpec, client_id: str | None) -> None:
    if spec.kind == "offset":
        assert spec.offset is not None
        assert spec.offset >= 0
    if spec.kind == "cursor":
        assert spec.cursor is not None
        assert parse_cursor(format_cursor(spec.cursor)) == spec.cursor
    if spec.kind == "time":
        assert spec.time is not None
        assert spec.time.tzinfo is not None
    if spec.kind == "committed":
        assert client_id is not None


@given(st.dictionaries(st.integers(0, 2**31 - 1), st.integers(0, 2**63 - 1), min_size=1))
def test_a_cursor_reads_back_what_it_says(positions: dict[int, int]) -> None:
    assert parse_cursor(format_cursor(positions)) == positions
    assert parse_from(format_cursor(positions), client_id=None).cursor == positions


_FILTER_VALUES = st.one_of(
    st.text(alphabet="AZaz09.-/ ,²\n", max_size=60),
    st.text(max_size=100),
    # Near the facts filters' syntax: codes, roles, amounts.
    st.text(alphabet="PSAMFGBps, ", max_size=12),
    st.sampled_from(["officer,director", "ten_percent_owner", "Other", "ceo"]),
    st.text(alphabet="0123456789.eE+-naif ", max_size=30),
)
_FILTERS = ["tickers", "forms", "items", "min_priority"]
_FACTS_FILTERS = ["transaction_codes", "min_value_usd", "insider_roles"]


@given(
    st.dictionaries(st.sampled_from([*_FILTERS, *_FACTS_FILTERS, "other"]), _FILTER_VALUES),
    st.booleans(),
)
def test_filters_are_a_filter_or_a_bad_parameter_naming_it(
    params: dict[str, str], analyzed: bool
) -> None:
    try:
        chosen = parse_filter(params, analyzed=analyzed)
    except BadParameterError as exc:
        assert_names(exc, {*_FILTERS, *_FACTS_FILTERS})
        return
    for ticker in chosen.tickers:
        assert re.fullmatch(r"[A-Z0-9.\-]{1,12}", ticker)
    for item in chosen.items:
        assert re.fullmatch(r"[0-9]{1,2}\.[0-9]{2}", item)
    if chosen.min_priority is not None:
        assert params["min_priority"] in PRIORITIES
    assert chosen.transaction_codes <= set(TRANSACTION_CODES)
    assert chosen.insider_roles <= set(INSIDER_ROLES)
    if chosen.min_value_usd is not None:
        assert math.isfinite(chosen.min_value_usd)
        assert chosen.min_value_usd >= 0
    if not analyzed:  # a raw Filing has no ownership facts to match
        assert not chosen.transaction_codes
        assert not chosen.insider_roles
        assert chosen.min_value_usd is None


_TRANSACTIONS = st.lists(
    st.fixed_dictionaries(
        {
            "code": st.one_of(st.none(), st.sampled_from(TRANSACTION_CODES)),
            "value_usd": st.one_of(st.none(), st.floats(0, 1e10)),
        }
    ),
    max_size=6,
)
_OWNERS = st.lists(
    st.fixed_dictionaries({f"is_{role}": st.booleans() for role in INSIDER_ROLES}),
    max_size=3,
)


@given(
    st.one_of(st.none(), st.fixed_dictionaries({"transactions": _TRANSACTIONS, "owners": _OWNERS})),
    st.frozensets(st.sampled_from(TRANSACTION_CODES), max_size=3),
    st.one_of(st.none(), st.floats(0, 1e10)),
    st.frozensets(st.sampled_from(INSIDER_ROLES), max_size=2),
)
def test_the_facts_filters_match_as_the_protocol_says(
    ownership: dict[str, list[dict[str, Any]]] | None,
    codes: frozenset[str],
    min_value: float | None,
    roles: frozenset[str],
) -> None:
    """Computed once per record (RecordFacts), the match is what a scan of the record says."""
    record = {"filing": {"form_type": "4", "tickers": []}, "ownership": ownership}
    facts = RecordFacts.of(record)
    rows = (ownership or {}).get("transactions", [])
    owners = (ownership or {}).get("owners", [])
    expected = (
        (not codes or any(row["code"] in codes for row in rows))
        and (
            min_value is None
            or any(row["value_usd"] is not None and row["value_usd"] >= min_value for row in rows)
        )
        and (not roles or any(owner[f"is_{role}"] for owner in owners for role in roles))
    )
    chosen = Filter(transaction_codes=codes, min_value_usd=min_value, insider_roles=roles)
    assert chosen.matches(facts) == expected


@given(st.one_of(st.none(), st.text(max_size=120), st.from_regex(r"[A-Za-z0-9._-]{1,100}")))
def test_client_id_is_a_group_name_or_a_bad_parameter(value: str | None) -> None:
    try:
        client_id = parse_client_id(value)
    except BadParameterError as exc:
        assert_names(exc, {"client_id"})
        return
    if client_id is not None:
        # It names a Kafka consumer group: only the documented characters, nothing else.
        assert re.fullmatch(r"[A-Za-z0-9._-]{1,100}", client_id)


_INT64 = st.integers(-(2**63), 2**63 - 1)  # what JSON encoders write
_FRAMES = st.one_of(
    st.text(max_size=300),
    st.builds(
        lambda kind, cursor: orjson.dumps({"type": kind, "cursor": cursor}).decode(),
        st.sampled_from(["ack", "ping", "pong", "subscribe", ""]),
        st.one_of(st.none(), _INT64, st.text(max_size=30), st.lists(_INT64)),
    ),
    st.recursive(
        st.one_of(st.none(), st.booleans(), _INT64, st.text(max_size=10)),
        lambda children: st.lists(children) | st.dictionaries(st.text(max_size=5), children),
        max_leaves=20,
    ).map(lambda value: orjson.dumps(value).decode()),
)


@given(_FRAMES)
def test_a_client_frame_is_an_ack_a_ping_a_subscribe_or_a_bad_parameter(text: str) -> None:
    try:
        frame = parse_client_frame(text)
    except BadParameterError as exc:
        assert_names(exc, {"frame", "ack.cursor"})
        return
    decoded = orjson.loads(text)
    match frame:
        case Ping():
            assert decoded["type"] == "ping"
        case Ack(cursor):
            assert decoded == decoded | {"type": "ack", "cursor": cursor}
        case Subscribe(fields):
            assert decoded == {"type": "subscribe", **fields}


def test_a_time_before_1970_is_a_time_not_an_error() -> None:
    spec = parse_from("1940-08-14T19:00:00-05:00", client_id=None)
    assert spec.time == dt.datetime(1940, 8, 15, 0, 0, tzinfo=dt.UTC)
