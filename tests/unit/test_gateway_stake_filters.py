"""The stream's filters on schema v3's stakes (`min_stake_pct`, `stake_kind`) and `forms` with
the schedules' two spellings (docs/gateway-protocol.md), on records as the gateway serves them:
written with the schema and read back. Records without a stake match neither stake filter."""

from __future__ import annotations

from typing import Any

import pytest

from services.common.errors import BadParameterError
from services.common.filters import RecordFacts, parse_filter, parse_filter_fields
from services.common.forms import form_family, form_matches, form_spelling
from tests.support.filing_json import as_served
from tests.support.records import sample_analysis


def _stake(kind: str, percents: list[float | None]) -> dict[str, Any]:
    persons = [
        {"name": f"Holder {n}", "percent_of_class": percent, "aggregate_amount": 1000.0 * (n + 1)}
        for n, percent in enumerate(percents)
    ]
    stated = [p for p in percents if p is not None]
    return {
        "kind": kind,
        "source": "xml",
        "reporting_persons": persons,
        "percent_of_class": max(stated, default=None),
        "aggregate_amount": None,
    }


def _record(sequence: int, form_type: str, stake: dict[str, Any] | None) -> RecordFacts:
    record = sample_analysis(sequence, form_type=form_type, items=())
    record["stake"] = stake
    return RecordFacts.of(as_served(record))


_ACTIVE_12 = _record(1, "SCHEDULE 13D", _stake("active", [12.3, 12.3, 4.0]))
_PASSIVE_9 = _record(2, "SCHEDULE 13G/A", _stake("passive", [9.9]))
_OLD_ACTIVE_5 = _record(3, "SC 13D/A", _stake("active", [5.0]))
_NO_PERCENT = _record(4, "SC 13G", _stake("passive", [None]))
_NOT_A_STAKE = _record(5, "8-K", None)
_ALL = (_ACTIVE_12, _PASSIVE_9, _OLD_ACTIVE_5, _NO_PERCENT, _NOT_A_STAKE)


def _matching(query: dict[str, str]) -> list[RecordFacts]:
    chosen = parse_filter(query, analyzed=True)
    return [facts for facts in _ALL if chosen.matches(facts)]


def test_the_stake_is_read_once_from_the_record() -> None:
    assert (_ACTIVE_12.stake_percent, _ACTIVE_12.stake_kind) == (12.3, "active")
    assert (_NO_PERCENT.stake_percent, _NO_PERCENT.stake_kind) == (None, "passive")
    assert (_NOT_A_STAKE.stake_percent, _NOT_A_STAKE.stake_kind) == (None, None)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"min_stake_pct": "10"}, [_ACTIVE_12]),
        ({"min_stake_pct": "5"}, [_ACTIVE_12, _PASSIVE_9, _OLD_ACTIVE_5]),  # 5.0 is at least 5
        ({"min_stake_pct": "0"}, [_ACTIVE_12, _PASSIVE_9, _OLD_ACTIVE_5]),  # unstated: no match
        ({"stake_kind": "active"}, [_ACTIVE_12, _OLD_ACTIVE_5]),
        ({"stake_kind": "PASSIVE"}, [_PASSIVE_9, _NO_PERCENT]),
        ({"stake_kind": "passive", "min_stake_pct": "9.9"}, [_PASSIVE_9]),
    ],
)
def test_stake_filters(query: dict[str, str], expected: list[RecordFacts]) -> None:
    assert _matching(query) == expected


@pytest.mark.parametrize(
    ("forms", "expected"),
    [
        ("SCHEDULE 13D", [_ACTIVE_12, _OLD_ACTIVE_5]),  # the old SC 13D/A too
        ("sc 13d", [_ACTIVE_12, _OLD_ACTIVE_5]),
        ("SC 13D/A", [_OLD_ACTIVE_5]),  # an amendment names only amendments
        ("SCHEDULE 13G,8-K", [_PASSIVE_9, _NO_PERCENT, _NOT_A_STAKE]),
    ],
)
def test_forms_accept_either_spelling_of_the_schedules(
    forms: str, expected: list[RecordFacts]
) -> None:
    assert _matching({"forms": forms}) == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"min_stake_pct": "-1"}, "min_stake_pct: '-1' is not a non-negative number of percent"),
        ({"min_stake_pct": "101"}, "min_stake_pct: 101 is over 100 percent of a class"),
        ({"min_stake_pct": "nan"}, "min_stake_pct: 'nan' is not a non-negative number of percent"),
        ({"stake_kind": "hostile"}, "stake_kind: 'hostile' is not one of active, passive"),
    ],
)
def test_bad_values_are_refused_naming_the_parameter(query: dict[str, str], message: str) -> None:
    with pytest.raises(BadParameterError) as refused:
        parse_filter(query, analyzed=True)
    assert str(refused.value) == message


@pytest.mark.parametrize(("name", "value"), [("min_stake_pct", "5"), ("stake_kind", "active")])
def test_raw_filings_have_no_stake_to_filter_on(name: str, value: str) -> None:
    with pytest.raises(BadParameterError, match=f"^{name}: raw filings have no ownership facts"):
        parse_filter({name: value}, analyzed=False)


def test_a_subscribe_frame_takes_the_stake_filters_and_the_welcome_describes_them() -> None:
    chosen = parse_filter_fields(
        {"min_stake_pct": 10, "stake_kind": "active", "forms": ["SC 13D"]}, analyzed=True
    )
    assert chosen.describe() == {
        "forms": ["SCHEDULE 13D"],
        "min_stake_pct": 10.0,
        "stake_kind": "active",
    }
    with pytest.raises(BadParameterError, match=r"^min_stake_pct: must be a number"):
        parse_filter_fields({"min_stake_pct": True}, analyzed=True)


def test_one_spelling_of_form_names() -> None:
    assert form_spelling(" sc  13g/a ") == "SCHEDULE 13G/A"
    assert form_family("SC 13D/A") == "SCHEDULE 13D"
    assert form_family("10-K/A") == "10-K"
    assert form_matches("SC 13G", "SCHEDULE 13G")
    assert form_matches("8-K/A", "8-K")
    assert not form_matches("8-K", "8-K/A")
    assert not form_matches("SCHEDULE 13D", "SCHEDULE 13G")
